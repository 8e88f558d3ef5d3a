"""How many links each subject has: sensitive, protected and synthetic.

In a linked file a subject (a victim) owns one row per link (per
perpetrator). A linked release publishes a protected histogram of subjects
over declared bins of the number of links, and its synthetic subjects each
get a number of links drawn from it. :func:`compare_links_per_subject` puts
the three side by side:

* per declared bin, the subjects of the sensitive data, the release's
  protected count and the synthetic subjects, with each one's share;
* the total variation distance ``0.5 * sum |p - q|`` between the sensitive
  and the synthetic shares, over the bins and over the exact numbers of
  links (synthesis draws the number evenly inside a bin, which the bins
  hide and the exact numbers show);
* the mean number of links and the share of subjects with a single link.

The sensitive figures are exact counts of sensitive subjects: the result is
sensitive and stays with the steward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from synthcase.errors import DataError
from synthcase.measure.combinations import IntArray
from synthcase.prepare.linked import LinkBins

__all__ = ["LinkBin", "LinksPerSubject", "compare_links_per_subject"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LinkBin:
    """Subjects in one declared bin of the number of links.

    Attributes:
        label: The bin's label, ``"1"``, ``"3-5"``, ``"41+"``...
        sensitive_subjects: Sensitive subjects in the bin.
        sensitive_share: ``sensitive_subjects`` over all sensitive subjects.
        protected_subjects: The release's protected count of the bin (noisy,
            may be negative), or ``None`` when not given.
        synthetic_subjects: Synthetic subjects in the bin.
        synthetic_share: ``synthetic_subjects`` over all synthetic subjects.
    """

    label: str
    sensitive_subjects: int
    sensitive_share: float | None
    protected_subjects: int | None
    synthetic_subjects: int
    synthetic_share: float | None


@dataclass(frozen=True)
class LinksPerSubject:
    """The number of links per subject, sensitive against synthetic.

    Attributes:
        bins: One entry per declared bin, in bin order.
        binned_distance: Total variation distance between the sensitive and
            the synthetic shares over the bins; ``None`` when either side
            has no subject.
        exact_distance: The same over the exact numbers of links.
        sensitive_subjects: Number of sensitive subjects.
        synthetic_subjects: Number of synthetic subjects.
        sensitive_links: Number of sensitive links (rows).
        synthetic_links: Number of synthetic links (rows).
        sensitive_mean: Mean links per sensitive subject.
        synthetic_mean: Mean links per synthetic subject.
        sensitive_single_share: Share of sensitive subjects with one link.
        synthetic_single_share: Share of synthetic subjects with one link.
    """

    bins: tuple[LinkBin, ...]
    binned_distance: float | None
    exact_distance: float | None
    sensitive_subjects: int
    synthetic_subjects: int
    sensitive_links: int
    synthetic_links: int
    sensitive_mean: float | None
    synthetic_mean: float | None
    sensitive_single_share: float | None
    synthetic_single_share: float | None


def compare_links_per_subject(
    sensitive: IntArray,
    synthetic: IntArray,
    bins: LinkBins,
    protected: Sequence[int] | None = None,
) -> LinksPerSubject:
    """Compare the number of links of sensitive and synthetic subjects.

    Args:
        sensitive: Number of links of each sensitive subject (each >= 1).
        synthetic: Number of links of each synthetic subject (each >= 1).
        bins: The release's declared bins.
        protected: The release's protected number of subjects per bin, or
            ``None``.

    Returns:
        The comparison (sensitive).

    Raises:
        DataError: When a number of links is below 1, or ``protected`` does
            not have one count per bin.

    Example:
        >>> out = compare_links_per_subject(
        ...     np.array([1, 1, 2, 5]), np.array([1, 3]), LinkBins((1, 2, 3, 6))
        ... )
        >>> [(b.label, b.sensitive_subjects, b.synthetic_subjects) for b in out.bins]
        [('1', 2, 1), ('2', 1, 0), ('3+', 1, 1)]
        >>> out.binned_distance, out.exact_distance, out.sensitive_mean
        (0.25, 0.5, 2.25)
    """
    labels = bins.labels()
    for name, counts in (("sensitive", sensitive), ("synthetic", synthetic)):
        if counts.size and int(counts.min()) < 1:
            raise DataError(
                f"a {name} subject has {int(counts.min())} links; every subject "
                "owns at least one row, so count the rows of each subject"
            )
    if protected is not None and len(protected) != len(labels):
        raise DataError(
            f"the protected histogram has {len(protected)} counts for "
            f"{len(labels)} bins ({', '.join(labels)}); pass the histogram of "
            "the same release"
        )
    by_bin_s = np.bincount(bins.bin_of(sensitive), minlength=len(labels))
    by_bin_y = np.bincount(bins.bin_of(synthetic), minlength=len(labels))
    share_s, share_y = _shares(by_bin_s), _shares(by_bin_y)
    rows = tuple(
        LinkBin(
            label=label,
            sensitive_subjects=int(by_bin_s[b]),
            sensitive_share=None if share_s is None else float(share_s[b]),
            protected_subjects=None if protected is None else int(protected[b]),
            synthetic_subjects=int(by_bin_y[b]),
            synthetic_share=None if share_y is None else float(share_y[b]),
        )
        for b, label in enumerate(labels)
    )
    top = int(max(sensitive.max(initial=0), synthetic.max(initial=0))) + 1
    exact_s = _shares(np.bincount(sensitive, minlength=top))
    exact_y = _shares(np.bincount(synthetic, minlength=top))
    return LinksPerSubject(
        bins=rows,
        binned_distance=_distance(share_s, share_y),
        exact_distance=_distance(exact_s, exact_y),
        sensitive_subjects=int(sensitive.size),
        synthetic_subjects=int(synthetic.size),
        sensitive_links=int(sensitive.sum()),
        synthetic_links=int(synthetic.sum()),
        sensitive_mean=_mean(sensitive),
        synthetic_mean=_mean(synthetic),
        sensitive_single_share=_mean(sensitive == 1),
        synthetic_single_share=_mean(synthetic == 1),
    )


def _shares(counts: IntArray) -> FloatArray | None:
    total = int(counts.sum())
    return counts / total if total else None


def _distance(p: FloatArray | None, q: FloatArray | None) -> float | None:
    if p is None or q is None:
        return None
    return 0.5 * float(np.abs(p - q).sum())


def _mean(values: npt.NDArray[np.generic]) -> float | None:
    return float(values.mean()) if values.size else None
