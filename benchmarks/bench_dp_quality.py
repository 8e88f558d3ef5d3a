"""Quality, speed and memory of DP synthesis: synthcase's model against peers.

Run by hand (not in CI)::

    python benchmarks/bench_dp_quality.py --datasets ma2019 --epsilons 1 10
    python benchmarks/bench_dp_quality.py            # the full grid

Every tool gets the same records: the 24 columns of a NIST CRC excerpt, ``N``
absent (its own category for MST/AIM, empty for pac-synth), numeric columns
binned with the declared bins of ``synthcase/data/ma2019.toml``. synthcase
reads the file as a user would, with that config (which also declares the
data dictionary's value lists), in two settings: ``synthcase`` is the default
release (counts up to length 3 and records, half the budget each) and
``synthcase-records`` puts 90 % of the budget into the model and publishes
one-way counts only. MST and AIM get each column's domain as observed in the
data. A synthetic value outside the observed domain scores as absent.
Peers run in their own virtualenvs (``/work/pgm-venv`` for private-pgm's MST
and AIM, ``/work/bench-venv`` for pac-synth), each tool in a fresh process so
its peak memory is its own. Scores come from ``_quality.py``: the CRC feature
sets (PUMA x pairs, or pairs) and the 2-way and 3-way marginals of all columns.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _quality  # noqa: E402

DATA = Path("/work/shared/data/nist-dce")
WORK = Path(os.environ.get("BENCH_WORK", "/tmp/synthcase-bench"))
PGM_PYTHON = "/work/pgm-venv/bin/python"
# private-pgm before its JAX rewrite (numpy back end), for AIM: see
# pgm_compat/README.md.
PGM_OLD = Path(os.environ.get("PGM_OLD", "/work/pgm-old"))
PGM_OLD_PYTHON = "/work/pgm-old-venv/bin/python"
PACSYNTH_PYTHON = "/work/bench-venv/bin/python"
DELTA = 1e-5


def prepare(dataset: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """Write the prepared file in the forms each tool reads; return the codes."""
    from synthcase.cli.config import build_read
    from synthcase.prepare import load_table

    folder = WORK / dataset
    folder.mkdir(parents=True, exist_ok=True)
    config = tomllib.loads(
        (HERE.parent / "src/synthcase/data/ma2019.toml").read_text(encoding="utf-8")
    )
    # Peers get each column's domain as the records hold it, as private-pgm's
    # own examples do (not private, and in their favour); the data
    # dictionary's value lists are synthcase's input only.
    read_config = {k: v for k, v in config["read"].items() if k != "values"}
    table = load_table(DATA / f"{dataset}.csv", build_read(read_config))
    codes = table.codes.astype(np.int64).copy()
    sizes = {}
    for j, column in enumerate(table.columns):
        absent = len(table.categories[j])
        codes[codes[:, j] < 0, j] = absent
        sizes[column] = absent + 1
    frame = pd.DataFrame(codes, columns=list(table.columns))
    frame.to_csv(folder / "codes.csv", index=False)
    (folder / "domain.json").write_text(json.dumps(sizes))
    labels = pd.DataFrame(
        {
            c: np.array([*table.categories[j], ""], dtype=object)[codes[:, j]]
            for j, c in enumerate(table.columns)
        }
    )
    labels.to_csv(folder / "labels.csv", index=False)
    (folder / "categories.json").write_text(json.dumps(table.categories))
    return frame, sizes


def labels_to_codes(
    synth: pd.DataFrame, columns: list[str], categories: list[list[str]]
) -> np.ndarray:
    """Code synthetic labels like the prepared file; absent last."""
    out = np.empty((len(synth), len(columns)), dtype=np.int64)
    for j, column in enumerate(columns):
        lookup = {label: i for i, label in enumerate(categories[j])}
        cells = synth[column].astype(object).where(synth[column].notna(), None)
        out[:, j] = [lookup.get(v, len(categories[j])) for v in cells]
    return out


SYNTHCASE_VARIANTS = {
    # The default release: counts of up to 3 values and records, half each.
    "synthcase": {"reporting_length": 3, "model_share": 0.5},
    # Records first: one-way counts only, 90 % of the budget for the model.
    "synthcase-records": {"reporting_length": 1, "model_share": 0.9},
}


def run_synthcase(
    dataset: str, epsilon: float, out: Path, variant: str
) -> dict[str, float]:
    """synthcase's DP model mode as a user runs it, in this process.

    Reads the file with ``synthcase/data/ma2019.toml`` (declared bins and the
    data dictionary's value lists) and fits :class:`synthcase.Synthesizer`,
    exactly what ``synthcase run FILE --config ma2019.toml --epsilon E
    --delta 1e-5 --reporting-length R --model-share S`` does before writing.
    """
    import synthcase as sc
    from synthcase.cli.config import build_read

    config = tomllib.loads(
        (HERE.parent / "src/synthcase/data/ma2019.toml").read_text(encoding="utf-8")
    )
    read = build_read(config["read"])
    table = sc.load_table(DATA / f"{dataset}.csv", read)
    settings = SYNTHCASE_VARIANTS[variant]
    start = time.perf_counter()
    cpu_start = _cpu()
    synth = sc.Synthesizer(
        sc.DPSettings(epsilon=epsilon, delta=DELTA, **settings),  # type: ignore[arg-type]
        sc.SynthesisSettings(seed=0),
    )
    synth.fit(table, read)
    fitted = time.perf_counter()
    records = synth.sample(table.n_records, seed=0)
    end = time.perf_counter()
    end_cpu = _cpu()
    accountant = synth.measured.accountant
    categories = json.loads((WORK / dataset / "categories.json").read_text())
    synth_codes = labels_to_codes(records, list(table.columns), categories)
    pd.DataFrame(synth_codes, columns=list(table.columns)).to_csv(out, index=False)
    return {
        "seconds": end - start,
        "cpu_seconds": end_cpu - cpu_start,
        "fit_seconds": fitted - start,
        "sample_seconds": end - fitted,
        "epsilon_spent": accountant.epsilon,
        "delta_spent": accountant.delta,
        "peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        **settings,
    }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_tool(tool: str, dataset: str, epsilon: float) -> dict[str, float]:
    """Run one tool in a fresh process; return its timing and where it wrote."""
    folder = WORK / dataset
    out = folder / f"{tool}-eps{epsilon:g}.csv"
    env = None
    if tool in SYNTHCASE_VARIANTS:
        cmd = [sys.executable, __file__, "--one", tool, dataset, str(epsilon), str(out)]
    elif tool in ("mst", "aim", "aim-numpy", "mst-numpy"):
        numpy_version = tool.endswith("-numpy")
        if numpy_version:
            env = {
                **os.environ,
                "PYTHONPATH": f"{HERE / 'pgm_compat'}:{PGM_OLD}",
                "PGM_MECHANISMS": str(PGM_OLD / "mechanisms"),
                "PGM_SRC": str(PGM_OLD / "src"),
                "OMP_NUM_THREADS": "1",
                "OPENBLAS_NUM_THREADS": "1",
            }
        cmd = [
            PGM_OLD_PYTHON if numpy_version else PGM_PYTHON,
            str(HERE / "_peer_pgm.py"),
            tool.removesuffix("-numpy"),
            str(folder / "codes.csv"),
            str(folder / "domain.json"),
            str(epsilon),
            str(DELTA),
            str(out),
        ]
    elif tool == "pacsynth":
        cmd = [
            PACSYNTH_PYTHON,
            str(HERE / "_peer_pacsynth.py"),
            str(folder / "labels.csv"),
            str(epsilon),
            str(DELTA),
            str(out),
        ]
    else:
        raise RuntimeError(f"unknown tool {tool!r}")
    wall = time.perf_counter()
    try:
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=float(os.environ["PEER_TIMEOUT"])
            if "PEER_TIMEOUT" in os.environ
            else None,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"{tool} did not finish on {dataset} at epsilon {epsilon:g} within "
            f"PEER_TIMEOUT={os.environ['PEER_TIMEOUT']} s"
        ) from None
    wall = time.perf_counter() - wall
    if done.returncode != 0:
        raise RuntimeError(f"{tool} failed on {dataset}:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = wall
    result["output"] = str(out)
    return result


def synthetic_codes(
    tool: str, path: Path, dataset: str, columns: list[str]
) -> np.ndarray:
    """Read a tool's output back onto the prepared codes."""
    if tool == "pacsynth":
        categories = json.loads((WORK / dataset / "categories.json").read_text())
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame = frame.replace("", None)
        return labels_to_codes(frame, columns, categories)
    return pd.read_csv(path)[columns].to_numpy().astype(np.int64)


SCORES = ("demographic", "family", "industry", "all-2way", "all-3way")


def table(paths: list[str], runs: int = 3) -> str:
    """Markdown table of result lines: per tool, file and epsilon, the mean of
    the last ``runs`` lines (scores as mean, with the spread of repeated runs
    as +- one standard deviation on the 3-way score).
    """
    rows: dict[tuple[str, float, str], list[dict[str, float]]] = {}
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            key = (row["dataset"], row["epsilon"], row["tool"])
            rows.setdefault(key, []).append(row)
    head = (
        "| data | epsilon | tool | runs | demographic | family | industry | 2-way "
        "| 3-way | time s (CPU) | peak MiB | complete records % (real) |"
    )
    lines = [head, "|" + " --- |" * 12]
    for key in sorted(rows):
        group = rows[key][-runs:]

        def mean(name: str, group: list[dict[str, float]] = group) -> float:
            return float(np.mean([r.get(name, float("nan")) for r in group]))

        first = group[0]
        three = [r["all-3way"] for r in group]
        spread = f" ± {np.std(three, ddof=1):.0f}" if len(group) > 1 else ""
        lines.append(
            f"| {first['dataset']} | {first['epsilon']:g} | {first['tool']} "
            f"| {len(group)} "
            + "".join(f"| {mean(name):.0f} " for name in SCORES[:4])
            + f"| {mean('all-3way'):.0f}{spread} "
            f"| {mean('seconds'):.0f} ({mean('cpu_seconds'):.0f}) "
            f"| {max(r['peak_bytes'] for r in group) / 2**20:.0f} "
            f"| {100 * mean('full_share'):.2f} ({100 * first['real_full_share']:.2f}) |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", nargs="+", default=["ma2019", "tx2019", "national2019"]
    )
    parser.add_argument("--epsilons", nargs="+", type=float, default=[1.0, 5.0, 10.0])
    parser.add_argument(
        "--tools",
        nargs="+",
        default=[*SYNTHCASE_VARIANTS, "mst", "aim", "pacsynth"],
    )
    parser.add_argument("--results", default=str(WORK / "results.jsonl"))
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each tool per cell"
    )
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--table", nargs="+", help="print result files as a table")
    parser.add_argument(
        "--score",
        nargs=4,
        metavar=("TOOL", "DATASET", "EPSILON", "LOG"),
        help="score a peer run started by hand: LOG holds its output, whose "
        "last line is the peer's JSON (seconds, CPU, peak); the records are "
        "read from WORK/DATASET/TOOL-epsEPSILON.csv",
    )
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return
    if args.one:
        variant, dataset, epsilon, out = args.one
        print(json.dumps(run_synthcase(dataset, float(epsilon), Path(out), variant)))
        return
    if args.score:
        tool, dataset, epsilon, log = args.score
        lines = Path(log).read_text(encoding="utf-8").splitlines()
        timing = json.loads(next(x for x in reversed(lines) if x.startswith("{")))
        timing["output"] = str(WORK / dataset / f"{tool}-eps{float(epsilon):g}.csv")
        runs = {(dataset, float(epsilon), tool): timing}
        args.datasets, args.epsilons, args.tools, args.repeat = [dataset], [], [], 0
    else:
        runs = {}
    for dataset in args.datasets:
        frame, sizes = prepare(dataset)
        real = frame.to_numpy().astype(np.int64)
        columns = list(frame.columns)
        size_list = [sizes[c] for c in columns]
        real_full = float(np.mean(np.all(real != np.array(size_list) - 1, axis=1)))
        planned = [
            (epsilon, tool, None)
            for epsilon, tool, _ in itertools.product(
                args.epsilons, args.tools, range(args.repeat)
            )
        ] + [(e, t, timing) for (d, e, t), timing in runs.items() if d == dataset]
        for epsilon, tool, given in planned:
            try:
                timing = given or run_tool(tool, dataset, epsilon)
            except RuntimeError as err:
                print(err, file=sys.stderr)
                continue
            synth = synthetic_codes(tool, Path(timing["output"]), dataset, columns)
            full = float(np.mean(np.all(synth != np.array(size_list) - 1, axis=1)))
            row = {
                "tool": tool,
                "dataset": dataset,
                "epsilon": epsilon,
                **_quality.scores(real, synth, columns, size_list),
                "records": int(synth.shape[0]),
                "full_share": full,
                "real_full_share": real_full,
                **{k: v for k, v in timing.items() if k != "output"},
            }
            print(json.dumps(row), flush=True)
            with open(args.results, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
