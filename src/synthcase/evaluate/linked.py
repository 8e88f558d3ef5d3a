"""The steward's evaluation of a linked release against its sensitive file.

A linked release (:mod:`synthcase.linked`) protects each subject (a victim)
with all of their rows (links). :func:`evaluate_linked_release` compares it
with the sensitive file it came from, at the two levels the release has:

* **subjects**, one row per subject: the released subject columns and the
  binned number of links, real against synthetic subjects and against the
  subject aggregates, with every figure of the flat evaluation
  (:func:`~synthcase.evaluate.evaluate_release`): counts kept, suppressed
  and fabricated combinations, NIST's k-marginal and 3-way scores, the
  subjects unique or rare on up to ``R`` of their values, and the rare
  combinations the synthetic subjects carry;
* **links**, one row per link carrying its subject's values and binned
  number of links: how many links each subject has (:mod:`.links`); the
  total variation distance of each subject column x link column pair and of
  the link columns alone and in pairs (:mod:`.distances`); the subjects
  unique or rare on up to ``R`` values of all their rows, and the rare
  combinations the synthetic links carry, both counted per subject (a
  subject holding a combination on several links counts once).

The link aggregates are not compared count by count: they count at most
``link_bound`` links per subject, chosen at random, so no sensitive table
holds their exact counts; the synthetic links drawn from them are compared
instead. Every figure is computed from the sensitive file, so the whole
:class:`LinkedEvaluation` is sensitive and stays with the steward.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthcase.errors import DataError, ParameterError
from synthcase.evaluate.counting import KeyCounts, count_units
from synthcase.evaluate.distances import (
    KindDistance,
    MarginalDistance,
    marginal_distances,
    summarize_distances,
)
from synthcase.evaluate.evaluation import (
    SENSITIVE_NOTICE,
    Evaluation,
    evaluate_release,
    plain_data,
    rows_frame,
)
from synthcase.evaluate.linked_summary import summarize_linked
from synthcase.evaluate.links import LinkBin, LinksPerSubject, compare_links_per_subject
from synthcase.evaluate.risk import (
    LengthLeakage,
    LengthRisk,
    Linkable,
    SensitiveRisk,
    assess_sensitive_risk,
    rare_leakage,
)
from synthcase.evaluate.shared import encode_shared
from synthcase.measure.aggregates import Aggregates
from synthcase.measure.combinations import CombinationSpace, IntArray
from synthcase.prepare.linked import (
    LinkedLayout,
    LinkedSchema,
    LinkedTable,
    link_table,
    subject_table,
    unit_name,
)
from synthcase.prepare.table import EncodedTable
from synthcase.progress import Progress, no_progress
from synthcase.synthesize.linked import subject_records

__all__ = ["LinkedEvaluation", "evaluate_linked_release"]

logger = logging.getLogger(__name__)

SUBJECT, SUBJECT_PAIR = "subject", "subject x subject"
LINK, SUBJECT_LINK, LINK_PAIR = "link", "subject x link", "link x link"


@dataclass(frozen=True)
class LinkedEvaluation:
    """A linked release compared with its sensitive file (sensitive throughout).

    Attributes:
        unit: The privacy unit in words, for example ``"victim"``.
        subject_id: Name of the subject id column.
        link_columns: The released link columns (presence columns for
            multi-value cells).
        subjects: The flat evaluation of the subject table: one row per
            subject, the released subject columns and the binned number of
            links; its risk counts subjects.
        links_per_subject: The number of links per subject, sensitive,
            protected and synthetic.
        distances: Total variation distance of every marginal: subject
            columns alone and in pairs (one row per subject), link columns
            alone, subject x link and link x link pairs (one row per link;
            the number of links counts as a subject column).
        link_risk: Subjects unique or rare on up to ``R`` values of their
            rows, subject columns, number of links and link columns
            together; ``None`` without link columns.
        link_leakage: Per length, combinations holding a link value that
            fewer than ``resolution`` sensitive subjects hold and fewer than
            ``resolution`` synthetic subjects hold too.
        summary: Five sentences: the risk of the sensitive data, the utility
            of the subject aggregates, the privacy and the utility of the
            synthetic subjects, the fidelity of the synthetic links.
    """

    unit: str
    subject_id: str
    link_columns: tuple[str, ...]
    subjects: Evaluation
    links_per_subject: LinksPerSubject
    distances: tuple[MarginalDistance, ...]
    link_risk: SensitiveRisk | None
    link_leakage: tuple[LengthLeakage, ...]
    summary: tuple[str, ...]

    @property
    def by_kind(self) -> tuple[KindDistance, ...]:
        """Each kind of marginal's mean and worst distance."""
        return summarize_distances(self.distances)

    def to_dict(self) -> dict[str, Any]:
        """Every figure as plain JSON-ready data (lists, numbers, text, null)."""
        subjects = self.subjects.to_dict()
        for repeated in ("status", "summary"):
            subjects.pop(repeated)
        risk = self.link_risk
        data = {
            "status": SENSITIVE_NOTICE,
            "release": "linked",
            "unit": self.unit,
            "subject_id": self.subject_id,
            "summary": self.summary,
            "subjects": subjects,
            "links": {
                "columns": self.link_columns,
                "links_per_subject": asdict(self.links_per_subject),
                "distances_by_kind": [asdict(row) for row in self.by_kind],
                "distances": [asdict(row) for row in self.distances],
                "sensitive_risk": None
                if risk is None
                else {
                    **asdict(risk),
                    "unique_share": risk.unique_share,
                    "rare_share": risk.rare_share,
                },
                "synthetic_leakage": [asdict(row) for row in self.link_leakage],
            },
        }
        plain: dict[str, Any] = plain_data(data)
        return plain

    def tables(self) -> dict[str, pd.DataFrame]:
        """The figures as flat tables: the subject tables, then the links'."""
        tables = self.subjects.tables()
        links = self.links_per_subject
        headline = {
            "links_binned_distance": links.binned_distance,
            "links_exact_distance": links.exact_distance,
            "sensitive_mean_links": links.sensitive_mean,
            "synthetic_mean_links": links.synthetic_mean,
            **{f"mean_distance_{row.kind}": row.mean_distance for row in self.by_kind},
        }
        extra = pd.DataFrame(
            {"measure": list(headline), "value": list(headline.values())}
        )
        tables["scores"] = pd.concat([tables["scores"], extra], ignore_index=True)
        risk = self.link_risk
        tables.update(
            {
                "links_per_subject": rows_frame(
                    LinkBin, [asdict(row) for row in links.bins]
                ),
                "link_distances": pd.DataFrame(
                    {
                        "kind": [row.kind for row in self.distances],
                        "columns": [" x ".join(row.columns) for row in self.distances],
                        "distance": [row.distance for row in self.distances],
                    }
                ),
                "link_distances_by_kind": rows_frame(
                    KindDistance,
                    [
                        {**asdict(row), "worst_columns": " x ".join(row.worst_columns)}
                        for row in self.by_kind
                    ],
                ),
                "link_risk_by_length": rows_frame(
                    LengthRisk,
                    [
                        {"unit": self.unit, **asdict(row)}
                        for row in (risk.by_length if risk else ())
                    ],
                    first=("unit",),
                ),
                "link_leakage_by_length": rows_frame(
                    LengthLeakage, [asdict(row) for row in self.link_leakage]
                ),
                "link_linkable_columns": rows_frame(
                    Linkable, [asdict(row) for row in (risk.columns if risk else ())]
                ),
                "link_linkable_values": rows_frame(
                    Linkable, [asdict(row) for row in (risk.values if risk else ())]
                ),
            }
        )
        return tables


