"""Time the k-anonymity release modes on NIST's national2019 excerpt (27,253 x 24).

Each mode runs in its own subprocess, so its peak resident memory
(``ru_maxrss``) is its own; the memory after reading the data is shown too,
so the synthesis' share is the difference. Wall and CPU seconds are both
shown: on a busy machine the wall time includes waiting for a core. The
numeric columns are binned with public edges from NIST's data dictionary,
never from the data.

Run: python benchmarks/bench_k_anonymity.py [--data PATH] [--resolution 10]
     [--length 3] [--seed 1] [--modes row-seeded,unseeded,...]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared/data/nist-dce/national2019.csv"

# Edges from NIST's data dictionary ranges: AGEP 0-99, PINCP -9000..1341000,
# POVPIP 0-500 plus 501 (above 5x poverty), INDP codes below 10000, weights
# 1-9999 (WGTP 0 marks group quarters).
BINS = (
    "AGEP=0,18,30,45,65,100",
    "PINCP=-10000,0,10000,25000,50000,100000,1400000",
    "POVPIP=0,100,200,300,400,501,502",
    "INDP=0..10000/10",
    "PWGTP=0,10,20,50,100,200,500,10000",
    "WGTP=0,1,10,20,50,100,200,500,10000",
)

MODES = (
    "aggregates",
    "row-seeded",
    "value-seeded",
    "value-seeded+oversampling",
    "value-seeded+oversampling+given-aggregates",
    "unseeded",
    "aggregate-seeded",
)


def run_mode(mode: str, data: Path, resolution: int, length: int, seed: int) -> dict:
    """Run one mode in this process and return its figures."""
    from synthcase.measure.k_anonymity import k_anonymous_aggregates
    from synthcase.prepare import BinSpec, ReadOptions, load_table
    from synthcase.synthesize._kanon_aggregate_seeded import (
        synthesize_k_aggregate_seeded,
    )
    from synthcase.synthesize._kanon_settings import KAnonymitySettings
    from synthcase.synthesize.row_seeded import synthesize_row_seeded
    from synthcase.synthesize.unseeded import synthesize_unseeded
    from synthcase.synthesize.value_seeded import synthesize_value_seeded

    options = ReadOptions(
        null_tokens=("N",), bins=tuple(BinSpec.parse(b) for b in BINS)
    )
    table = load_table(data, options)
    loaded_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    settings = KAnonymitySettings(
        resolution=resolution,
        reporting_length=length,
        seed=seed,
        oversampling_ratio=0.1 if "oversampling" in mode else None,
    )
    given = None
    if "given-aggregates" in mode:
        # A release computes the aggregates anyway; time only the synthesis.
        given = k_anonymous_aggregates(
            table, resolution=resolution, reporting_length=length
        )
    start, start_cpu = time.perf_counter(), time.process_time()
    if mode == "aggregates":
        aggregates = k_anonymous_aggregates(
            table, resolution=resolution, reporting_length=length
        )
    elif given is not None:
        frame = synthesize_value_seeded(table, settings, aggregates=given)
    else:
        synthesize = {
            "row-seeded": synthesize_row_seeded,
            "value-seeded": synthesize_value_seeded,
            "value-seeded+oversampling": synthesize_value_seeded,
            "unseeded": synthesize_unseeded,
            "aggregate-seeded": synthesize_k_aggregate_seeded,
        }[mode]
        frame = synthesize(table, settings)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - start_cpu
    if mode == "aggregates":
        rows = sum(len(c) for c in aggregates.counts)
        values = None
    else:
        rows = len(frame)
        values = float(frame.notna().sum(axis=1).mean()) if rows else 0.0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "mode": mode,
        "seconds": seconds,
        "cpu": cpu,
        "rows": rows,
        "values": values,
        "loaded_mb": loaded_mb,
        "peak_mb": peak_mb,
        "shape": [table.n_records, table.n_columns],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--resolution", type=int, default=10)
    parser.add_argument("--length", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--run", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.run:
        figures = run_mode(args.run, args.data, args.resolution, args.length, args.seed)
        print(json.dumps(figures))
        return

    results = []
    for mode in args.modes.split(","):
        command = [
            sys.executable,
            __file__,
            "--run",
            mode,
            "--data",
            str(args.data),
            "--resolution",
            str(args.resolution),
            "--length",
            str(args.length),
            "--seed",
            str(args.seed),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))

    n, c = results[0]["shape"]
    print(
        f"{args.data.name}: {n} x {c}, k = {args.resolution}, "
        f"R = {args.length}, seed {args.seed}\n"
    )
    print(
        "| mode | wall s | CPU s | output rows | values per record | peak MB "
        "| MB after read |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        values = "" if r["values"] is None else f"{r['values']:.1f}"
        rows = f"{r['rows']} combinations" if r["mode"] == "aggregates" else r["rows"]
        print(
            f"| {r['mode']} | {r['seconds']:.2f} | {r['cpu']:.2f} | {rows} | "
            f"{values} | {r['peak_mb']:.0f} | {r['loaded_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
