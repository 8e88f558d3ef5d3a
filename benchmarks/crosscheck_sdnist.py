"""Cross-check synthcase's k-marginal score against NIST's SDNist (v2.4).

SDNist pins old numpy and pandas, so it lives in its own virtualenv:

    python3 -m venv /tmp/sdnist-venv
    /tmp/sdnist-venv/bin/pip install sdnist==2.4
    python benchmarks/crosscheck_sdnist.py [--sdnist-python /tmp/sdnist-venv/bin/python]

The script makes synthetic stand-ins from NIST's ma2019 excerpt for three
CRC feature sets (a bootstrap resample and a noisy copy, both seeded), scores
them with :func:`synthcase.evaluate.k_marginal_score` here, then runs this
same file under SDNist's interpreter (``--worker``), which prepares the data
the way SDNist's report does (validate, transform, percentile bins) and
calls SDNist's own ``KMarginal`` class. The worker imports nothing from
synthcase. The results are recorded in docs/k-marginal.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

NIST = Path(__file__).resolve().parents[2] / "shared/data/nist-dce"

FEATURE_SETS = {
    "industry": [
        "PUMA", "SEX", "MSP", "HISP", "RAC1P", "OWN_RENT", "INDP_CAT", "EDU",
        "PINCP_DECILE",
    ],
    "family": [
        "PUMA", "AGEP", "SEX", "MSP", "HISP", "RAC1P", "NOC", "NPF", "OWN_RENT",
        "PINCP_DECILE", "POVPIP",
    ],
    "demographic": [
        "AGEP", "SEX", "MSP", "RAC1P", "HOUSING_TYPE", "OWN_RENT", "EDU",
        "PINCP_DECILE", "DVET",
    ],
}  # fmt: skip

NUMERIC = ["AGEP", "POVPIP", "PINCP", "PWGTP", "WGTP"]
"""Columns SDNist bins at percentiles of the target."""


def make_synthetic(folder: Path, data: Path, seed: int) -> dict[str, Path]:
    """Write a bootstrap resample and a noisy copy of the target file."""
    import numpy as np
    import pandas as pd

    target = pd.read_csv(data, dtype=str, keep_default_na=False)
    rng = np.random.default_rng(seed)
    resample = target.iloc[rng.integers(0, len(target), len(target))]
    noisy = target.copy()
    # Each cell, with probability 0.1, takes the value of a random record.
    for column in noisy.columns:
        swap = rng.random(len(noisy)) < 0.1
        donors = rng.integers(0, len(target), int(swap.sum()))
        noisy.loc[swap, column] = target[column].to_numpy()[donors]
    paths = {"resample": folder / "resample.csv", "noisy": folder / "noisy.csv"}
    resample.to_csv(paths["resample"], index=False)
    noisy.to_csv(paths["noisy"], index=False)
    return paths


def ours(data: Path, synthetic: Path, features: list[str]) -> float:
    """synthcase's k-marginal score of one synthetic file."""
    import pandas as pd

    from synthcase.evaluate import k_marginal_score

    def read(path: Path) -> pd.DataFrame:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)[features]
        return frame.mask(frame == "N")  # NIST writes absent cells as N

    numeric = [c for c in features if c in NUMERIC]
    return k_marginal_score(
        read(data), read(synthetic), group_column="PUMA", numeric_columns=numeric
    )


def worker(data: Path, synthetic: Path, features: list[str]) -> float:
    """SDNist's k-marginal score, prepared as sdnist.report.dataset does."""
    import pandas as pd
    import sdnist.report  # noqa: F401  (import order avoids a circular import)
    from sdnist.metrics.kmarginal import KMarginal
    from sdnist.report.dataset.binning import (
        add_bin_for_NA,
        percentile_rank_synthetic,
        percentile_rank_target,
    )
    from sdnist.report.dataset.transform import transform
    from sdnist.report.dataset.validate import validate

    schema = json.loads((NIST / f"{data.stem}.json").read_text())["schema"]
    data_dict = json.loads((NIST / "data_dictionary.json").read_text())
    dtypes = {name: spec["dtype"] for name, spec in schema.items()}
    target = pd.read_csv(data, dtype=dtypes)[features]
    deid = pd.read_csv(synthetic)[features]

    c_deid, _ = validate(deid, data_dict, features)
    c_target, _ = validate(target, data_dict, features)
    order = sorted(c_target.columns)
    c_target, c_deid = c_target[order], c_deid[order]
    t_target, t_deid = transform(c_target, schema), transform(c_deid, schema)
    numeric = [c for c in NUMERIC if c in order]
    d_target = percentile_rank_target(c_target, numeric)
    d_target = add_bin_for_NA(d_target, c_target, numeric)
    d_deid = percentile_rank_synthetic(c_deid, c_target, d_target, numeric)
    d_deid = add_bin_for_NA(d_deid, c_deid, numeric)
    other = [c for c in order if c not in numeric]
    d_target[other] = t_target[other]
    d_deid[other] = t_deid[other]
    group = ["PUMA"] if "PUMA" in order else []
    metric = KMarginal(d_target, d_deid, group)
    return float(metric.compute_score())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=NIST / "ma2019.csv")
    parser.add_argument(
        "--sdnist-python", type=Path, default=Path("/tmp/sdnist-venv/bin/python")
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", nargs=2, metavar=("SYNTHETIC", "SET"))
    args = parser.parse_args()
    if args.worker:
        synthetic, name = args.worker
        print(json.dumps(worker(args.data, Path(synthetic), FEATURE_SETS[name])))
        return

    with tempfile.TemporaryDirectory() as folder:
        files = make_synthetic(Path(folder), args.data, args.seed)
        print(f"target {args.data.name}, seed {args.seed}")
        print(f"{'feature set':<12} {'synthetic':<9} {'SDNist':>12} {'synthcase':>12}")
        for name, features in FEATURE_SETS.items():
            for variant, path in files.items():
                result = subprocess.run(
                    [str(args.sdnist_python), __file__, "--data", str(args.data),
                     "--worker", str(path), name],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                theirs = float(result.stdout.strip().splitlines()[-1])
                mine = ours(args.data, path, features)
                print(f"{name:<12} {variant:<9} {theirs:>12.6f} {mine:>12.6f}")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
