"""The evaluate package's public names."""

from __future__ import annotations

import synthcase.evaluate


def test_sorted_all_matches_the_public_names() -> None:
    exported = synthcase.evaluate.__all__
    assert exported == sorted(exported)
    public = {
        name
        for name, value in vars(synthcase.evaluate).items()
        if not name.startswith("_") and not isinstance(value, type(synthcase))
    }
    assert set(exported) == public
