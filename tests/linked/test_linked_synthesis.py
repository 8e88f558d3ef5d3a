"""Synthetic linked records: estimation from counts, conditional drawing, layout."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from synthcase.errors import ParameterError
from synthcase.measure import Aggregates
from synthcase.prepare.linked import LinkBins, LinkedSchema
from synthcase.synthesize.linked import (
    ConditionalSampler,
    LinkedSynthesisSettings,
    NoiseProfile,
    ProtectedLinked,
    estimated_table,
    subject_columns_never_absent,
    subject_layout,
    subject_records,
    synthesize_linked,
)

EXACT = NoiseProfile(scales=(0.0, 0.0, 0.0), thresholds=(0.0, 0.0, 0.0))
"""Noise facts of an exact release: an unreleased combination has count 0."""


def exact_aggregates(frame: pd.DataFrame, length: int = 2) -> Aggregates:
    """Every combination's exact count (a noise-free release), for tests."""
    columns = list(frame.columns)
    items: list[tuple[list[tuple[str, str]], int]] = []
    from itertools import combinations

    for k in range(1, length + 1):
        for chosen in combinations(columns, k):
            present = frame.loc[:, list(chosen)].dropna()
            for values, count in present.value_counts().items():
                labels = values if isinstance(values, tuple) else (values,)
                items.append(
                    (list(zip(chosen, map(str, labels), strict=True)), int(count))
                )
    return Aggregates.from_pairs(
        items, record_count=len(frame), columns=columns, reporting_length=length
    )


def test_estimated_table_fills_absent_cells_by_inclusion_exclusion() -> None:
    frame = pd.DataFrame(
        {
            "A": ["a", "a", "a", "b", None, None],
            "B": ["x", "y", None, "x", "x", None],
        }
    )
    table = estimated_table(exact_aggregates(frame), ["A", "B"], EXACT)
    # Rows a, b, absent; columns x, y, absent.
    assert table.tolist() == [[1, 1, 1], [1, 0, 0], [1, 0, 1]]
    # Column order follows the request, not the aggregates.
    flipped = estimated_table(exact_aggregates(frame), ["B", "A"], EXACT)
    assert flipped.tolist() == table.T.tolist()


def test_an_unreleased_combination_is_estimated_not_zero() -> None:
    aggregates = Aggregates.from_pairs(
        [
            ([("A", "a")], 60),
            ([("A", "b")], 40),
            ([("B", "x")], 50),
            ([("B", "y")], 50),
            ([("A", "a"), ("B", "x")], 30),
            ([("A", "a"), ("B", "y")], 30),
            ([("A", "b"), ("B", "x")], 20),
        ],
        record_count=100,
    )
    table = estimated_table(aggregates, ["A", "B"])
    # (b, y) was not released: independence gives 40 * 50 / 100 = 20.
    assert table[:2, :2].tolist() == [[30, 30], [20, 20]]
    # Capped at the threshold plus one noise scale when those are known.
    capped = estimated_table(
        aggregates, ["A", "B"], NoiseProfile(scales=(1.0, 2.0), thresholds=(0, 5))
    )
    assert capped[1, 1] == 7.0


def test_noise_sized_absent_counts_are_not_synthesized() -> None:
    def absent_cells(held: int, noise: NoiseProfile) -> float:
        aggregates = Aggregates.from_pairs(
            [([("A", "a")], 480), ([("A", "b")], held - 480)], record_count=1000
        )
        return float(estimated_table(aggregates, ["A"], noise)[-1])

    # The absent count's noise: sqrt(5^2 + 2 * 5^2) = 8.66. 17 absent is
    # within two of them: taken as never absent. 20 (2.3) is shown.
    noisy = NoiseProfile(scales=(5.0,), thresholds=(0,), record_scale=5.0)
    assert absent_cells(983, noisy) == 0
    assert absent_cells(980, noisy) == 20
    exact = NoiseProfile(scales=(1.0,), thresholds=(0,), record_scale=1.0)
    assert absent_cells(983, exact) == 17
    # A column another release shows never absent gets no absent cells.
    held = NoiseProfile(scales=(1.0,), record_scale=1.0, held=frozenset({"A"}))
    assert absent_cells(900, held) == 0


