"""The Python API end to end: fit, aggregates, sample, release, save."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synthcase as sc
from synthcase.measure.aggregates import parse_combination
from synthcase.measure.noise import NoiseSwitch

SAMPLE = Path(sc.__file__).parent / "data" / "ma2019.csv"


@pytest.fixture
def noise_off():
    NoiseSwitch.enabled = False
    yield
    NoiseSwitch.enabled = True


def small_frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "colour": rng.choice(["red", "green", "blue"], 400),
            "size": rng.choice(["S", "M", "L", ""], 400),
            "flag": rng.choice(["0", "1"], 400),
        }
    )


def test_fit_sample_and_save_a_dataframe(tmp_path: Path, noise_off: None) -> None:
    synth = sc.Synthesizer(
        sc.DPSettings(epsilon=20, delta=1e-6, reporting_length=2),
        sc.SynthesisSettings(seed=5),
    )
    synth.fit(small_frame(), sc.ReadOptions(absent_zero=("flag",)))
    frame = synth.aggregates.to_frame()
    assert set(frame.columns) == {"selections", "protected_count", "length"}
    # flag's zeros are absent: only "1" can be a released flag value.
    assert "flag:0" not in set(frame["selections"])
    records = synth.sample(seed=5)
    assert list(records.columns) == ["colour", "size", "flag"]
    assert len(records) == 400  # noise off: the protected count is exact
    again = synth.sample(seed=5)
    pd.testing.assert_frame_equal(records, again)

    folder = synth.release(seed=5).save(tmp_path / "out")
    assert sorted(p.name for p in folder.iterdir()) == [
        "PRIVACY.md",
        "aggregates.tsv",
        "release.json",
        "showcase.html",
        "synthetic.csv",
    ]
    meta = json.loads((folder / "release.json").read_text())
    assert meta["mode"] == "dp-aggregate-seeded"
    assert meta["columns"] == ["colour", "size", "flag"]
    assert meta["privacy"]["epsilon"] <= 20
    assert meta["parameters"]["dp"]["reporting_length"] == 2
    assert meta["parameters"]["synthesis"]["seed"] == 5
    lengths = meta["privacy"]["lengths"]
    assert [entry["length"] for entry in lengths] == [1, 2]
    for entry in lengths:
        assert entry["noise_scale"] > 0 and entry["contribution_bound"] >= 1
    assert meta["released_combinations"] == {
        "1": int(synth.aggregates.counts[0].size),
        "2": int(synth.aggregates.counts[1].size),
    }


def test_saved_synthetic_combinations_are_all_in_the_aggregates(
    tmp_path: Path,
) -> None:
    synth = sc.Synthesizer(sc.DPSettings(epsilon=2, reporting_length=2))
    synth.fit(small_frame())
    folder = synth.release(seed=1).save(tmp_path / "rel")
    synthetic = pd.read_csv(folder / "synthetic.csv", dtype=str, keep_default_na=False)
    lines = (folder / "aggregates.tsv").read_text().splitlines()
    assert lines[0] == "selections\tprotected_count"
    assert lines[1].startswith("record_count\t")
    listed = {
        frozenset(parse_combination(line.rsplit("\t", 1)[0])) for line in lines[2:]
    }
    for row in synthetic.itertuples(index=False):
        items = [(c, v) for c, v in zip(synthetic.columns, row, strict=True) if v]
        for k in (1, 2):
            for combo in itertools.combinations(items, k):
                assert frozenset(combo) in listed, combo


def test_columns_keep_input_order_whatever_order_they_are_asked_in() -> None:
    synth = sc.Synthesizer(sc.DPSettings(epsilon=4, reporting_length=2))
    synth.fit(
        SAMPLE,
        sc.ReadOptions(columns=("SEX", "PUMA", "EDU"), null_tokens=("N",)),
    )
    assert synth.aggregates.columns == ("PUMA", "SEX", "EDU")


def test_unfitted_synthesizer_says_what_to_do() -> None:
    synth = sc.Synthesizer(sc.DPSettings(epsilon=1))
    with pytest.raises(sc.ParameterError, match=r"call fit\(data\) first"):
        synth.sample()


def test_release_without_records_writes_no_synthetic_file(tmp_path: Path) -> None:
    synth = sc.Synthesizer(sc.DPSettings(epsilon=2, reporting_length=2))
    synth.fit(small_frame())
    folder = synth.release(synthesize=False).save(tmp_path / "agg")
    assert not (folder / "synthetic.csv").exists()
    assert (folder / "aggregates.tsv").exists()


def test_release_from_saved_aggregates_keeps_the_accounting(tmp_path: Path) -> None:
    synth = sc.Synthesizer(sc.DPSettings(epsilon=2, reporting_length=2))
    synth.fit(small_frame())
    first = synth.release(synthesize=False).save(tmp_path / "agg")
    from synthcase.pipeline import load_release_aggregates

    aggregates, meta = load_release_aggregates(first)
    assert aggregates.columns == ("colour", "size", "flag")
    release = sc.release_from_aggregates(
        aggregates, meta, sc.SynthesisSettings(records=50, seed=2)
    )
    assert len(release.synthetic) == 50
    assert release.metadata["privacy"] == meta["privacy"]
    assert "epsilon = 2" in release.statement


def test_statement_names_the_guarantee_and_its_limits(tmp_path: Path) -> None:
    synth = sc.Synthesizer(sc.DPSettings(epsilon=3, reporting_length=2), unit="case")
    synth.fit(small_frame())
    text = synth.release(seed=1).statement
    assert "differentially private" in text
    assert "epsilon = 3" in text
    assert "each **case**" in text
    assert "Group facts" in text and "Repeated releases" in text


def test_declared_values_let_the_model_keep_a_rare_value(noise_off: None) -> None:
    # Three records of "violet" among 600: too few to pass the one-way
    # threshold or cut, so without a declared list the model never sees it.
    rng = np.random.default_rng(8)
    colour = rng.choice(["red", "green", "blue"], 600).astype(object)
    colour[:3] = "violet"
    frame = pd.DataFrame({"colour": colour, "flag": rng.choice(["0", "1"], 600)})
    settings = sc.DPSettings(epsilon=2, reporting_length=2, model_share=0.5)

    plain = sc.Synthesizer(settings)
    plain.fit(frame)
    assert "colour:violet" not in set(plain.aggregates.to_frame()["selections"])
    assert "violet" not in set(plain.sample(seed=1)["colour"])

    declared = sc.Synthesizer(settings)
    options = sc.ReadOptions(
        values=(sc.ValueList("colour", ("red", "green", "blue", "violet", "grey")),)
    )
    declared.fit(frame, options)
    # The published counts still leave out a value this rare ...
    assert "colour:violet" not in set(declared.aggregates.to_frame()["selections"])
    # ... but the model measures every declared value, so records keep it.
    records = declared.sample(seed=1)
    assert 1 <= int((records["colour"] == "violet").sum()) <= 12
    assert "grey" not in set(records["colour"])
    release = declared.release(seed=1)
    assert release.metadata["input"]["values"] == {
        "colour": ["red", "green", "blue", "violet", "grey"]
    }
    assert "declared: colour" in release.statement
