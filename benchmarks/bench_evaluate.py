"""Time evaluate_release on NIST's national2019 excerpt (27,253 x 24).

The numeric columns are binned with public edges taken from NIST's data
dictionary (not from the data). The synthetic stand-in is a bootstrap
resample of the records; the aggregates stand-in keeps the exact counts of
length 1..R held by at least ``--threshold`` records (a noise-free
k-anonymous release), so the timing covers evaluation alone.

Run: python benchmarks/bench_evaluate.py [--data PATH] [--length 3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from synthcase.evaluate import evaluate_release, write_evaluation
from synthcase.measure import Aggregates, CombinationSpace, ValueIndex
from synthcase.measure.combinations import count_combinations
from synthcase.prepare import BinSpec, EncodedTable, ReadOptions, load_table, to_frame

DATA = Path(__file__).resolve().parents[2] / "shared/data/nist-dce/national2019.csv"

# Edges from NIST's data dictionary ranges: AGEP 0-99, PINCP -9000..1341000,
# POVPIP 0-500 plus 501 (above 5x poverty), INDP codes below 10000, weights
# 1-9999 (WGTP 0 marks group quarters).
BINS = (
    "AGEP=0..100/10",
    "PINCP=-10000,0,10000,25000,50000,75000,100000,200000,1400000",
    "POVPIP=0,50,100,150,200,300,400,501",
    "INDP=0..10000/10",
    "PWGTP=0,10,20,50,100,200,500,10000",
    "WGTP=0,1,10,20,50,100,200,500,10000",
)


def thresholded_aggregates(
    table: EncodedTable, length: int, threshold: int
) -> Aggregates:
    index = ValueIndex.from_cardinalities(table.cardinalities)
    combos, counts = [], []
    for k in range(1, length + 1):
        space = CombinationSpace.build(index, k)
        keys, held = count_combinations(table, space)
        kept = held >= threshold
        combos.append(space.ids_from_keys(keys[kept]))
        counts.append(held[kept])
    return Aggregates(
        table.columns, table.categories, tuple(combos), tuple(counts), table.n_records
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--length", type=int, default=3)
    parser.add_argument("--threshold", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    options = ReadOptions(
        null_tokens=("N",),
        bins=tuple(BinSpec.parse(b) for b in BINS),
        out_of_range="clip",
    )
    table = load_table(args.data, options)
    rng = np.random.default_rng(7)
    resample = rng.integers(0, table.n_records, table.n_records)
    synthetic = to_frame(
        EncodedTable(table.columns, table.categories, table.codes[resample])
    )
    aggregates = thresholded_aggregates(table, args.length, args.threshold)
    print(
        f"{args.data.name}: {table.n_records} x {table.n_columns}, "
        f"R={args.length}, synthetic {len(synthetic)} resampled records"
    )

    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        evaluation = evaluate_release(
            table, synthetic, aggregates, reporting_length=args.length
        )
        times.append(time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        write_evaluation(evaluation, folder)
        written = time.perf_counter() - start
    print(f"evaluate_release: best {min(times):.2f} s, runs {times}")
    print(f"write_evaluation: {written:.2f} s")
    print(f"k-marginal {evaluation.k_marginal:.1f}, 3-way {evaluation.three_way:.1f}")
    for sentence in evaluation.summary:
        print(" ", sentence)


if __name__ == "__main__":
    main()
