"""Settings shared by the four k-anonymity synthesizers."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from synthcase.errors import ParameterError
from synthcase.measure.aggregates import Aggregates
from synthcase.measure.k_anonymity import check_k_anonymity_input
from synthcase.prepare.table import EncodedTable

__all__ = ["KAnonymitySettings"]

DEFAULT_OVERSAMPLING_TRIES = 10
"""Rejected draws a value-seeded record may have when only a ratio is given."""


@dataclass(frozen=True, kw_only=True)
class KAnonymitySettings:
    """Settings of a k-anonymous synthesis.

    Attributes:
        resolution: The privacy resolution ``k >= 2``: the smallest group of
            sensitive records any released combination may describe.
        reporting_length: The longest combination ``R >= 1`` of the
            k-anonymous aggregates (and of the guarantee of the
            aggregate-seeded mode); at most the number of columns.
        seed: Seed of the synthesis randomness; ``None`` draws one from the
            operating system. The guarantee never rests on it.
        oversampling_ratio: Value-seeded mode only: a value is not added to a
            record when that would make some combination of up to ``R``
            values occur more than ``(1 + ratio)`` times its k-anonymous
            count in the synthetic data; ``None`` leaves oversampling
            unlimited.
        oversampling_tries: Value-seeded mode only: how many rejected draws a
            record may have before it is closed; ``None`` means 10 when a
            ratio is given. Needs ``oversampling_ratio``.
        use_synthetic_counts: Aggregate-seeded mode only: lower the weights by
            the counts already synthesized.
        weight_percentile: Aggregate-seeded mode only: percentile (0..100) of
            the sub-combination counts used as a weight beyond length ``R``.

    Raises:
        ParameterError: When a setting is outside its range.
    """

    resolution: int = 10
    reporting_length: int = 3
    seed: int | None = None
    oversampling_ratio: float | None = None
    oversampling_tries: int | None = None
    use_synthetic_counts: bool = False
    weight_percentile: float = 95.0

    def __post_init__(self) -> None:
        if not _whole(self.resolution) or self.resolution < 2:
            raise ParameterError(
                f"resolution is {self.resolution!r}; it must be a whole number >= 2 "
                "(a group of 1 is a single person), for example --resolution 10"
            )
        if not _whole(self.reporting_length) or self.reporting_length < 1:
            raise ParameterError(
                f"reporting_length is {self.reporting_length!r}; it must be a whole "
                "number >= 1, for example --reporting-length 3"
            )
        if self.seed is not None and (not _whole(self.seed) or self.seed < 0):
            raise ParameterError(
                f"seed is {self.seed!r}; it must be a whole number >= 0, or left "
                "out to draw one"
            )
        ratio = self.oversampling_ratio
        if ratio is not None and (
            isinstance(ratio, bool)
            or not isinstance(ratio, int | float)
            or not (math.isfinite(ratio) and ratio >= 0)
        ):
            raise ParameterError(
                f"oversampling_ratio is {ratio!r}; it must be a finite number >= 0, "
                "for example --oversampling-ratio 0.1 (10% above the aggregates)"
            )
        tries = self.oversampling_tries
        if tries is not None:
            if ratio is None:
                raise ParameterError(
                    f"oversampling_tries is {tries!r} but no oversampling_ratio is "
                    "given; tries only limit a ratio, so add --oversampling-ratio "
                    "or drop --oversampling-tries"
                )
            if not _whole(tries) or tries < 1:
                raise ParameterError(
                    f"oversampling_tries is {tries!r}; it must be a whole number "
                    ">= 1, for example --oversampling-tries 10"
                )
        if not isinstance(self.use_synthetic_counts, bool):
            raise ParameterError(
                f"use_synthetic_counts is {self.use_synthetic_counts!r}; it must be "
                "True or False"
            )
        if not 0 <= self.weight_percentile <= 100:
            raise ParameterError(
                f"weight_percentile is {self.weight_percentile!r}; it must be in "
                "0..100, for example --weight-percentile 95"
            )

    @property
    def tries(self) -> int:
        """Rejected draws allowed per record under an oversampling ratio."""
        if self.oversampling_tries is not None:
            return int(self.oversampling_tries)
        return DEFAULT_OVERSAMPLING_TRIES

    def check(self, table: EncodedTable, mode: str) -> None:
        """Refuse a table or a setting that does not apply to ``mode``.

        Raises:
            ParameterError: When the table cannot be protected with these
                settings (see
                :func:`~synthcase.measure.k_anonymity.check_k_anonymity_input`)
                or an option of another mode is set.
        """
        check_k_anonymity_input(
            table, resolution=self.resolution, reporting_length=self.reporting_length
        )
        if mode != "value-seeded" and self.oversampling_ratio is not None:
            raise ParameterError(
                f"oversampling_ratio applies to the value-seeded mode only, not "
                f"{mode}; drop --oversampling-ratio or use --mode value-seeded"
            )
        if mode != "aggregate-seeded" and self.use_synthetic_counts:
            raise ParameterError(
                f"use_synthetic_counts applies to the aggregate-seeded mode only, "
                f"not {mode}; drop --use-synthetic-counts or use --mode "
                "aggregate-seeded"
            )

    def check_aggregates(self, table: EncodedTable, aggregates: Aggregates) -> None:
        """Refuse aggregates that cannot be this table's k-anonymous aggregates.

        The check is on their shape (columns, labels, reporting length, counts
        that are positive multiples of ``k``); it catches mix-ups, such as
        aggregates of another resolution, not forgeries.

        Raises:
            ParameterError: When the aggregates do not fit.
        """
        k = self.resolution
        labels_fit = aggregates.columns == table.columns and all(
            set(released) <= set(labels)
            for released, labels in zip(
                aggregates.categories, table.categories, strict=True
            )
        )
        counts_fit = aggregates.record_count % k == 0 and all(
            int(c.min(initial=k)) >= k and not (c % k).any() for c in aggregates.counts
        )
        if (
            not labels_fit
            or not counts_fit
            or aggregates.reporting_length != self.reporting_length
        ):
            raise ParameterError(
                "the aggregates given are not k-anonymous aggregates of this table "
                f"at resolution {k} and reporting length {self.reporting_length}; "
                "pass the result of k_anonymous_aggregates with the same settings, "
                "or none"
            )


def _whole(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)