def evaluate_linked_release(
    sensitive: LinkedTable,
    synthetic: pd.DataFrame,
    schema: LinkedSchema,
    aggregates: Aggregates | None,
    *,
    reporting_length: int,
    resolution: int = 10,
    unit: str | None = None,
    protected_links: Sequence[int] | None = None,
    progress: Progress = no_progress,
) -> LinkedEvaluation:
    """Compare a linked release with the sensitive file it was made from.

    Args:
        sensitive: The sensitive rows, read with the release's options
            (:func:`~synthcase.prepare.linked.load_linked`).
        synthetic: The synthetic links in the input's layout
            (``synthetic.csv``), ``pd.NA`` or an empty text where absent.
        schema: The release's public layout: subject and link columns,
            released presence columns, bins of links.
        aggregates: The protected subject aggregates, or ``None`` to skip
            them.
        reporting_length: Longest combination length ``R`` to compare,
            normally the release's.
        resolution: Combinations held by fewer subjects than this are rare.
        unit: The privacy unit in words; ``None`` derives it from the
            subject id column (``victim_id`` gives ``victim``).
        protected_links: The release's protected number of subjects per bin
            of links, shown beside the true and synthetic numbers.
        progress: Called with the stage and the fraction done.

    Returns:
        The evaluation. Sensitive: it is not covered by the release's
        guarantee and must stay with the steward.

    Raises:
        ParameterError: When ``reporting_length`` or ``resolution`` is
            outside its range.
        DataError: When the sensitive file or the synthetic links do not
            have the release's columns.
    """
    if isinstance(reporting_length, bool) or reporting_length < 1:
        raise ParameterError(
            f"reporting_length is {reporting_length!r}; it must be a whole number "
            ">= 1, normally the release's reporting length"
        )
    _check_columns(sensitive, synthetic, schema)
    unit = unit or unit_name(schema.subject_id)
    layout = LinkedLayout(schema.subject_columns, schema.link_columns, detected=False)
    subject_names = [*_released(schema, schema.subject_columns), schema.links_column]
    link_names = _released(schema, schema.link_columns)

    # Subjects: the flat evaluation of one row per subject.
    sensitive_subjects = subject_table(
        sensitive, layout, schema.link_bins, schema.links_column
    )
    synthetic_subjects = subject_records(synthetic, schema, subject_names)
    subjects = evaluate_release(
        sensitive_subjects,
        synthetic_subjects,
        aggregates,
        reporting_length=min(reporting_length, len(subject_names)),
        resolution=resolution,
        group_column=None,
        progress=_part(progress, f"{unit}s", 0.0, 0.5),
    )
    # The flat summary speaks of records; the linked summary replaces it.
    subjects = dataclasses.replace(
        subjects,
        sensitive_risk=dataclasses.replace(subjects.sensitive_risk, unit=unit),
        summary=(),
    )

    # Links per subject: rows of each sensitive and synthetic subject.
    progress("evaluating links: links per subject", 0.5)
    ids = sensitive.table.subject_ids
    assert ids is not None
    synthetic_ids = _subject_numbers(synthetic, schema.subject_id)
    links = compare_links_per_subject(
        np.bincount(ids).astype(np.int64),
        np.bincount(synthetic_ids).astype(np.int64),
        schema.link_bins,
        protected_links,
    )

    # Distances: subject marginals on subjects, link marginals on links.
    progress("evaluating links: distances", 0.6)
    shared_subjects = encode_shared(sensitive_subjects, synthetic_subjects)
    n_subject = len(subject_names)
    distances = _distances(
        shared_subjects.sensitive,
        shared_subjects.synthetic,
        {
            SUBJECT: [(j,) for j in range(n_subject)],
            SUBJECT_PAIR: list(itertools.combinations(range(n_subject), 2)),
        },
    )
    # Each link row carries its subject's values and binned number of links.
    rows = encode_shared(
        link_table(sensitive, layout, schema.link_bins, schema.links_column),
        _link_records(synthetic, schema, [*subject_names, *link_names]),
    )
    synthetic_rows = dataclasses.replace(rows.synthetic, subject_ids=synthetic_ids)
    link_index = range(n_subject, rows.sensitive.n_columns)
    distances += _distances(
        rows.sensitive,
        synthetic_rows,
        {
            LINK: [(j,) for j in link_index],
            SUBJECT_LINK: [(i, j) for i in range(n_subject) for j in link_index],
            LINK_PAIR: list(itertools.combinations(link_index, 2)),
        },
    )

    # Risk: subjects exposed by the values of all their rows.
    progress("evaluating links: risk of the sensitive links", 0.75)
    link_risk: SensitiveRisk | None = None
    leakage: tuple[LengthLeakage, ...] = ()
    if link_names:
        top = min(reporting_length, rows.sensitive.n_columns)
        spaces = [CombinationSpace.build(rows.index, k) for k in range(1, top + 1)]
        held = [count_units(rows.sensitive, s, by_subject=True) for s in spaces]
        copied: list[KeyCounts] = [
            count_units(synthetic_rows, s, by_subject=True) for s in spaces
        ]
        risk = assess_sensitive_risk(rows.sensitive, spaces, held, resolution)
        link_risk = dataclasses.replace(risk, unit=unit)
        # Combinations of subject values alone are the subjects' leakage.
        leakage = tuple(
            rare_leakage(
                k,
                _with_link_value(h, space, n_subject),
                _with_link_value(c, space, n_subject),
                resolution,
            )
            for k, (space, h, c) in enumerate(
                zip(spaces, held, copied, strict=True), start=1
            )
        )

    summary = summarize_linked(
        unit=unit,
        subjects=subjects,
        links=links,
        by_kind=summarize_distances(distances),
        link_risk=link_risk,
        link_leakage=leakage,
    )
    progress("evaluating links: done", 1.0)
    logger.info(
        "evaluated the linked release against the sensitive file: lengths 1..%d, "
        "resolution %d, %d subject and %d link columns (figures are sensitive, "
        "not logged)",
        reporting_length,
        resolution,
        len(subject_names),
        len(link_names),
    )
    return LinkedEvaluation(
        unit=unit,
        subject_id=schema.subject_id,
        link_columns=tuple(link_names),
        subjects=subjects,
        links_per_subject=links,
        distances=distances,
        link_risk=link_risk,
        link_leakage=leakage,
        summary=summary,
    )