def conditional_frame(rng: np.random.Generator) -> pd.DataFrame:
    """G decides T; N is independent noise with many values."""
    g = rng.choice(["g1", "g2"], size=4000)
    t = np.where(
        g == "g1",
        rng.choice(["t1", "t2"], size=4000, p=[0.9, 0.1]),
        rng.choice(["t1", "t2"], size=4000, p=[0.2, 0.8]),
    )
    n = rng.choice([f"n{i}" for i in range(12)], size=4000)
    return pd.DataFrame({"G": g, "N": n, "T": t})


def test_the_sampler_picks_the_informative_parent_and_its_distribution() -> None:
    frame = conditional_frame(np.random.default_rng(3))
    sampler = ConditionalSampler(exact_aggregates(frame), ["G", "N"], ["T"], EXACT)
    # Without noise every bit of information counts, N's chance pattern too.
    assert sampler.parents["T"][0] == "G"
    prefix = pd.concat([frame[["G", "N"]]] * 3, ignore_index=True)
    drawn = sampler.sample(prefix, np.random.default_rng(1))
    share = drawn["T"].eq("t1").groupby(prefix["G"]).mean()
    truth = frame["T"].eq("t1").groupby(frame["G"]).mean()
    assert abs(share["g1"] - truth["g1"]) < 0.02, (share, truth)
    assert abs(share["g2"] - truth["g2"]) < 0.02, (share, truth)


def test_noise_keeps_a_many_valued_parent_out() -> None:
    frame = conditional_frame(np.random.default_rng(4))
    aggregates = exact_aggregates(frame)
    # With noise this large, the 12-valued column's pattern is only noise.
    noise = NoiseProfile(scales=(30.0, 40.0), thresholds=(0, 0), record_scale=30)
    sampler = ConditionalSampler(aggregates, ["N"], ["T"], noise)
    assert sampler.parents == {"T": ()}


def test_unreleased_prefix_values_are_summed_out() -> None:
    frame = conditional_frame(np.random.default_rng(5))
    sampler = ConditionalSampler(exact_aggregates(frame), ["G"], ["T"], EXACT)
    prefix = pd.DataFrame({"G": ["g9"] * 4000})
    drawn = sampler.sample(prefix, np.random.default_rng(2))
    expected = frame["T"].eq("t1").mean()
    assert abs(drawn["T"].eq("t1").mean() - expected) < 0.03


def schema(**changes: object) -> LinkedSchema:
    fields: dict[str, object] = {
        "subject_id": "victim_id",
        "input_columns": ("victim_id", "gender", "forms", "IP_role"),
        "subject_columns": ("gender", "forms"),
        "link_columns": ("IP_role",),
        "delimiters": (("forms", ";"),),
        "presence": (
            ("forms[labour]", "forms", "labour"),
            ("forms[sexual]", "forms", "sexual"),
        ),
        "link_bins": LinkBins((1, 2, 3, 5)),
        "links_column": "links_per_subject",
    }
    fields.update(changes)
    return LinkedSchema(**fields)  # type: ignore[arg-type]


def small_protected() -> ProtectedLinked:
    rng = np.random.default_rng(8)
    size = 3000
    gender = rng.choice(["Woman", "Man"], size=size)
    labour = np.where(rng.random(size) < 0.6, "1", None)
    sexual = np.where(gender == "Woman", "1", None)
    links = rng.choice(["1", "2", "3-4"], size=size, p=[0.5, 0.3, 0.2])
    subjects = pd.DataFrame(
        {
            "gender": gender,
            "forms[labour]": labour,
            "forms[sexual]": sexual,
            "links_per_subject": links,
        }
    )
    role = np.where(gender == "Woman", "recruiter", "employer")
    rows = pd.DataFrame(
        {"gender": gender, "forms[labour]": labour, "forms[sexual]": sexual}
    )
    rows["IP_role"] = role
    return ProtectedLinked(
        schema=schema(),
        subjects=exact_aggregates(subjects, 3),
        links=exact_aggregates(rows, 3),
        links_histogram=(1500, 900, 600),
        subject_count=3000,
        subject_noise=EXACT,
        link_noise=EXACT,
    )


