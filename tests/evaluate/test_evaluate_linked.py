"""The linked evaluation on small hand-made files, by hand and by slow loops."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthcase.errors import DataError, ParameterError
from synthcase.evaluate import (
    LinkedEvaluation,
    evaluate_linked_release,
    evaluate_release,
    write_linked_evaluation,
)
from synthcase.measure import Aggregates
from synthcase.prepare import ReadOptions
from synthcase.prepare.linked import LinkBins, LinkedSchema, MultiValue, load_linked

OPTIONS = ReadOptions(subject_id="victim_id")
LINKS = "links_per_subject"


def cases() -> pd.DataFrame:
    """Four victims with 2, 3, 1 and 1 links; V2's region is blank once."""
    return pd.DataFrame(
        {
            "victim_id": ["V1", "V1", "V2", "V2", "V2", "V3", "V4"],
            "gender": ["Woman", "Woman", "Man", "Man", "Man", "Woman", "Woman"],
            "region": ["Asia", "Asia", "Europe", "", "Europe", "Asia", ""],
            "IP_relation": [
                "Family",
                "Stranger",
                "Employer",
                "Employer",
                "",
                "Other",
                "Family",
            ],
            "IP_paid": ["1", "", "", "1", "1", "", "1"],
        }
    )


def synthetic_links() -> pd.DataFrame:
    """Three synthetic victims with 2, 1 and 3 links."""
    return pd.DataFrame(
        {
            "victim_id": ["S1", "S1", "S2", "S3", "S3", "S3"],
            "gender": ["Woman", "Woman", "Woman", "Man", "Man", "Man"],
            "region": ["Asia", "Asia", "Asia", "Europe", "Europe", "Europe"],
            "IP_relation": [
                "Family",
                "Family",
                "Stranger",
                "Employer",
                "Employer",
                "Other",
            ],
            "IP_paid": ["1", None, None, "1", "1", None],
        }
    )


def schema(**changes: object) -> LinkedSchema:
    values: dict[str, object] = {
        "subject_id": "victim_id",
        "input_columns": ("victim_id", "gender", "region", "IP_relation", "IP_paid"),
        "subject_columns": ("gender", "region"),
        "link_columns": ("IP_relation", "IP_paid"),
        "delimiters": (),
        "presence": (),
        "link_bins": LinkBins((1, 2, 3, 4)),
        "links_column": LINKS,
    }
    return LinkedSchema(**{**values, **changes})  # type: ignore[arg-type]


def evaluate(**changes: object) -> LinkedEvaluation:
    arguments: dict[str, object] = {
        "reporting_length": 2,
        "resolution": 3,
        "protected_links": [3, 0, 2],
    }
    return evaluate_linked_release(
        load_linked(cases(), OPTIONS),
        synthetic_links(),
        schema(),
        None,
        **{**arguments, **changes},  # type: ignore[arg-type]
    )


# The subjects as one row each, written out by hand: V2's region is the
# value most of its rows hold, the number of links is binned 1, 2, 3+.
SENSITIVE_SUBJECTS = pd.DataFrame(
    {
        "gender": ["Woman", "Man", "Woman", "Woman"],
        "region": ["Asia", "Europe", "Asia", None],
        LINKS: ["2", "3+", "1", "1"],
    }
)
SYNTHETIC_SUBJECTS = pd.DataFrame(
    {
        "gender": ["Woman", "Woman", "Man"],
        "region": ["Asia", "Asia", "Europe"],
        LINKS: ["2", "1", "3+"],
    }
)
# The links with their subject's values, by hand.
SENSITIVE_ROWS = pd.DataFrame(
    {
        "gender": ["Woman", "Woman", "Man", "Man", "Man", "Woman", "Woman"],
        "region": ["Asia", "Asia", "Europe", "Europe", "Europe", "Asia", None],
        LINKS: ["2", "2", "3+", "3+", "3+", "1", "1"],
        "IP_relation": [
            "Family",
            "Stranger",
            "Employer",
            "Employer",
            None,
            "Other",
            "Family",
        ],
        "IP_paid": ["1", None, None, "1", "1", None, "1"],
    }
)
SENSITIVE_OWNERS = [1, 1, 2, 2, 2, 3, 4]
SYNTHETIC_ROWS = pd.DataFrame(
    {
        "gender": ["Woman", "Woman", "Woman", "Man", "Man", "Man"],
        "region": ["Asia", "Asia", "Asia", "Europe", "Europe", "Europe"],
        LINKS: ["2", "2", "1", "3+", "3+", "3+"],
        "IP_relation": [
            "Family",
            "Family",
            "Stranger",
            "Employer",
            "Employer",
            "Other",
        ],
        "IP_paid": ["1", None, None, "1", "1", None],
    }
)
SYNTHETIC_OWNERS = [1, 1, 2, 3, 3, 3]


