"""Quality, speed and memory of DP synthesis: synthcase's model against peers.

Run by hand (not in CI)::

    python benchmarks/bench_dp_quality.py --datasets ma2019 --epsilons 1 10
    python benchmarks/bench_dp_quality.py            # the full grid

Every tool gets the same prepared file: the 24 columns of a NIST CRC excerpt,
``N`` absent (its own category for MST/AIM, empty for pac-synth), numeric
columns binned with the declared bins of ``synthcase/data/ma2019.toml``.
Peers run in their own virtualenvs (``/work/pgm-venv`` for private-pgm's MST
and AIM, ``/work/bench-venv`` for pac-synth), each tool in a fresh process so
its peak memory is its own. Scores come from ``_quality.py``: the CRC feature
sets (PUMA x pairs, or pairs) and the 2-way and 3-way marginals of all columns.
"""

from __future__ import annotations

import argparse
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
    table = load_table(DATA / f"{dataset}.csv", build_read(config["read"]))
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


def dictionary_domains(limit: int = 40) -> dict[str, tuple[str, ...]]:
    """Values of the categorical columns as NIST's public data dictionary lists
    them: explicit codes, and ``min..max`` integer ranges of at most ``limit``
    values. ``N`` is the absent token, not a value. Nothing is read from records.
    """
    if os.environ.get("PUBLIC_DOMAINS", "dictionary") != "dictionary":
        return {}
    entries = json.loads((DATA / "data_dictionary.json").read_text())
    domains = {}
    for column, entry in entries.items():
        values = entry.get("values")
        if not isinstance(values, dict):
            continue
        codes = [k for k in values if k not in ("N", "min", "max")]
        low, high = values.get("min"), values.get("max")
        if low is not None and high is not None:
            if not (isinstance(low, int) and isinstance(high, int)):
                continue
            if high - low + 1 > limit:
                continue
            codes += [str(v) for v in range(low, high + 1)]
        if codes:
            domains[column] = tuple(dict.fromkeys(codes))
    return domains


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


