"""Foundation benchmark: synthcase against pac-synth, DP aggregate-seeded synthesis.

pac-synth (PyPI) is the Rust engine of Microsoft's Synthetic Data Showcase.
Both tools get the same prepared input (see ``_common.py``): the 24 columns of
a NIST excerpt, ``N`` absent, numeric columns binned with the declared edges
of ``synthcase/data/ma2019.toml``, ``DENSITY`` kept as a category. Both run at
their default settings (reporting length 3, delta ``1 / (n ln n)`` of the
protected record count) apart from what the shared input demands, and each
samples as many records as its own protected record count.

Each (dataset, epsilon, tool, repetition) runs in a fresh process, so wall
time and peak memory are that tool's own; pac-synth runs from its own
virtualenv. The parent, in ``/work/venv``, then scores the synthetic records
and the released aggregates against the exact counts of the prepared data.

Run by hand, never in CI (see benchmarks/README.md)::

    /work/venv/bin/python benchmarks/bench_dp_vs_pacsynth.py
    /work/venv/bin/python benchmarks/bench_dp_vs_pacsynth.py \
        --datasets ma2019 --epsilons 4 --repetitions 1

This file is also the worker both tools run in (``_worker``), so its top level
imports only the standard library: the pac-synth interpreter has neither
synthcase nor ``_common``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TOOLS = ("synthcase", "pac-synth")
DEFAULT_PACSYNTH_PYTHON = "/work/bench-venv/bin/python"
REPORTING_LENGTH = 3


# --- worker: one tool, one fit and sample, in its own process ------------------


def _worker(args: argparse.Namespace) -> None:
    import pandas as pd

    frame = pd.read_csv(args.input, dtype=str, keep_default_na=False)
    rss_before = _peak_rss_bytes()
    run = _run_synthcase if args.tool == "synthcase" else _run_pacsynth
    result = run(frame, args.epsilon, args.seed)

    out = Path(args.run_dir)
    result.pop("synthetic").to_csv(
        out / "synthetic.csv", index=False, na_rep="", lineterminator="\n"
    )
    with (out / "aggregates.tsv").open("w", encoding="utf-8") as handle:
        # One line per released combination: count, then column and label
        # pairs, all tab-separated (labels of the prepared data hold no tab).
        for pairs, count in result.pop("aggregates"):
            cells = [str(count)] + [part for pair in pairs for part in pair]
            handle.write("\t".join(cells) + "\n")
    result["rss_before_fit_bytes"] = rss_before
    result["cpu_count"] = os.cpu_count()
    (out / "run.json").write_text(json.dumps(result, indent=2), encoding="utf-8")


def _peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (``VmHWM``).

    ``ru_maxrss`` is not used: Linux carries the parent's high-water mark
    across ``exec`` into the child's ``ru_maxrss``, so a worker started by a
    parent that has grown would report the parent's peak. ``VmHWM`` belongs
    to the worker's own address space alone.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    # Without /proc (not Linux), fall back to ru_maxrss (bytes on macOS).
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _run_synthcase(frame: Any, epsilon: float, seed: int) -> dict[str, Any]:
    import synthcase
    from synthcase import __version__
    from synthcase.measure.settings import DPSettings
    from synthcase.pipeline import Synthesizer
    from synthcase.prepare import ReadOptions

    start = time.perf_counter()
    synth = Synthesizer(DPSettings(epsilon=epsilon, reporting_length=REPORTING_LENGTH))
    # The prepared input has absent cells empty and no numeric column left to
    # bin, so the default read options take it as it is.
    synth.fit(frame, ReadOptions())
    fitted = time.perf_counter()
    synthetic = synth.sample(seed=seed)
    done = time.perf_counter()
    # Before the aggregates are exported, which only the benchmark needs.
    peak = _peak_rss_bytes()

    aggregates = synth.aggregates
    column_of = aggregates.index.value_column
    offsets = aggregates.index.offsets
    released = []
    for ids, counts in zip(aggregates.combinations, aggregates.counts, strict=True):
        for row, count in zip(ids.tolist(), counts.tolist(), strict=True):
            pairs = [
                (
                    aggregates.columns[column_of[v]],
                    aggregates.categories[column_of[v]][v - offsets[column_of[v]]],
                )
                for v in row
            ]
            released.append((pairs, int(count)))
    privacy = synth.measured.privacy()
    return {
        "tool": "synthcase",
        "version": __version__,
        "source": str(Path(synthcase.__file__).resolve().parent),
        "epsilon": epsilon,
        "seed": seed,
        "fit_s": fitted - start,
        "sample_s": done - fitted,
        "total_s": done - start,
        "peak_rss_bytes": peak,
        "protected_record_count": int(aggregates.record_count),
        # The delta the budget was planned for, 1 / (n ln n) of the protected
        # count; the accountant may end up spending a little less.
        "delta": privacy.get("delta_target", privacy.get("delta")),
        "delta_spent": privacy.get("delta"),
        "synthetic_records": len(synthetic),
        "synthetic": synthetic,
        "aggregates": released,
    }


def _run_pacsynth(frame: Any, epsilon: float, seed: int) -> dict[str, Any]:
    from importlib.metadata import version

    import pacsynth

    start = time.perf_counter()
    # pac-synth ignores "0" unless its column is declared to hold sensitive
    # zeros; synthcase counts "0" as a value, so declaring every column keeps
    # the two inputs the same.
    dataset = pacsynth.Dataset.from_data_frame(frame, sensitive_zeros=list(frame))
    parameters = (
        pacsynth.DpAggregateSeededParametersBuilder()
        .epsilon(epsilon)
        .reporting_length(REPORTING_LENGTH)
        .build()
    )
    synth = pacsynth.DpAggregateSeededSynthesizer(parameters)
    synth.fit(dataset)
    fitted = time.perf_counter()
    # Without a target, sample() keeps drawing until the released 1-counts are
    # used up, which on this data gives about 2.6 times as many records as
    # the input. synthcase samples its protected record count, so pac-synth
    # is asked for its own protected count, the same rule.
    protected = synth.get_dp_number_of_records()
    raw = synth.sample(protected)
    synthetic = pacsynth.Dataset.raw_data_to_data_frame(raw)
    done = time.perf_counter()
    # Before the aggregates are exported, which only the benchmark needs.
    peak = _peak_rss_bytes()

    released = []
    for text, count in synth.get_dp_aggregates("\t").items():
        pairs = [tuple(item.split(":", 1)) for item in text.split("\t")]
        released.append((pairs, int(count)))
    n = protected
    return {
        "tool": "pac-synth",
        "version": version("pac-synth"),
        "epsilon": epsilon,
        # pac-synth takes no seed; its sampling is not reproducible.
        "seed": None,
        "fit_s": fitted - start,
        "sample_s": done - fitted,
        "total_s": done - start,
        "peak_rss_bytes": peak,
        "protected_record_count": int(n),
        # pac-synth's documented default, 1 / (n ln n) of the protected count.
        "delta": 1.0 / (n * math.log(n)) if n > 1 else None,
        "parameters": json.loads(synth.parameters.to_json_str()),
        "synthetic_records": len(synthetic),
        "synthetic": synthetic,
        "aggregates": released,
    }


# --- parent: prepare, run, score ---------------------------------------------


def _prepare(datasets: Sequence[str], work: Path) -> dict[str, Path]:
    import _common

    paths = {}
    for name in datasets:
        path = work / "prepared" / f"{name}.csv"
        _common.write_prepared(_common.prepare_nist(name), path)
        paths[name] = path
    return paths


def _run_one(
    args: argparse.Namespace,
    prepared: Path,
    run_dir: Path,
    tool: str,
    epsilon: float,
    seed: int,
) -> dict[str, Any]:
    import _common

    python = sys.executable if tool == "synthcase" else args.pacsynth_python
    command = [
        python,
        str(Path(__file__).resolve()),
        "_worker",
        "--tool",
        tool,
        "--input",
        str(prepared),
        "--epsilon",
        repr(epsilon),
        "--seed",
        str(seed),
        "--run-dir",
        str(run_dir),
    ]
    run_dir.mkdir(parents=True, exist_ok=True)
    usage = _common.run_measured(command, run_dir / "worker.log", args.timeout)
    if usage.returncode != 0:
        log = (run_dir / "worker.log").read_text(encoding="utf-8", errors="replace")
        raise SystemExit(
            f"{tool} failed (exit {usage.returncode}) on {prepared.name} "
            f"epsilon {epsilon}; its log ends:\n{log[-3000:]}"
        )
    result: dict[str, Any] = json.loads((run_dir / "run.json").read_text())
    result["process"] = usage.__dict__
    return result


def _score(prepared: Path, run_dir: Path) -> dict[str, Any]:
    """Errors of one run's synthetic records and aggregates, and full shares."""
    import _common

    sensitive = _common.read_prepared(prepared)
    synthetic = _common.read_prepared(run_dir / "synthetic.csv")
    synthetic = synthetic.reindex(columns=sensitive.columns, fill_value="")
    released = _read_aggregates(run_dir / "aggregates.tsv")
    extra: dict[str, set[str]] = {}
    for pairs, _ in released:
        for column, label in pairs:
            extra.setdefault(column, set()).add(label)

    true_table, syn_table = _common.shared_encoding([sensitive, synthetic], extra)
    spaces = _common.combination_spaces(true_table, REPORTING_LENGTH)
    true_counts = _common.exact_counts(true_table, spaces)
    syn_counts = _common.exact_counts(syn_table, spaces)
    n = len(sensitive)

    scores: dict[str, Any] = {
        "sensitive_records": n,
        "full_share_synthetic": _common.full_record_share(synthetic),
        "full_share_sensitive": _common.full_record_share(sensitive),
    }
    for k, space in enumerate(spaces, start=1):
        error = _common.count_error(true_counts[k - 1], syn_counts[k - 1])
        scores[f"mae{k}"] = error.mae
        scores[f"mae{k}_per_n"] = error.mae / n
        scores[f"union{k}"] = error.combinations
        of_length = [(p, c) for p, c in released if len(p) == k]
        keys = _common.combination_keys(true_table, space, [p for p, _ in of_length])
        aggregate = _common.sorted_counts(keys, [c for _, c in of_length])
        agg_error = _common.count_error(true_counts[k - 1], aggregate)
        scores[f"aggregates_mae{k}"] = agg_error.mae
        scores[f"aggregates_released{k}"] = len(of_length)
    return scores


