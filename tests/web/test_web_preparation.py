"""The prepare page's form state turned into read options."""

from __future__ import annotations

import pandas as pd

from synthcase.prepare import BinSpec, ValueList, encode
from synthcase.web.preparation import Preparation


def test_value_lists_reach_the_read_options_of_kept_columns() -> None:
    prep = Preparation(
        null_tokens=["N"],
        bins={"AGE": BinSpec.parse("AGE=0,18,120")},
        values={"SEX": ValueList.parse("SEX=1,2,9"), "GONE": ValueList.parse("GONE=a")},
    )
    options = prep.read_options(["AGE", "SEX"])
    assert options.value_lists == {"SEX": ("1", "2", "9")}
    frame = pd.DataFrame({"AGE": ["3", "40"], "SEX": ["2", "N"]})
    table = encode(frame, options)
    assert table.categories == (("[0,18)", "[18,120]"), ("1", "2", "9"))


def test_a_copy_does_not_share_the_value_lists() -> None:
    prep = Preparation(values={"SEX": ValueList.parse("SEX=1,2")})
    copy = prep.copy()
    copy.values.pop("SEX")
    assert "SEX" in prep.values