def run_synthcase(dataset: str, epsilon: float, out: Path) -> dict[str, float]:
    """The whole synthcase pipeline in this process (model mode)."""
    from synthcase.measure import DPSettings, measure_marginals
    from synthcase.measure.model import ModelSettings, measure_model
    from synthcase.prepare import EncodedTable
    from synthcase.synthesize.model_based import fit_model, sample_model

    frame = pd.read_csv(WORK / dataset / "codes.csv")
    categories = json.loads((WORK / dataset / "categories.json").read_text())
    codes = frame.to_numpy().astype(np.int32)
    for j, labels in enumerate(categories):
        codes[codes[:, j] == len(labels), j] = -1
    table = EncodedTable(
        tuple(frame.columns), tuple(tuple(c) for c in categories), codes
    )
    from synthcase.cli.config import build_read

    config = tomllib.loads(
        (HERE.parent / "src/synthcase/data/ma2019.toml").read_text(encoding="utf-8")
    )
    public = dictionary_domains()
    public.update(
        {spec.column: spec.labels() for spec in build_read(config["read"]).bins}
    )
    share = float(os.environ.get("MODEL_SHARE", "0.9"))
    length = int(os.environ.get("REPORTING_LENGTH", "1"))
    start = time.perf_counter()
    cpu_start = _cpu()
    release = measure_marginals(
        table,
        DPSettings(
            epsilon=epsilon, delta=DELTA, reporting_length=length, model_share=share
        ),
    )
    measured = time.perf_counter()
    measurements = measure_model(
        table,
        release.aggregates,
        release.accountant,
        rho=release.accountant.plan.rho_model,
        settings=ModelSettings(),
        public_domains=public,
    )
    release.accountant.check()
    fit_start = time.perf_counter()
    fit_cpu = _cpu()
    model = fit_model(measurements)
    synth = sample_model(model, table.n_records, seed=0)
    end = time.perf_counter()
    end_cpu = _cpu()
    synth_codes = labels_to_codes(synth, list(frame.columns), categories)
    pd.DataFrame(synth_codes, columns=frame.columns).to_csv(out, index=False)
    return {
        "seconds": end - start,
        "fit_sample_seconds": end - fit_start,
        "cpu_seconds": end_cpu - cpu_start,
        "fit_sample_cpu_seconds": end_cpu - fit_cpu,
        "aggregates_seconds": measured - start,
        "model_measure_seconds": fit_start - measured,
        "peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_tool(tool: str, dataset: str, epsilon: float) -> dict[str, float]:
    """Run one tool in a fresh process; return its timing and where it wrote."""
    folder = WORK / dataset
    out = folder / f"{tool}-eps{epsilon:g}.csv"
    if tool == "synthcase":
        cmd = [sys.executable, __file__, "--one", dataset, str(epsilon), str(out)]
    elif tool in ("mst", "aim"):
        cmd = [
            PGM_PYTHON,
            str(HERE / "_peer_pgm.py"),
            tool,
            str(folder / "codes.csv"),
            str(folder / "domain.json"),
            str(epsilon),
            str(DELTA),
            str(out),
        ]
    else:
        cmd = [
            PACSYNTH_PYTHON,
            str(HERE / "_peer_pacsynth.py"),
            str(folder / "labels.csv"),
            str(epsilon),
            str(DELTA),
            str(out),
        ]
    wall = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
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


def table(paths: list[str]) -> str:
    """Markdown table of result lines (the last line per tool, file, epsilon)."""
    rows: dict[tuple[str, str, float], dict[str, float]] = {}
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            rows[(row["dataset"], row["epsilon"], row["tool"])] = row
    head = (
        "| dataset | eps | tool | demographic | family | industry | 2-way | 3-way "
        "| seconds (cpu) | fit+sample s (cpu) | peak MiB | full records % (real) |"
    )
    lines = [head, "|" + " --- |" * 12]
    for key in sorted(rows):
        r = rows[key]
        fit = r.get("fit_sample_seconds")
        fit_cpu = r.get("fit_sample_cpu_seconds")
        fit_text = f"{fit:.1f} ({fit_cpu:.1f})" if fit is not None else "-"
        lines.append(
            f"| {r['dataset']} | {r['epsilon']:g} | {r['tool']} "
            f"| {r['demographic']:.0f} | {r['family']:.0f} | {r['industry']:.0f} "
            f"| {r['all-2way']:.0f} | {r['all-3way']:.0f} "
            f"| {r['seconds']:.0f} ({r.get('cpu_seconds', float('nan')):.0f}) "
            f"| {fit_text} | {r['peak_bytes'] / 2**20:.0f} "
            f"| {100 * r['full_share']:.2f} ({100 * r['real_full_share']:.2f}) |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", nargs="+", default=["ma2019", "tx2019", "national2019"]
    )
    parser.add_argument("--epsilons", nargs="+", type=float, default=[1.0, 5.0, 10.0])
    parser.add_argument(
        "--tools", nargs="+", default=["synthcase", "mst", "aim", "pacsynth"]
    )
    parser.add_argument("--results", default=str(WORK / "results.jsonl"))
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--table", nargs="+", help="print result files as a table")
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return
    if args.one:
        dataset, epsilon, out = args.one
        print(json.dumps(run_synthcase(dataset, float(epsilon), Path(out))))
        return
    for dataset in args.datasets:
        frame, sizes = prepare(dataset)
        real = frame.to_numpy().astype(np.int64)
        columns = list(frame.columns)
        size_list = [sizes[c] for c in columns]
        real_full = float(np.mean(np.all(real != np.array(size_list) - 1, axis=1)))
        for epsilon in args.epsilons:
            for tool in args.tools:
                try:
                    timing = run_tool(tool, dataset, epsilon)
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