def _read_aggregates(path: Path) -> list[tuple[list[tuple[str, str]], int]]:
    released = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            cells = line.rstrip("\n").split("\t")
            pairs = list(zip(cells[1::2], cells[2::2], strict=True))
            released.append((pairs, int(cells[0])))
    return released


# --- summary ------------------------------------------------------------------


def _summarise(runs: list[dict[str, Any]]) -> str:
    import _common

    groups: dict[tuple[str, float, str], list[dict[str, Any]]] = {}
    for run in runs:
        key = (run["dataset"], run["epsilon"], run["tool"])
        groups.setdefault(key, []).append(run)

    def values(group: list[dict[str, Any]], field: str, scale: float = 1.0) -> list:
        return [float(run[field]) * scale for run in group]

    main_rows, count_rows, process_rows = [], [], []
    for (dataset, epsilon, tool), group in groups.items():
        mib = 1 / 2**20
        syn = statistics.fmean(values(group, "full_share_synthetic"))
        real = group[0]["full_share_sensitive"]
        main_rows.append(
            [
                dataset,
                f"{epsilon:g}",
                tool,
                _common.mean_sd(values(group, "total_s")),
                _common.mean_sd(values(group, "peak_rss_bytes", mib), 0),
                *(
                    _common.mean_sd(values(group, f"mae{k}_per_n", 1e3), 2)
                    for k in range(1, REPORTING_LENGTH + 1)
                ),
                f"{100 * syn:.2f}% / {100 * real:.2f}%",
            ]
        )
        count_rows.append(
            [
                dataset,
                f"{epsilon:g}",
                tool,
                _common.mean_sd(values(group, "synthetic_records"), 0),
                *(
                    _common.mean_sd(values(group, f"mae{k}"), 2)
                    for k in range(1, REPORTING_LENGTH + 1)
                ),
                *(
                    _common.mean_sd(values(group, f"aggregates_mae{k}"), 2)
                    for k in range(1, REPORTING_LENGTH + 1)
                ),
                " / ".join(
                    _common.mean_sd(values(group, f"aggregates_released{k}"), 0)
                    for k in range(1, REPORTING_LENGTH + 1)
                ),
            ]
        )
        process_rows.append(
            [
                dataset,
                f"{epsilon:g}",
                tool,
                _common.mean_sd(values(group, "fit_s")),
                _common.mean_sd(values(group, "sample_s")),
                _common.mean_sd(values(group, "cpu_s")),
                _common.mean_sd(values(group, "wall_s")),
                _common.mean_sd(values(group, "rss_before_fit_bytes", mib), 0),
                _common.mean_sd(values(group, "load_before")),
            ]
        )

    first = runs[0]
    parts = [
        "# synthcase vs pac-synth: DP aggregate-seeded synthesis",
        "",
        f"synthcase {_tool_version(runs, 'synthcase')} (from "
        f"{next((r['source'] for r in runs if 'source' in r), 'n/a')}), pac-synth "
        f"{_tool_version(runs, 'pac-synth')}; reporting length {REPORTING_LENGTH}; "
        f"repetitions per row: {max(len(g) for g in groups.values())} (cells "
        f"are mean ± sample sd); {first['cpu_count']} CPUs.",
        "",
        "Time is fit plus sample inside the worker; peak is the worker process's "
        "peak resident memory (VmHWM), imports and input frame included. "
        "MAE k is the mean |synthetic - true| count over the "
        "combinations of length k present in the sensitive or the synthetic "
        "data, divided by the sensitive record count and shown x1e-3. "
        "The full-record share is synthetic / real.",
        "",
        _common.markdown_table(
            [
                "dataset",
                "epsilon",
                "tool",
                "time s",
                "peak MiB",
                "MAE1 (x1e-3 of n)",
                "MAE2 (x1e-3 of n)",
                "MAE3 (x1e-3 of n)",
                "full-record share syn/real",
            ],
            main_rows,
        ),
        "",
        "## Errors in records (not divided by n) and of the released aggregates",
        "",
        "Aggregates MAE k: mean |released - true| over the combinations of "
        "length k released or present in the sensitive data (0 when not "
        "released). Released: number of combinations of length 1 / 2 / 3.",
        "",
        _common.markdown_table(
            [
                "dataset",
                "epsilon",
                "tool",
                "synthetic records",
                "MAE1",
                "MAE2",
                "MAE3",
                "aggregates MAE1",
                "aggregates MAE2",
                "aggregates MAE3",
                "released 1 / 2 / 3",
            ],
            count_rows,
        ),
        "",
        "## Where the time goes",
        "",
        "Process wall includes interpreter start, imports and reading the "
        "prepared CSV; CPU is user + system of the whole process (pac-synth "
        "uses one thread per core by default). Load is the machine's one-minute "
        "load average when the run started.",
        "",
        _common.markdown_table(
            [
                "dataset",
                "epsilon",
                "tool",
                "fit s",
                "sample s",
                "process CPU s",
                "process wall s",
                "RSS before fit MiB",
                "load",
            ],
            process_rows,
        ),
        "",
    ]
    return "\n".join(parts)