def _released(schema: LinkedSchema, inputs: Sequence[str]) -> list[str]:
    """Released columns of some input columns; multi-value ones by presence."""
    multi = {column for column, _ in schema.delimiters}
    names: list[str] = []
    for column in inputs:
        if column in multi:
            names += [p for p, _ in schema.presence_of(column)]
        else:
            names.append(column)
    return names


def _link_records(
    synthetic: pd.DataFrame, schema: LinkedSchema, columns: Sequence[str]
) -> pd.DataFrame:
    """One row per synthetic link in the released columns.

    Post-processing of synthetic links: a presence column holds ``"1"``
    where the row's multi-value cell holds its value; the number-of-links
    column holds the label of the bin of the link's subject.
    """
    presence = {p: (c, v) for p, c, v in schema.presence}
    delimiters = dict(schema.delimiters)
    data: dict[str, Any] = {}
    for column in columns:
        if column == schema.links_column:
            numbers = _subject_numbers(synthetic, schema.subject_id)
            labels = np.array(schema.link_bins.labels(), dtype=object)
            links = np.bincount(numbers).astype(np.int64)
            data[column] = labels[schema.link_bins.bin_of(links)][numbers]
        elif column in presence:
            source, value = presence[column]
            parts = synthetic[source].astype(object).where(synthetic[source].notna())
            held = [
                isinstance(cell, str)
                and value in (p.strip() for p in cell.split(delimiters[source]))
                for cell in parts.tolist()
            ]
            data[column] = np.array(["1" if h else None for h in held], dtype=object)
        else:
            data[column] = synthetic[column].to_numpy(dtype=object)
    return pd.DataFrame(data, columns=list(columns), dtype="object")


