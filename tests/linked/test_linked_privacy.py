"""The subject is the privacy unit: bounded contributions and one composed budget."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthcase.errors import DataError
from synthcase.linked import (
    LinkedMeasurement,
    LinkedSettings,
    measure_linked,
    plan_linked_budget,
    release_linked,
)
from synthcase.measure import Aggregates, DPSettings
from synthcase.measure.noise import NoiseSwitch, epsilon_from_rho
from synthcase.prepare import ReadOptions
from synthcase.prepare.linked import MultiValue, load_linked
from synthcase.synthesize.linked import LinkedSynthesisSettings

DATA = Path("/work/shared/data/ctdc-shaped")
SCRIPT = DATA / "make_linked_cases.py"
OPTIONS = ReadOptions(subject_id="victim_id")


@pytest.fixture
def noise_off() -> Iterator[None]:
    """Mechanisms return exact values; scales, thresholds and accounting stay."""
    previous = NoiseSwitch.enabled
    NoiseSwitch.enabled = False
    try:
        yield
    finally:
        NoiseSwitch.enabled = previous


def generated(folder: Path, victims: int, seed: int) -> pd.DataFrame:
    """Cases written by the shared generator script."""
    if not SCRIPT.is_file():
        pytest.skip(f"the generator {SCRIPT} is not available")
    path = folder / f"cases_{victims}_{seed}.csv"
    command = [sys.executable, str(SCRIPT), "--victims", str(victims), "--seed"]
    subprocess.run(
        [*command, str(seed), "-o", str(path)],
        check=True,
        capture_output=True,
    )
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def counts(
    aggregates: Aggregates,
) -> dict[tuple[int, tuple[tuple[str, str], ...]], int]:
    """Released counts keyed by length and ``(column, value)`` pairs."""
    labels = aggregates.value_labels
    return {
        (k, tuple(labels[i] for i in row)): int(count)
        for k, (combos, values) in enumerate(
            zip(aggregates.combinations, aggregates.counts, strict=True), start=1
        )
        for row, count in zip(combos.tolist(), values.tolist(), strict=True)
    }


def assert_bounded_change(
    before: Aggregates, after: Aggregates, bounds: list[int], repeat: list[int]
) -> int:
    """Each shared count moves by at most ``repeat[k]``, all by ``bounds[k]``.

    Returns how many counts both releases share.
    """
    old, new = counts(before), counts(after)
    shared = sorted(set(old) & set(new))
    for k in range(1, len(bounds) + 1):
        changes = {key: new[key] - old[key] for key in shared if key[0] == k}
        worst = max(changes.values(), key=abs, default=0)
        total = sum(abs(c) for c in changes.values())
        assert all(0 <= c <= repeat[k - 1] for c in changes.values()), (
            f"length {k}: a count changed by {worst}, more than the allowed "
            f"{repeat[k - 1]}"
        )
        assert total <= bounds[k - 1], (
            f"length {k}: counts changed by {total} in all, more than the "
            f"contribution bound {bounds[k - 1]}"
        )
    return len(shared)


def test_one_subject_with_forty_links_changes_counts_within_its_bounds(
    tmp_path: Path, noise_off: None
) -> None:
    # Three links at most per victim, so a link bound of 3 drops no row of
    # the original victims; percentile 100 keeps every original victim's
    # combinations, so the only change is the added victim's contribution.
    frame = generated(tmp_path, victims=400, seed=5)
    frame = frame.groupby("victim_id", sort=False).head(3).reset_index(drop=True)
    heavy = pd.concat([frame.iloc[[0]]] * 40, ignore_index=True)
    heavy["victim_id"] = "V999999"
    dp = DPSettings(epsilon=20.0, delta=1e-6, percentile=100)
    settings = LinkedSettings(link_bound=3)

    before = measure_linked(load_linked(frame, OPTIONS), dp, settings)
    with_heavy = pd.concat([frame, heavy], ignore_index=True)
    after = measure_linked(load_linked(with_heavy, OPTIONS), dp, settings)

    assert after.layout == before.layout
    assert after.link_bound == 3
    # Subject aggregates: one more row, each count up by at most one.
    subjects = [r.contribution_bound for r in after.subjects.lengths]
    shared = assert_bounded_change(
        before.subject_aggregates, after.subject_aggregates, subjects, [1] * 3
    )
    assert shared > 50
    assert (
        after.subject_aggregates.record_count - (before.subject_aggregates.record_count)
        == 1
    )
    # Link aggregates: at most link_bound rows, each count up by at most
    # min(link_bound, bound), all counts of a length by at most the bound.
    assert after.links is not None and before.link_aggregates is not None
    assert after.link_aggregates is not None
    links = [r.contribution_bound for r in after.links.lengths]
    repeat = [min(3, b) for b in links]
    shared = assert_bounded_change(
        before.link_aggregates, after.link_aggregates, links, repeat
    )
    assert shared > 100
    # The heavy victim holds its combinations on all three kept rows.
    heavy_value = ("gender", str(frame.loc[0, "gender"]))
    key = (1, (heavy_value,))
    assert counts(after.link_aggregates)[key] - counts(before.link_aggregates)[key] == 3
    assert after.link_aggregates.record_count - before.link_aggregates.record_count == 3
    # The links histogram: one subject, one bin, one count.
    change = np.subtract(after.links_histogram, before.links_histogram)
    assert np.abs(change).sum() == 1
    assert change[before.schema.link_bins.labels().index("31-40")] == 1


@pytest.fixture(scope="module")
def measured() -> LinkedMeasurement:
    """The first 6,000 rows of the shared linked file at epsilon 1, defaults."""
    frame = pd.read_csv(DATA / "linked_cases.csv", dtype=str, keep_default_na=False)
    linked = load_linked(frame.iloc[:6000], OPTIONS)
    return measure_linked(linked, DPSettings(epsilon=1.0), LinkedSettings())


def test_the_parts_compose_to_the_target_budget(measured: LinkedMeasurement) -> None:
    budget = measured.budget
    rho = math.fsum(r for _, r, _ in measured.spends)
    assert measured.rho == rho
    assert rho <= budget.rho_total
    # Almost nothing of the budget is left unspent.
    assert rho > budget.rho_total * (1 - 1e-6)
    assert measured.epsilon == epsilon_from_rho(rho, budget.delta_conversion)
    assert 1.0 - 1e-6 < measured.epsilon <= 1.0
    assert measured.delta <= budget.delta
    labels = [label for label, _, _ in measured.spends]
    assert labels[:2] == ["subject count", "column levels"]
    assert "links per subject" in labels
    assert any(label.startswith("subjects: noisy counts") for label in labels)
    assert any(label.startswith("links: noisy counts") for label in labels)
    # Each part planned the rho it was given (from below).
    plan = measured.subjects.accountant.plan
    assert plan.rho_total <= budget.rho_subjects * (1 + 1e-9)
    assert measured.links is not None
    assert measured.links.accountant.plan.rho_total <= budget.rho_links * (1 + 1e-9)


def test_the_measurement_is_releasable_data(measured: LinkedMeasurement) -> None:
    privacy = measured.privacy()
    json.dumps(privacy)
    assert privacy["unit"] == "victim"
    assert privacy["neighbouring"] == "add or remove one victim with all of their links"
    assert privacy["link_bound"] == 1
    assert len(privacy["protected_links_per_subject"]) == 12
    assert privacy["epsilon"] <= privacy["epsilon_target"] == 1.0


def test_declared_delta_and_levels_spend_nothing_on_subject_count() -> None:
    frame = pd.read_csv(DATA / "linked_cases.csv", dtype=str, keep_default_na=False)
    linked = load_linked(frame.iloc[:3000], OPTIONS)
    subjects = (
        "yearRegister",
        "gender",
        "majorityStatus",
        "UN_COO_Region",
        "UN_COE_Region",
        "isForcedLabour",
        "isSexualExploit",
    )
    settings = LinkedSettings(subject_columns=subjects)
    measurement = measure_linked(linked, DPSettings(epsilon=2.0, delta=1e-6), settings)
    labels = [label for label, _, _ in measurement.spends]
    assert "subject count" not in labels
    assert "column levels" not in labels
    assert measurement.levels is None
    assert measurement.layout.subject_columns == subjects
    assert measurement.budget.rho_count == 0.0
    assert measurement.budget.rho_levels == 0.0
    assert measurement.epsilon <= 2.0
    assert measurement.delta <= 1e-6


def test_budget_split_adds_up() -> None:
    budget = plan_linked_budget(
        epsilon=1.0,
        delta=1e-6,
        delta_threshold_share=0.5,
        rho_count=1e-4,
        subject_share=0.4,
        histogram_share=0.1,
        level_share=0.02,
    )
    parts = (
        budget.rho_count,
        budget.rho_levels,
        budget.rho_subjects,
        budget.rho_histogram,
        budget.rho_links,
    )
    assert math.fsum(parts) < budget.rho_total
    assert math.fsum(parts) > budget.rho_total * (1 - 1e-8)
    assert budget.delta_subjects + budget.delta_links + budget.delta_conversion == (
        pytest.approx(1e-6)
    )
    rest = budget.rho_total - budget.rho_count
    assert budget.rho_levels == pytest.approx(0.02 * rest)
    assert budget.rho_histogram == pytest.approx(0.1 * 0.4 * 0.98 * rest)


def test_levels_are_detected_on_the_real_layout(noise_off: None) -> None:
    frame = pd.read_csv(DATA / "linked_cases.csv", dtype=str, keep_default_na=False)
    linked = load_linked(frame.iloc[:4000], OPTIONS)
    measurement = measure_linked(linked, DPSettings(epsilon=4.0), LinkedSettings())
    assert measurement.layout.subject_columns == (
        "yearRegister",
        "gender",
        "majorityStatus",
        "UN_COO_Region",
        "UN_COE_Region",
        "isForcedLabour",
        "isSexualExploit",
    )
    assert all(c.startswith("IP_") for c in measurement.layout.link_columns)
    assert measurement.layout.detected
    assert measurement.levels is not None
    assert measurement.levels["tolerance"] == 0.05


def test_a_declared_subject_column_that_varies_stops_before_any_spend() -> None:
    frame = pd.DataFrame(
        {
            "victim_id": ["A", "A", "B", "B", "C"],
            "gender": ["Woman", "Man", "Man", "Woman", "Man"],
            "IP_role": ["x", "y", "x", "x", "y"],
        }
    )
    settings = LinkedSettings(subject_columns=("gender",))
    with pytest.raises(DataError, match=r"'gender' varies within 2 subject\(s\)"):
        measure_linked(load_linked(frame, OPTIONS), DPSettings(epsilon=1.0), settings)


def rare_value_cases(folder: Path) -> pd.DataFrame:
    """Generated cases with a multi-value column holding one very rare value."""
    frame = generated(folder, victims=1000, seed=3)
    forms = np.where(frame["isSexualExploit"] == "1", "sexual", "")
    labour = np.where(frame["isForcedLabour"] == "1", "labour", "")
    cells = [";".join(p for p in pair if p) for pair in zip(forms, labour, strict=True)]
    frame["forms"] = cells
    first = frame["victim_id"] == frame.loc[0, "victim_id"]
    frame.loc[first, "forms"] = "sexual;zzsecretvalue"
    return frame.drop(columns=["isSexualExploit", "isForcedLabour"])


def test_unreleased_presence_names_appear_in_no_output(tmp_path: Path) -> None:
    frame = rare_value_cases(tmp_path)
    linked = load_linked(frame, OPTIONS, [MultiValue(column="forms")])
    assert "forms[zzsecretvalue]" in linked.table.columns
    measurement = measure_linked(linked, DPSettings(epsilon=2.0), LinkedSettings())
    release = release_linked(measurement, LinkedSynthesisSettings(seed=1))
    folder = release.save(tmp_path / "release")

    for aggregates in (measurement.subject_aggregates, measurement.link_aggregates):
        assert aggregates is not None
        assert not any("\x00" in c or "secret" in c for c in aggregates.columns)
    for path in folder.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "zzsecretvalue" not in text, path.name
        assert "\\u0000" not in text and "\x00" not in text, path.name
    metadata = json.loads((folder / "release.json").read_text(encoding="utf-8"))
    released = metadata["multi_value"][0]["released_values"]
    assert set(released) <= {"labour", "sexual"}
    synthetic = pd.read_csv(folder / "synthetic.csv", dtype=str, keep_default_na=False)
    assert list(synthetic.columns) == list(frame.columns)
    parts = {p for cell in synthetic["forms"] for p in cell.split(";") if p}
    assert parts <= set(released)


def test_a_file_of_single_rows_is_all_subject_level(tmp_path: Path) -> None:
    frame = generated(tmp_path, victims=1500, seed=4)
    single = frame.drop_duplicates("victim_id").reset_index(drop=True)
    measurement = measure_linked(
        load_linked(single, OPTIONS), DPSettings(epsilon=2.0), LinkedSettings()
    )
    assert measurement.layout.link_columns == ()
    assert measurement.links is None and measurement.link_aggregates is None
    # The link share went to the subject aggregates, nothing is left over.
    assert measurement.budget.rho_links == 0.0
    assert measurement.rho > measurement.budget.rho_total * (1 - 1e-6)
    release = release_linked(measurement, LinkedSynthesisSettings(seed=2))
    folder = release.save(tmp_path / "release")
    assert not (folder / "link_aggregates.tsv").exists()
    assert release.synthetic is not None
    assert list(release.synthetic.columns) == list(single.columns)