def _tool_version(runs: list[dict[str, Any]], tool: str) -> str:
    return next((str(r["version"]) for r in runs if r["tool"] == tool), "n/a")


def _flatten(
    dataset: str, result: dict[str, Any], scores: dict[str, Any]
) -> dict[str, Any]:
    process = result.pop("process")
    return {"dataset": dataset, **result, **process, **scores}


def _bench(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(HERE))
    work = Path(args.work)
    prepared = _prepare(args.datasets, work)
    runs_file = work / "dp_vs_pacsynth_runs.jsonl"
    done: dict[str, dict[str, Any]] = {}
    if args.resume and runs_file.is_file():
        for line in runs_file.read_text(encoding="utf-8").splitlines():
            run = json.loads(line)
            done[run["run_id"]] = run
    elif runs_file.exists():
        runs_file.unlink()

    runs = []
    # Repetitions outermost, tools innermost: a slow spell of the machine
    # then touches every cell a little rather than one cell a lot.
    for rep in range(1, args.repetitions + 1):
        for dataset in args.datasets:
            for epsilon in args.epsilons:
                for tool in args.tools:
                    run_id = f"{dataset}_eps{epsilon:g}_{tool}_rep{rep}"
                    if run_id in done:
                        runs.append(done[run_id])
                        continue
                    print(f"running {run_id} ...", flush=True)
                    run_dir = work / "runs" / run_id
                    result = _run_one(
                        args, prepared[dataset], run_dir, tool, epsilon, rep
                    )
                    scores = _score(prepared[dataset], run_dir)
                    run = {"run_id": run_id, **_flatten(dataset, result, scores)}
                    runs.append(run)
                    with runs_file.open("a", encoding="utf-8") as handle:
                        handle.write(json.dumps(run) + "\n")
                    print(
                        f"  {run['total_s']:.1f} s, "
                        f"{run['peak_rss_bytes'] / 2**20:.0f} MiB, "
                        f"MAE/n x1e-3 "
                        + " ".join(
                            f"{1e3 * run[f'mae{k}_per_n']:.2f}"
                            for k in range(1, REPORTING_LENGTH + 1)
                        ),
                        flush=True,
                    )

    report = _summarise(runs)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    print(report)
    print(f"written to {out}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command")

    worker = commands.add_parser("_worker", help=argparse.SUPPRESS)
    worker.add_argument("--tool", choices=TOOLS, required=True)
    worker.add_argument("--input", required=True)
    worker.add_argument("--epsilon", type=float, required=True)
    worker.add_argument("--seed", type=int, required=True)
    worker.add_argument("--run-dir", required=True)

    parser.add_argument("--datasets", nargs="+", default=["ma2019", "national2019"])
    parser.add_argument("--epsilons", nargs="+", type=float, default=[1.0, 4.0])
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument(
        "--pacsynth-python",
        default=DEFAULT_PACSYNTH_PYTHON,
        help="interpreter of the virtualenv holding pac-synth",
    )
    parser.add_argument(
        "--work",
        default=str(HERE / "results" / "dp_vs_pacsynth"),
        help="folder for the prepared inputs, each run's output and the run log",
    )
    parser.add_argument("--output", default=str(HERE / "results" / "dp_vs_pacsynth.md"))
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the runs already in the run log and do only the missing ones",
    )
    parser.add_argument(
        "--timeout", type=float, default=None, help="kill a run after this many s"
    )
    args = parser.parse_args(argv)
    if args.command == "_worker":
        _worker(args)
    else:
        _bench(args)


if __name__ == "__main__":
    main()
