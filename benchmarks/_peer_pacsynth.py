"""Run pac-synth (Synthetic Data Showcase's engine) on one prepared file.

Called by ``bench_dp_quality.py`` as
``/work/bench-venv/bin/python _peer_pacsynth.py LABELS EPS DELTA OUT``. Absent
cells are empty; every column is declared to hold sensitive zeros so that a
label "0" counts as a value. Prints one JSON line: seconds and peak memory.
"""

from __future__ import annotations

import csv
import json
import resource
import sys
import time

import pacsynth


def main() -> None:
    labels, eps, delta, out = sys.argv[1:5]
    with open(labels, newline="") as handle:
        raw = list(csv.reader(handle))
    start = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_start = usage.ru_utime + usage.ru_stime
    data = pacsynth.Dataset(raw, sensitive_zeros=raw[0])
    params = (
        pacsynth.DpAggregateSeededParametersBuilder()
        .reporting_length(3)
        .epsilon(float(eps))
        .delta(float(delta))
        .build()
    )
    synth = pacsynth.DpAggregateSeededSynthesizer(params)
    synth.fit(data)
    rows = synth.sample(synth.get_dp_number_of_records())
    seconds = time.perf_counter() - start
    with open(out, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_start
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_bytes": peak}))


if __name__ == "__main__":
    main()