def slow_tvd(real: pd.DataFrame, synthetic: pd.DataFrame, columns: list[str]) -> float:
    a = real[columns].fillna("").value_counts(normalize=True)
    b = synthetic[columns].fillna("").value_counts(normalize=True)
    both = pd.concat([a, b], axis=1).fillna(0.0)
    return float((both.iloc[:, 0] - both.iloc[:, 1]).abs().sum() / 2)


def held_by_subject(
    rows: pd.DataFrame, owners: list[int], length: int
) -> dict[int, set[tuple[tuple[str, str], ...]]]:
    """Every subject's combinations of ``length`` present values, over its rows."""
    held: dict[int, set[tuple[tuple[str, str], ...]]] = {}
    for owner, row in zip(owners, rows.to_dict("records"), strict=True):
        present = [(c, v) for c, v in row.items() if pd.notna(v)]
        held.setdefault(owner, set()).update(itertools.combinations(present, length))
    return held


def test_links_per_subject_by_hand() -> None:
    links = evaluate().links_per_subject
    assert [
        (b.label, b.sensitive_subjects, b.protected_subjects, b.synthetic_subjects)
        for b in links.bins
    ] == [("1", 2, 3, 1), ("2", 1, 0, 1), ("3+", 1, 2, 1)]
    # Half of |1/2 - 1/3| + |1/4 - 1/3| + |1/4 - 1/3|; the same exactly.
    assert links.binned_distance == pytest.approx(1 / 6)
    assert links.exact_distance == pytest.approx(1 / 6)
    assert (links.sensitive_mean, links.synthetic_mean) == (1.75, 2.0)
    assert (links.sensitive_links, links.synthetic_links) == (7, 6)


def test_the_subjects_are_evaluated_like_a_flat_table_of_subjects() -> None:
    ev = evaluate()
    flat = evaluate_release(
        SENSITIVE_SUBJECTS,
        SYNTHETIC_SUBJECTS,
        None,
        reporting_length=2,
        resolution=3,
        group_column=None,
    )
    assert ev.subjects.columns == ("gender", "region", LINKS)
    assert ev.subjects.synthetic_fidelity == flat.synthetic_fidelity
    assert ev.subjects.synthetic_leakage == flat.synthetic_leakage
    assert ev.subjects.records == flat.records
    assert ev.subjects.k_marginal == flat.k_marginal
    assert ev.subjects.sensitive_risk.by_length == flat.sensitive_risk.by_length
    assert ev.subjects.sensitive_risk.unit == "victim"
    # By hand: V1 alone has 2 links, V2 alone is a man, V3 alone holds
    # (Asia, 1 link); V4's values are each shared.
    assert ev.subjects.sensitive_risk.by_length[0].unique_share == 0.5
    assert ev.subjects.sensitive_risk.unique_share == 0.75
    assert ev.subjects.records.record_expansion == 0.75


