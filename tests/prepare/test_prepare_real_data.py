"""The bundled ACS extract (Massachusetts 2019) read through the public API."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

import pytest

import synthcase.prepare
from synthcase.errors import DataError
from synthcase.prepare import ABSENT, BinSpec, ReadOptions, load_table, read_frame


@pytest.fixture(scope="module")
def ma2019() -> Path:
    with as_file(files("synthcase") / "data" / "ma2019.csv") as path:
        return Path(path)


def test_sorted_all_matches_the_public_names() -> None:
    exported = synthcase.prepare.__all__
    assert exported == sorted(exported)
    public = {
        name
        for name, value in vars(synthcase.prepare).items()
        if not name.startswith("_") and not isinstance(value, type(synthcase))
    }
    assert set(exported) == public


def test_reads_every_record_and_column(ma2019: Path) -> None:
    frame = read_frame(ma2019, ReadOptions(null_tokens=("N",)))
    assert frame.shape == (7634, 24)
    assert list(frame.columns[:3]) == ["PUMA", "AGEP", "SEX"]


def test_income_is_refused_without_bins(ma2019: Path) -> None:
    options = ReadOptions(null_tokens=("N",), columns=("SEX", "PINCP"))
    with pytest.raises(DataError, match="column 'PINCP' has 1414 distinct values"):
        load_table(ma2019, options)


def test_income_is_accepted_with_declared_bins(ma2019: Path) -> None:
    income = BinSpec.parse("PINCP=-100000,0,10000,25000,50000,100000,10000000")
    options = ReadOptions(
        null_tokens=("N",),
        columns=("PUMA", "AGEP", "SEX", "MSP", "PINCP"),
        bins=(income, BinSpec.parse("AGEP=0..100/10")),
    )
    table = load_table(ma2019, options)
    assert table.n_records == 7634
    assert table.columns == ("PUMA", "AGEP", "SEX", "MSP", "PINCP")
    assert table.categories[4] == income.labels()
    assert table.categories[2] == ("1", "2")
    assert table.categories[3] == ("1", "2", "3", "4", "5", "6")
    assert len(table.categories[0]) == 5
    assert table.decode()[0] == ["25-00503", "[10,20)", "1", "6", "[0,10000)"]
    # "N" marks "not applicable" (MSP and PINCP of children): absent cells.
    raw = read_frame(ma2019, options)
    for j, name in enumerate(table.columns):
        assert ((table.codes[:, j] == ABSENT) == (raw[name] == "N")).all(), name
    assert (table.codes[:, 3] == ABSENT).any()
