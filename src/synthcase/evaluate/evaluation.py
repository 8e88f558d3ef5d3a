"""The steward's evaluation of a release against the sensitive records.

:func:`evaluate_release` compares what a release publishes (protected
aggregates, synthetic records) with the sensitive records it came from:

* the risk of the sensitive records themselves (:mod:`.risk`);
* how well the aggregates and the synthetic records keep the sensitive
  counts of combinations of length ``1..R`` (:mod:`.fidelity`);
* the rare sensitive combinations the synthetic records carry (:mod:`.risk`);
* NIST's k-marginal and the 3-way marginal scores (:mod:`.kmarginal`);
* the number of synthetic records and how filled they are;
* a four-sentence summary in plain words (:mod:`.summary`).

Every figure is computed from the sensitive records, so the whole
:class:`Evaluation` is sensitive: it belongs in the release's
``evaluation/`` folder, which is never shared, and no part of it is
protected by the release's guarantee.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from synthcase.errors import ParameterError
from synthcase.evaluate.counting import KeyCounts, count_units
from synthcase.evaluate.fidelity import (
    BucketFidelity,
    Fidelity,
    LengthFidelity,
    compare_counts,
)
from synthcase.evaluate.kmarginal import marginal_tuples, mean_tvd, three_way_tuples
from synthcase.evaluate.records import RecordComparison, compare_records
from synthcase.evaluate.risk import (
    LengthLeakage,
    LengthRisk,
    Linkable,
    SensitiveRisk,
    assess_sensitive_risk,
    rare_leakage,
)
from synthcase.evaluate.shared import encode_shared
from synthcase.evaluate.summary import summarize
from synthcase.measure.aggregates import Aggregates
from synthcase.measure.combinations import CombinationSpace, IntArray
from synthcase.prepare.table import EncodedTable
from synthcase.progress import Progress, no_progress

__all__ = [
    "SENSITIVE_NOTICE",
    "Evaluation",
    "evaluate_release",
    "plain_data",
    "rows_frame",
]

logger = logging.getLogger(__name__)

SENSITIVE_NOTICE = (
    "This evaluation compares the release with the sensitive data. Its figures "
    "are computed from sensitive records and are not protected: keep it with "
    "the sensitive data and do not share it."
)


@dataclass(frozen=True)
class Evaluation:
    """A release compared with its sensitive records (sensitive throughout).

    Attributes:
        columns: The released columns evaluated.
        reporting_length: Longest combination length ``R`` compared.
        resolution: Combinations held by fewer units than this are rare.
        group_column: Column the k-marginal score joins to every pair, or
            ``None`` when the data lack it.
        sensitive_risk: Exposure of the sensitive records themselves.
        aggregates_fidelity: Aggregates against the sensitive counts, or
            ``None`` when no aggregates were given.
        synthetic_fidelity: Synthetic record counts against the sensitive
            counts.
        synthetic_leakage: Per length, rare sensitive combinations that are
            rare in the synthetic records too.
        records: Record count and completeness, synthetic against sensitive.
        k_marginal: NIST's k-marginal score (0-1000), ``None`` without
            synthetic records.
        three_way: The 3-way marginal score (0-1000), ``None`` likewise.
        summary: Four sentences: risk of the sensitive data, utility of the
            aggregates, privacy and utility of the synthetic data.
    """

    columns: tuple[str, ...]
    reporting_length: int
    resolution: int
    group_column: str | None
    sensitive_risk: SensitiveRisk
    aggregates_fidelity: Fidelity | None
    synthetic_fidelity: Fidelity
    synthetic_leakage: tuple[LengthLeakage, ...]
    records: RecordComparison
    k_marginal: float | None
    three_way: float | None
    summary: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Every figure as plain JSON-ready data (lists, numbers, text, null)."""
        risk = asdict(self.sensitive_risk)
        risk["unique_share"] = self.sensitive_risk.unique_share
        risk["rare_share"] = self.sensitive_risk.rare_share
        data = {
            "status": SENSITIVE_NOTICE,
            "columns": self.columns,
            "reporting_length": self.reporting_length,
            "resolution": self.resolution,
            "group_column": self.group_column,
            "summary": self.summary,
            "scores": {"k_marginal": self.k_marginal, "three_way": self.three_way},
            "records": asdict(self.records),
            "sensitive_risk": risk,
            "aggregates_fidelity": (
                asdict(self.aggregates_fidelity) if self.aggregates_fidelity else None
            ),
            "synthetic_fidelity": asdict(self.synthetic_fidelity),
            "synthetic_leakage": [asdict(row) for row in self.synthetic_leakage],
        }
        plain: dict[str, Any] = plain_data(data)
        return plain

    def tables(self) -> dict[str, pd.DataFrame]:
        """The figures as flat tables (columns kept even when a table is empty)."""
        parts = [p for p in (self.aggregates_fidelity, self.synthetic_fidelity) if p]
        risk = self.sensitive_risk
        scores = {
            "k_marginal": self.k_marginal,
            "three_way": self.three_way,
            **asdict(self.records),
        }
        return {
            "scores": pd.DataFrame(
                {"measure": list(scores), "value": list(scores.values())}
            ),
            "fidelity_by_length": rows_frame(
                LengthFidelity,
                [{"source": p.source, **asdict(r)} for p in parts for r in p.by_length],
                first=("source",),
            ),
            "fidelity_by_bucket": rows_frame(
                BucketFidelity,
                [{"source": p.source, **asdict(r)} for p in parts for r in p.by_bucket],
                first=("source",),
            ),
            "leakage_by_length": rows_frame(
                LengthLeakage, [asdict(r) for r in self.synthetic_leakage]
            ),
            "sensitive_risk_by_length": rows_frame(
                LengthRisk,
                [{"unit": risk.unit, **asdict(r)} for r in risk.by_length],
                first=("unit",),
            ),
            "linkable_columns": rows_frame(Linkable, [asdict(r) for r in risk.columns]),
            "linkable_values": rows_frame(Linkable, [asdict(r) for r in risk.values]),
        }


