"""The plain-language privacy statement names what the records come from."""

from __future__ import annotations

from typing import Any

from synthcase.pipeline import statement_from_metadata


def metadata(mode: str, structure: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "mode": mode,
        "columns": ["A", "B", "C"],
        "reporting_length": 2,
        "protected_record_count": 120,
        "synthetic_records": 120,
        "privacy": {"epsilon": 1.0, "delta": 1e-6, "rho": 0.01, "unit": "record"},
        "input": {},
        "model_structure": structure,
    }


STRUCTURE = [
    {"columns": ["A", "B"], "parent": -1, "measured": [["A", "B"]]},
    {"columns": ["A", "B", "C"], "parent": 0, "measured": [["B", "C"], ["A", "C"]]},
]


def test_a_model_release_counts_the_model_tables() -> None:
    text = " ".join(statement_from_metadata(metadata("dp-model", STRUCTURE)).split())
    # Three one-way tables and three measured clique tables.
    assert "from those noisy counts and from 6 noisy tables of column" in text
    assert "built afterwards from the noisy counts and tables alone" in text


def test_an_aggregate_seeded_release_names_the_counts_only() -> None:
    text = " ".join(
        statement_from_metadata(metadata("dp-aggregate-seeded", [])).split()
    )
    assert "built only from those noisy counts. They do not" in text
    assert "noisy tables" not in text
    assert "built afterwards from the noisy counts alone" in text
