"""How well released counts keep the sensitive counts of combinations.

A *released* count is either a protected count of the aggregates or the
number of synthetic records holding a combination; a *true* count is the
number of sensitive records holding it. For each combination length:

* suppressed: combinations the sensitive records hold but the release lacks,
  as a count and a share of the sensitive combinations;
* fabricated: combinations the release holds but no sensitive record does,
  as a count and a share of the released combinations;
* mean absolute error ``|released - true|`` over the union of both, a missing
  combination counting 0;
* over the sensitive combinations only (a fabricated combination has no true
  count to divide by): preservation ``min(released / true, 1)`` and
  proportional error ``|released - true| / true``.

The last two are also grouped by true count in doubling buckets (1, 2-3,
4-7, 8-15, ...). All of it is computed against the sensitive records, so it
is sensitive: the steward reads it, nobody else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from synthcase.measure.combinations import IntArray

__all__ = [
    "BucketFidelity",
    "Fidelity",
    "LengthFidelity",
    "bucket_of",
    "compare_counts",
    "union_sorted",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LengthFidelity:
    """Released against true counts at one combination length.

    Attributes:
        length: Combination length ``k``.
        sensitive_combinations: Combinations some sensitive record holds.
        released_combinations: Combinations the release holds.
        suppressed: Sensitive combinations the release lacks.
        suppressed_share: ``suppressed`` over the sensitive combinations.
        fabricated: Released combinations no sensitive record holds.
        fabricated_share: ``fabricated`` over the released combinations.
        mean_absolute_error: Mean ``|released - true|`` over the union.
        mean_preservation: Mean ``min(released / true, 1)`` over the
            sensitive combinations.
        mean_proportional_error: Mean ``|released - true| / true`` over the
            sensitive combinations.
    """

    length: int
    sensitive_combinations: int
    released_combinations: int
    suppressed: int
    suppressed_share: float | None
    fabricated: int
    fabricated_share: float | None
    mean_absolute_error: float | None
    mean_preservation: float | None
    mean_proportional_error: float | None


@dataclass(frozen=True)
class BucketFidelity:
    """Preservation and error of the sensitive combinations in one count bucket.

    Attributes:
        bucket: The bucket's label, ``"1"``, ``"2-3"``, ``"4-7"``, ...
        lowest: Smallest true count in the bucket.
        highest: Largest true count in the bucket.
        combinations: Sensitive combinations (all lengths) in the bucket.
        mean_preservation: Mean ``min(released / true, 1)``; ``None`` when the
            bucket is empty.
        mean_proportional_error: Mean ``|released - true| / true``; ``None``
            when the bucket is empty.
    """

    bucket: str
    lowest: int
    highest: int
    combinations: int
    mean_preservation: float | None
    mean_proportional_error: float | None


@dataclass(frozen=True)
class Fidelity:
    """Released against true counts for one release part.

    Attributes:
        source: ``"aggregates"`` or ``"synthetic"``.
        by_length: One entry per length ``1..R``.
        by_bucket: One entry per doubling bucket of true counts, from 1 up
            to the bucket of the largest true count.
        mean_preservation: Mean preservation over every sensitive
            combination of every length.
        mean_absolute_error: Mean absolute error over the union of every
            length.
    """

    source: str
    by_length: tuple[LengthFidelity, ...]
    by_bucket: tuple[BucketFidelity, ...]
    mean_preservation: float | None
    mean_absolute_error: float | None


def compare_counts(
    source: str,
    sensitive: Sequence[tuple[IntArray, IntArray]],
    released: Sequence[tuple[IntArray, IntArray]],
) -> Fidelity:
    """Compare released with true counts, length by length.

    Args:
        source: Name of the release part, kept in the result.
        sensitive: Per length ``1..R``, sorted keys and true counts.
        released: Per length, sorted keys and released counts, on the same
            key layout.

    Returns:
        The comparison (sensitive).

    Example:
        >>> keys = np.array([0, 1]), np.array([1, 2])
        >>> out = compare_counts("synthetic", [(keys[0], np.array([4, 2]))],
        ...                      [(keys[1], np.array([3, 1]))])
        >>> out.by_length[0].mean_absolute_error, out.by_length[0].suppressed
        (2.0, 1)
    """
    rows = []
    all_true: list[IntArray] = []
    all_released: list[IntArray] = []
    errors: list[FloatArray] = []
    for length, ((s_keys, s_counts), (r_keys, r_counts)) in enumerate(
        zip(sensitive, released, strict=True), start=1
    ):
        union = union_sorted(s_keys, r_keys)
        true = _on(union, s_keys, s_counts)
        out = _on(union, r_keys, r_counts)
        in_sensitive = _member(union, s_keys)
        in_release = _member(union, r_keys)
        error = np.abs(out - true).astype(np.float64)
        suppressed = int((in_sensitive & ~in_release).sum())
        fabricated = int((in_release & ~in_sensitive).sum())
        preservation, proportional = _ratios(true[in_sensitive], out[in_sensitive])
        rows.append(
            LengthFidelity(
                length=length,
                sensitive_combinations=int(s_keys.size),
                released_combinations=int(r_keys.size),
                suppressed=suppressed,
                suppressed_share=_share(suppressed, s_keys.size),
                fabricated=fabricated,
                fabricated_share=_share(fabricated, r_keys.size),
                mean_absolute_error=_mean(error),
                mean_preservation=_mean(preservation),
                mean_proportional_error=_mean(proportional),
            )
        )
        all_true.append(true[in_sensitive])
        all_released.append(out[in_sensitive])
        errors.append(error)
    true = np.concatenate(all_true) if all_true else np.zeros(0, np.int64)
    out = np.concatenate(all_released) if all_released else np.zeros(0, np.int64)
    preservation, _ = _ratios(true, out)
    return Fidelity(
        source=source,
        by_length=tuple(rows),
        by_bucket=_buckets(true, out),
        mean_preservation=_mean(preservation),
        mean_absolute_error=_mean(np.concatenate(errors)) if errors else None,
    )


def union_sorted(first: IntArray, second: IntArray) -> IntArray:
    """Sorted union of two sorted arrays of distinct keys.

    >>> union_sorted(np.array([1, 4, 6]), np.array([2, 4])).tolist()
    [1, 2, 4, 6]
    """
    merged = np.concatenate((first, second))
    # A stable sort of two sorted runs is a linear merge (timsort).
    merged.sort(kind="stable")
    keep = np.ones(merged.size, dtype=bool)
    keep[1:] = merged[1:] != merged[:-1]
    return merged[keep]


def bucket_of(counts: IntArray) -> IntArray:
    """Doubling bucket of each positive count: 0 for 1, 1 for 2-3, 2 for 4-7.

    >>> bucket_of(np.array([1, 2, 3, 4, 7, 8])).tolist()
    [0, 1, 1, 2, 2, 3]
    """
    # frexp is exact on integers below 2**53: no rounding at powers of two.
    return np.asarray(np.frexp(counts.astype(np.float64))[1] - 1, dtype=np.int64)


def _buckets(true: IntArray, out: IntArray) -> tuple[BucketFidelity, ...]:
    if true.size == 0:
        return ()
    bucket = bucket_of(true)
    preservation, proportional = _ratios(true, out)
    size = int(bucket.max()) + 1
    number = np.bincount(bucket, minlength=size)
    kept = np.bincount(bucket, weights=preservation, minlength=size)
    wrong = np.bincount(bucket, weights=proportional, minlength=size)
    result = []
    for b in range(size):
        low, high = 2**b, 2 ** (b + 1) - 1
        label = str(low) if low == high else f"{low}-{high}"
        n = int(number[b])
        result.append(
            BucketFidelity(
                bucket=label,
                lowest=low,
                highest=high,
                combinations=n,
                mean_preservation=float(kept[b] / n) if n else None,
                mean_proportional_error=float(wrong[b] / n) if n else None,
            )
        )
    return tuple(result)


def _ratios(true: IntArray, out: IntArray) -> tuple[FloatArray, FloatArray]:
    """Preservation and proportional error of combinations with true >= 1."""
    true_f = true.astype(np.float64)
    preservation = np.minimum(out / true_f, 1.0)
    proportional = np.abs(out - true_f) / true_f
    return preservation, proportional


def _on(union: IntArray, keys: IntArray, counts: IntArray) -> IntArray:
    """Counts of the union's keys; 0 where ``keys`` lacks one."""
    result = np.zeros(union.size, dtype=np.int64)
    result[np.searchsorted(union, keys)] = counts
    return result


def _member(union: IntArray, keys: IntArray) -> npt.NDArray[np.bool_]:
    mask = np.zeros(union.size, dtype=bool)
    mask[np.searchsorted(union, keys)] = True
    return mask


def _mean(values: FloatArray) -> float | None:
    return float(values.mean()) if values.size else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