def evaluate_release(
    sensitive: EncodedTable | pd.DataFrame,
    synthetic: pd.DataFrame,
    aggregates: Aggregates | None,
    *,
    reporting_length: int,
    resolution: int = 10,
    group_column: str | None = "PUMA",
    progress: Progress = no_progress,
) -> Evaluation:
    """Compare a release with the sensitive records it was made from.

    Args:
        sensitive: The sensitive records, encoded or as labels. Only the
            synthetic records' columns are used.
        synthetic: The synthetic records as labels, ``pd.NA`` where absent.
        aggregates: The protected aggregates, or ``None`` to skip them.
        reporting_length: Longest combination length ``R`` to compare.
        resolution: Combinations held by fewer units than this are rare
            (the k of k-anonymity).
        group_column: Column joined to every pair by the k-marginal score
            when present (NIST's ``PUMA``); ``None`` scores plain pairs.
        progress: Called with the stage and the fraction done.

    Returns:
        The evaluation. Sensitive: it is not covered by the release's
        guarantee and must stay with the steward.

    Raises:
        ParameterError: When ``reporting_length`` or ``resolution`` is
            outside its range.
        DataError: When the release names a column the sensitive records
            lack.
    """
    if isinstance(reporting_length, bool) or reporting_length < 1:
        raise ParameterError(
            f"reporting_length is {reporting_length!r}; it must be a whole number "
            ">= 1, normally the release's reporting length"
        )
    if isinstance(resolution, bool) or resolution < 1:
        raise ParameterError(
            f"resolution is {resolution!r}; it must be a whole number >= 1, "
            "for example 10"
        )
    progress("evaluating: coding the tables", 0.0)
    shared = encode_shared(sensitive, synthetic, aggregates)
    n_columns = len(shared.columns)
    if reporting_length > n_columns:
        raise ParameterError(
            f"reporting_length {reporting_length} is longer than the {n_columns} "
            f"released columns; lower it to at most {n_columns}"
        )

    # Count: every length in each source, on the shared key layout.
    steps = reporting_length + 2
    spaces: list[CombinationSpace] = []
    sensitive_counts: list[KeyCounts] = []
    sensitive_units: list[KeyCounts] = []
    synthetic_counts: list[KeyCounts] = []
    released: list[tuple[IntArray, IntArray]] = []
    for k in range(1, reporting_length + 1):
        progress(f"evaluating: counting length {k}", (k - 1) / steps)
        space = CombinationSpace.build(shared.index, k)
        spaces.append(space)
        sensitive_counts.append(count_units(shared.sensitive, space))
        by_subject = shared.sensitive.subject_ids is not None
        sensitive_units.append(
            count_units(shared.sensitive, space, by_subject=True)
            if by_subject
            else sensitive_counts[-1]
        )
        synthetic_counts.append(count_units(shared.synthetic, space))
        if aggregates is not None:
            keys = space.keys_from_ids(shared.aggregate_ids(aggregates, k))
            counts = (
                aggregates.counts[k - 1]
                if k <= len(aggregates.counts)
                else np.zeros(0, dtype=np.int64)
            )
            order = np.argsort(keys, kind="stable")
            released.append((keys[order], counts[order]))

    # Compare: risk, fidelity and leakage from the counts.
    progress("evaluating: risk of the sensitive records", reporting_length / steps)
    risk = assess_sensitive_risk(shared.sensitive, spaces, sensitive_units, resolution)
    sensitive_pairs = [(c.keys, c.counts) for c in sensitive_counts]
    aggregates_fidelity = (
        compare_counts("aggregates", sensitive_pairs, released)
        if aggregates is not None
        else None
    )
    synthetic_fidelity = compare_counts(
        "synthetic", sensitive_pairs, [(c.keys, c.counts) for c in synthetic_counts]
    )
    leakage = tuple(
        rare_leakage(k, u, s, resolution)
        for k, (u, s) in enumerate(
            zip(sensitive_units, synthetic_counts, strict=True), start=1
        )
    )
    records = compare_records(shared.sensitive, shared.synthetic)

    # Score: NIST's k-marginal and the 3-way marginals.
    progress("evaluating: marginal scores", (reporting_length + 1) / steps)
    group = group_column if group_column in shared.columns else None
    k_marginal = three_way = None
    if shared.synthetic.n_records and shared.sensitive.n_records:
        args = (shared.sensitive.codes, shared.synthetic.codes)
        cardinalities = shared.sensitive.cardinalities
        tuples = marginal_tuples(shared.columns, group, pairs=200, seed=0)
        k_marginal = 1000.0 * (1.0 - mean_tvd(*args, cardinalities, tuples))
        triples = three_way_tuples(n_columns, max_triples=10_000, seed=0)
        three_way = 1000.0 * (1.0 - mean_tvd(*args, cardinalities, triples))

    summary = summarize(
        risk=risk,
        aggregates=aggregates_fidelity,
        synthetic=synthetic_fidelity,
        leakage=leakage,
        records=records,
        k_marginal=k_marginal,
        three_way=three_way,
        reporting_length=reporting_length,
    )
    progress("evaluating: done", 1.0)
    logger.info(
        "evaluated the release against the sensitive records: lengths 1..%d, "
        "resolution %d, %d columns (figures are sensitive, not logged)",
        reporting_length,
        resolution,
        n_columns,
    )
    return Evaluation(
        columns=shared.columns,
        reporting_length=reporting_length,
        resolution=resolution,
        group_column=group,
        sensitive_risk=risk,
        aggregates_fidelity=aggregates_fidelity,
        synthetic_fidelity=synthetic_fidelity,
        synthetic_leakage=leakage,
        records=records,
        k_marginal=k_marginal,
        three_way=three_way,
        summary=summary,
    )


def rows_frame(
    row_type: type, rows: list[dict[str, Any]], first: tuple[str, ...] = ()
) -> pd.DataFrame:
    """A table of dataclass rows; its columns are kept even when it is empty."""
    columns = [*first, *(f.name for f in fields(row_type))]
    return pd.DataFrame(rows, columns=columns)


def plain_data(value: Any) -> Any:
    """Tuples as lists, numpy numbers as Python ones, NaN as ``None``."""
    if isinstance(value, dict):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_data(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
