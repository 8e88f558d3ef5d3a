"""Shared tables of the evaluation tests, small enough to count by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthcase.measure import Aggregates
from synthcase.prepare import EncodedTable


@pytest.fixture
def sensitive() -> EncodedTable:
    """Five records over A and B; record 5 has B absent."""
    codes = np.array([[0, 0], [0, 0], [0, 1], [1, 1], [1, -1]], dtype=np.int32)
    return EncodedTable(("A", "B"), (("a1", "a2"), ("b1", "b2")), codes)


@pytest.fixture
def synthetic() -> pd.DataFrame:
    """Four records; b3 is a label the sensitive records never hold."""
    return pd.DataFrame({"A": ["a1", "a1", "a2", "a2"], "B": ["b1", "b2", "b2", "b3"]})


@pytest.fixture
def aggregates() -> Aggregates:
    """Length 1 with errors, length 2 with two suppressed and one fabricated."""
    items = [
        ([("A", "a1")], 4),
        ([("A", "a2")], 2),
        ([("B", "b1")], 2),
        ([("B", "b2")], 3),
        ([("A", "a1"), ("B", "b1")], 2),
        ([("A", "a2"), ("B", "b1")], 1),
    ]
    return Aggregates.from_pairs(items, record_count=5, columns=("A", "B"))