def test_every_distance_matches_pandas_on_the_right_rows() -> None:
    ev = evaluate()
    subject_columns = ["gender", "region", LINKS]
    link_columns = ["IP_relation", "IP_paid"]
    expected = {
        "subject": [[c] for c in subject_columns],
        "subject x subject": [
            list(p) for p in itertools.combinations(subject_columns, 2)
        ],
        "link": [[c] for c in link_columns],
        "subject x link": [[s, k] for s in subject_columns for k in link_columns],
        "link x link": [link_columns],
    }
    found = {(d.kind, d.columns): d.distance for d in ev.distances}
    assert list(found) == [(k, tuple(c)) for k, cs in expected.items() for c in cs]
    for kind, marginals in expected.items():
        real, synthetic = (
            (SENSITIVE_SUBJECTS, SYNTHETIC_SUBJECTS)
            if kind.startswith("subject") and "link" not in kind
            else (SENSITIVE_ROWS, SYNTHETIC_ROWS)
        )
        for columns in marginals:
            distance = found[(kind, tuple(columns))]
            assert distance == pytest.approx(
                slow_tvd(real, synthetic, columns), abs=1e-12
            ), (kind, columns)
    # By hand, on links: half of 2/21 + 1/42 + 1/7 + 1/7 + 1/6.
    assert found[("subject x link", ("gender", "IP_relation"))] == pytest.approx(2 / 7)
    by_kind = {k.kind: k for k in ev.by_kind}
    assert by_kind["subject x link"].marginals == 6
    assert by_kind["link x link"].worst_columns == ("IP_relation", "IP_paid")


@pytest.mark.parametrize("resolution", [2, 3])
def test_link_risk_and_leakage_match_a_slow_loop(resolution: int) -> None:
    ev = evaluate(resolution=resolution)
    assert ev.link_risk is not None
    assert ev.link_risk.unit == "victim"
    unique: set[int] = set()
    rare: set[int] = set()
    for k in (1, 2):
        held = held_by_subject(SENSITIVE_ROWS, SENSITIVE_OWNERS, k)
        copied = held_by_subject(SYNTHETIC_ROWS, SYNTHETIC_OWNERS, k)
        counts = Counter(c for combos in held.values() for c in combos)
        synthetic = Counter(c for combos in copied.values() for c in combos)
        unique |= {
            s for s, combos in held.items() if any(counts[c] == 1 for c in combos)
        }
        rare |= {
            s
            for s, combos in held.items()
            if any(counts[c] < resolution for c in combos)
        }
        row = ev.link_risk.by_length[k - 1]
        assert (row.unique_share, row.rare_share) == (len(unique) / 4, len(rare) / 4)

        # Leakage counts only the combinations that hold a link value.
        links = {"IP_relation", "IP_paid"}
        with_link = [c for c in counts if any(col in links for col, _ in c)]
        sensitive_rare = {c for c in with_link if counts[c] < resolution}
        copied_rare = {
            c
            for c in synthetic
            if synthetic[c] < resolution and any(col in links for col, _ in c)
        }
        leak = ev.link_leakage[k - 1]
        assert leak.length == k
        assert leak.sensitive_rare == len(sensitive_rare)
        assert leak.synthetic_rare == len(copied_rare)
        assert leak.leaked == len(sensitive_rare & copied_rare)


def test_with_their_links_every_victim_is_unique() -> None:
    # V4 alone has a family member among the links of a single-link victim.
    ev = evaluate()
    assert ev.link_risk is not None
    assert ev.link_risk.unique_share == 1.0
    assert ev.subjects.sensitive_risk.unique_share == 0.75


def test_the_summary_quotes_the_figures_in_plain_words() -> None:
    risk, aggregates, privacy, utility, links = evaluate().summary
    assert risk.startswith(
        "In the sensitive data, 75.0% of victims hold a combination of up to 2 "
        "values of their own that no other victim holds and 100.0% one that "
        "fewer than 3 victims share; counting the values of their links too, "
        "100.0% and 100.0%"
    )
    assert aggregates == "No victim aggregates were evaluated."
    assert "among the synthetic victims too" in privacy
    assert "number 0.75 times the sensitive victims" in utility
    assert links.startswith(
        "The synthetic victims have 2.00 links on average against 1.75 for the "
        "sensitive ones (total variation distance over the declared bins 0.167, "
        "over the exact numbers 0.167); pairs of a victim column and a link "
        "column are at a mean total variation distance of "
    )