def test_synthetic_links_follow_the_layout_and_the_subjects() -> None:
    protected = small_protected()
    settings = LinkedSynthesisSettings(subjects=1000, seed=4)
    frame = synthesize_linked(protected, settings)
    assert list(frame.columns) == ["victim_id", "gender", "forms", "IP_role"]
    ids = frame["victim_id"].drop_duplicates()
    assert len(ids) == 1000
    assert ids.iloc[0] == "S000001" and ids.iloc[-1] == "S001000"
    per_subject = frame.groupby("victim_id", sort=False)
    assert (per_subject["gender"].nunique(dropna=False) == 1).all()
    links = per_subject.size()
    assert set(links.unique()) <= {1, 2, 3, 4}
    # The histogram decides the bins: 50% one link, 30% two, 20% three-four.
    assert links.eq(1).mean() == pytest.approx(0.5, abs=0.002)
    assert links.eq(2).mean() == pytest.approx(0.3, abs=0.002)
    # The link column follows the subject's gender.
    woman = frame["gender"] == "Woman"
    assert (frame.loc[woman, "IP_role"] == "recruiter").mean() > 0.97
    assert (frame.loc[~woman, "IP_role"] == "employer").mean() > 0.97
    # Multi-value cells are joined back in the presence order.
    assert set(frame["forms"].dropna()) <= {"labour", "sexual", "labour;sexual"}
    assert (frame.loc[woman, "forms"].fillna("").str.contains("sexual")).mean() > 0.97
    again = synthesize_linked(protected, settings)
    pd.testing.assert_frame_equal(frame, again)


def test_link_tables_take_never_absent_subject_columns_from_the_subjects() -> None:
    protected = small_protected()
    given = ["gender", "forms[labour]", "forms[sexual]"]
    # Gender is always held; the forms are absent for 40 % and 50 %.
    assert subject_columns_never_absent(protected, given) == {"gender"}
    # 300 more links than gender counts: the exact link noise would show
    # them as links of absent gender, which the subjects rule out.
    links = dataclasses.replace(protected.links, record_count=3300)
    assert estimated_table(links, ["gender"], EXACT)[-1] == 300
    held = dataclasses.replace(EXACT, held=frozenset({"gender"}))
    assert estimated_table(links, ["gender"], held).tolist() == [
        pytest.approx(1500, abs=60),
        pytest.approx(1500, abs=60),
        0.0,
    ]


def test_subject_views_of_synthetic_links() -> None:
    frame = pd.DataFrame(
        {
            "victim_id": ["S1", "S1", "S2"],
            "gender": ["Woman", "Woman", "Man"],
            "forms": ["sexual", "sexual", pd.NA],
            "IP_role": ["b", "a", "a"],
        }
    )
    records = subject_records(
        frame, schema(), ["gender", "forms[sexual]", "links_per_subject"]
    )
    assert records.to_dict("list") == {
        "gender": ["Woman", "Man"],
        "forms[sexual]": ["1", None],
        "links_per_subject": ["2", "1"],
    }
    layout = subject_layout(frame, schema())
    assert list(layout.columns) == [
        "victim_id",
        "gender",
        "forms",
        "IP_role",
        "links_per_subject",
    ]
    assert layout["IP_role"].tolist() == ["a;b", "a"]
    assert layout["links_per_subject"].tolist() == [2, 1]


def test_subject_count_must_not_be_negative() -> None:
    with pytest.raises(ParameterError, match="subjects is -1"):
        LinkedSynthesisSettings(subjects=-1)
