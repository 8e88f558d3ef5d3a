"""The release methods the synthesize page offers, and how runs name them.

A method is named by the release mode it produces (the ``mode`` of
``release.json``), so a run, its release and its bundle all use one name.
The guarantee shown beside a run is read from the release's privacy block:
epsilon and delta for differential privacy, the resolution ``k`` for
k-anonymity.

Examples:
    >>> method_label("k-anonymity-row-seeded", short=True)
    'k-anonymity, row-seeded'
    >>> guarantee_text({"epsilon": 3.9999999966, "delta": 1.29e-05})
    'ε 4 · δ 1.29e-05'
    >>> guarantee_text({"resolution": 10})
    'k = 10'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthcase.k_anonymity import K_MODES
from synthcase.pipeline import DEFAULT_MODEL_SHARE

__all__ = [
    "DEFAULT_METHOD",
    "DEFAULT_MODEL_SHARE",
    "DP_METHODS",
    "METHODS",
    "guarantee_text",
    "k_mode",
    "method_label",
]


_K_PREFIX = "k-anonymity-"

METHODS: dict[str, str] = {
    "dp-model": (
        "Differential privacy — complete records from a DP model (recommended)"
    ),
    "dp-aggregate-seeded": (
        "Differential privacy — records from the published counts only "
        "(Synthetic Data Showcase method)"
    ),
    f"{_K_PREFIX}row-seeded": (
        "k-anonymity, row-seeded — each real record seeds a synthetic one"
    ),
    f"{_K_PREFIX}unseeded": ("k-anonymity, unseeded — records drawn column by column"),
    f"{_K_PREFIX}value-seeded": (
        "k-anonymity, value-seeded — records built from single-value counts"
    ),
    f"{_K_PREFIX}aggregate-seeded": (
        "k-anonymity, aggregate-seeded — records built from the k-anonymous "
        "counts alone"
    ),
}
"""Every method, by release mode, with the label the page shows."""

DP_METHODS = ("dp-model", "dp-aggregate-seeded")
"""The differentially private methods."""

DEFAULT_METHOD = "dp-model"

_SHORT = {
    "dp-model": "DP, model",
    "dp-aggregate-seeded": "DP, counts only",
    "dp-linked": "DP, linked records",
}


def k_mode(method: str) -> str | None:
    """The k-anonymity mode of ``method`` (e.g. ``"row-seeded"``), else ``None``.

    >>> k_mode("k-anonymity-value-seeded"), k_mode("dp-model")
    ('value-seeded', None)
    """
    if not method.startswith(_K_PREFIX):
        return None
    mode = method.removeprefix(_K_PREFIX)
    return mode if mode in K_MODES else None


def method_label(mode: str, *, short: bool = False) -> str:
    """How the page names a release mode; an unknown mode is shown as it is."""
    if short:
        found = k_mode(mode)
        return f"k-anonymity, {found}" if found else _SHORT.get(mode, mode)
    return METHODS.get(mode, mode)


def guarantee_text(privacy: Mapping[str, Any]) -> str:
    """The guarantee of a release, from its ``release.json`` privacy block.

    Figures are shown to 4 significant figures, as the command line shows
    them, for reading only: ``release.json`` and ``PRIVACY.md`` hold the exact
    values. Delta, when not known yet (it is chosen from the protected record
    count during the run), is shown as "δ automatic".

    >>> guarantee_text({"epsilon": 1.0})
    'ε 1 · δ automatic'
    >>> guarantee_text({})
    '—'
    """
    if "epsilon" in privacy:
        delta = privacy.get("delta")
        shown = "automatic" if delta is None else f"{float(delta):.4g}"
        return f"ε {float(privacy['epsilon']):.4g} · δ {shown}"
    if "resolution" in privacy:
        return f"k = {int(privacy['resolution'])}"
    return "—"