def test_subject_aggregates_are_compared_with_the_subjects() -> None:
    aggregates = Aggregates.from_pairs(
        [
            ([("gender", "Woman")], 3),
            ([("gender", "Man")], 2),
            ([(LINKS, "1")], 2),
        ],
        record_count=4,
        columns=("gender", "region", LINKS),
    )
    ev = evaluate_linked_release(
        load_linked(cases(), OPTIONS),
        synthetic_links(),
        schema(),
        aggregates,
        reporting_length=1,
    )
    fidelity = ev.subjects.aggregates_fidelity
    assert fidelity is not None
    row = fidelity.by_length[0]
    # Sensitive: Woman 3, Man 1, Asia 2, Europe 1, links 1: 2, 2: 1, 3+: 1.
    assert (row.sensitive_combinations, row.suppressed, row.fabricated) == (7, 4, 0)
    # Errors 0, 1, 2, 1, 0, 1, 1 over the seven sensitive combinations.
    assert row.mean_absolute_error == pytest.approx(6 / 7)
    assert ev.summary[1].startswith("The victim aggregates keep ")


def test_multi_value_link_cells_count_by_released_value() -> None:
    frame = cases().assign(
        forms=["labour;sexual", "organs", "labour", "", "sexual", "labour", "organs"]
    )
    linked = load_linked(frame, OPTIONS, [MultiValue(column="forms")])
    synthetic = synthetic_links().assign(
        forms=["labour", "sexual;labour", None, "labour", "sexual", "labour"]
    )
    released = (
        ("forms[labour]", "forms", "labour"),
        ("forms[sexual]", "forms", "sexual"),
    )
    ev = evaluate_linked_release(
        linked,
        synthetic,
        schema(
            input_columns=(*schema().input_columns, "forms"),
            link_columns=("IP_relation", "IP_paid", "forms"),
            delimiters=(("forms", ";"),),
            presence=released,
        ),
        None,
        reporting_length=2,
    )
    assert ev.link_columns == (
        "IP_relation",
        "IP_paid",
        "forms[labour]",
        "forms[sexual]",
    )
    found = {d.columns: d.distance for d in ev.distances}
    real = pd.DataFrame({"labour": ["1", None, "1", None, None, "1", None]})
    copy = pd.DataFrame({"labour": ["1", "1", None, "1", None, "1"]})
    assert found[("forms[labour]",)] == pytest.approx(slow_tvd(real, copy, ["labour"]))
    # A value no mechanism released is nowhere in the evaluation.
    assert "organs" not in json.dumps(ev.to_dict())


def test_without_link_columns_there_is_no_link_risk() -> None:
    frame = cases().drop(columns=["IP_relation", "IP_paid"])
    ev = evaluate_linked_release(
        load_linked(frame, OPTIONS),
        synthetic_links().drop(columns=["IP_relation", "IP_paid"]),
        schema(
            input_columns=("victim_id", "gender", "region"),
            link_columns=(),
        ),
        None,
        reporting_length=2,
    )
    assert ev.link_risk is None
    assert ev.link_leakage == ()
    assert {d.kind for d in ev.distances} == {"subject", "subject x subject"}
    assert "pairs of a victim column" not in ev.summary[4]


@pytest.mark.parametrize(
    ("change", "error", "fragment"),
    [
        ({"reporting_length": 0}, ParameterError, "reporting_length is 0"),
        ({"resolution": 0}, ParameterError, "resolution is 0"),
    ],
)
def test_settings_are_checked(
    change: dict[str, int], error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error, match=fragment):
        evaluate(**change)