def _subject_numbers(synthetic: pd.DataFrame, subject_id: str) -> IntArray:
    """The subject number of each synthetic link, 0..S-1 in order of appearance."""
    numbers, _ = pd.factorize(synthetic[subject_id], sort=False)
    if (numbers < 0).any():
        raise DataError(
            f"{int((numbers < 0).sum())} synthetic link(s) have no {subject_id!r}; "
            "evaluate the synthetic.csv the release wrote"
        )
    return np.asarray(numbers, dtype=np.int64)


def _with_link_value(
    counts: KeyCounts, space: CombinationSpace, first_link: int
) -> KeyCounts:
    """The counts of the combinations holding a value of a link column."""
    ids = space.ids_from_keys(counts.keys)
    linked = (space.index.value_column[ids] >= first_link).any(axis=1)
    return dataclasses.replace(
        counts, keys=counts.keys[linked], counts=counts.counts[linked]
    )


def _distances(
    sensitive: EncodedTable,
    synthetic: EncodedTable,
    marginals: dict[str, list[tuple[int, ...]]],
) -> tuple[MarginalDistance, ...]:
    """Distances of the marginals; none when either table has no row."""
    if sensitive.n_records == 0 or synthetic.n_records == 0:
        return ()
    return marginal_distances(sensitive, synthetic, marginals)


def _check_columns(
    sensitive: LinkedTable, synthetic: pd.DataFrame, schema: LinkedSchema
) -> None:
    if sensitive.subject_id != schema.subject_id:
        raise DataError(
            f"the sensitive file's subject id column is {sensitive.subject_id!r}, "
            f"the release's is {schema.subject_id!r}; read the sensitive file "
            f"with --subject-id {schema.subject_id}"
        )
    wanted = [schema.subject_id, *schema.subject_columns, *schema.link_columns]
    lacking = [c for c in wanted if c not in sensitive.input_columns]
    if lacking:
        raise DataError(
            f"the sensitive file lacks the release's column(s) "
            f"{', '.join(map(repr, lacking))}; evaluate a release against the "
            "sensitive file it was made from"
        )
    found = {str(c) for c in synthetic.columns}
    missing = [c for c in wanted if c not in found]
    if missing:
        raise DataError(
            f"the synthetic links lack the column(s) "
            f"{', '.join(map(repr, missing))}; evaluate the synthetic.csv of "
            "the same release"
        )


def _part(progress: Progress, name: str, start: float, end: float) -> Progress:
    """Progress of one part, mapped onto ``start..end`` of the whole."""

    def update(stage: str, fraction: float) -> None:
        progress(f"{stage} ({name})", start + (end - start) * fraction)

    return update