def test_the_release_must_fit_the_sensitive_file() -> None:
    linked = load_linked(cases(), OPTIONS)
    with pytest.raises(
        DataError, match="read the sensitive file with --subject-id case"
    ):
        evaluate_linked_release(
            linked,
            synthetic_links(),
            schema(subject_id="case"),
            None,
            reporting_length=2,
        )
    with pytest.raises(DataError, match=r"lacks the release's column.*'age'"):
        evaluate_linked_release(
            linked,
            synthetic_links(),
            schema(subject_columns=("gender", "region", "age")),
            None,
            reporting_length=2,
        )
    with pytest.raises(DataError, match=r"synthetic links lack the column.*'IP_paid'"):
        evaluate_linked_release(
            linked,
            synthetic_links().drop(columns=["IP_paid"]),
            schema(),
            None,
            reporting_length=2,
        )


def test_the_report_files(tmp_path: Path) -> None:
    ev = evaluate()
    report = write_linked_evaluation(ev, tmp_path / "evaluation")
    folder = report.parent
    names = {p.name for p in folder.iterdir()}
    assert {n.rsplit(".", 1)[0] for n in names} == {
        *ev.tables(),
        "report",
        "evaluation",
    }
    assert names >= {
        "report.html",
        "evaluation.json",
        "links_per_subject.csv",
        "link_distances.csv",
        "link_distances_by_kind.csv",
        "link_risk_by_length.csv",
        "scores.csv",
    }
    figures = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
    assert figures["release"] == "linked"
    assert figures["unit"] == "victim"
    assert figures["summary"] == list(ev.summary)
    assert figures["links"]["links_per_subject"]["sensitive_links"] == 7
    assert "summary" not in figures["subjects"]
    bins = pd.read_csv(folder / "links_per_subject.csv", dtype={"label": str})
    assert bins["label"].tolist() == ["1", "2", "3+"]
    assert bins["sensitive_subjects"].tolist() == [2, 1, 1]
    scores = pd.read_csv(folder / "scores.csv").set_index("measure")["value"]
    assert scores["sensitive_mean_links"] == 1.75
    page = report.read_text(encoding="utf-8")
    assert "Sensitive: do not share." in page
    assert "<h2>Victims: Scores</h2>" in page
    assert "Victims by number of links" in page


def test_labels_are_escaped_in_the_report(tmp_path: Path) -> None:
    frame = cases()
    frame.loc[frame["IP_relation"] == "Other", "IP_relation"] = "<b>Other</b>"
    synthetic = synthetic_links()
    synthetic.loc[synthetic["IP_relation"] == "Other", "IP_relation"] = "<b>x</b>"
    ev = evaluate_linked_release(
        load_linked(frame, OPTIONS),
        synthetic,
        schema(),
        None,
        reporting_length=2,
        resolution=3,
        unit="<i>person</i>",
    )
    page = write_linked_evaluation(ev, tmp_path / "e").read_text(encoding="utf-8")
    assert "<b>" not in page
    assert "<i>" not in page
    assert "&lt;i&gt;person&lt;/i&gt;" in page


def test_row_order_does_not_change_the_figures() -> None:
    order = np.random.default_rng(3).permutation(7)
    shuffled = cases().iloc[order].reset_index(drop=True)
    synthetic = synthetic_links().iloc[::-1].reset_index(drop=True)
    ev = evaluate_linked_release(
        load_linked(shuffled, OPTIONS),
        synthetic,
        schema(),
        None,
        reporting_length=2,
        resolution=3,
        protected_links=[3, 0, 2],
    )
    base = evaluate()
    assert ev.links_per_subject == base.links_per_subject
    assert ev.link_risk == base.link_risk
    assert ev.link_leakage == base.link_leakage
    assert [d.distance for d in ev.distances] == pytest.approx(
        [d.distance for d in base.distances], abs=1e-12
    )


def test_no_synthetic_links_leaves_the_comparisons_empty() -> None:
    ev = evaluate_linked_release(
        load_linked(cases(), OPTIONS),
        synthetic_links().iloc[:0],
        schema(),
        None,
        reporting_length=2,
    )
    assert ev.distances == ()
    assert ev.links_per_subject.synthetic_subjects == 0
    assert ev.links_per_subject.binned_distance is None
    assert ev.subjects.k_marginal is None
    assert ev.link_risk is not None and ev.link_risk.unique_share == 1.0
    assert ev.summary[4].startswith("The synthetic victims have n/a links")
