"""The DP model's settings on the command line and in the [model] table."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synthcase.cli import app
from synthcase.cli.config import build_model
from synthcase.errors import ParameterError
from synthcase.measure.model import ModelSettings, round_limit

runner = CliRunner()


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 records over 5 columns, B and C depending on A and B in turn."""
    rng = np.random.default_rng(1)
    n = 400
    a = rng.choice(["x", "y", "z"], n, p=[0.5, 0.3, 0.2])
    b = np.where(
        a == "x", rng.choice(["1", "2"], n, p=[0.8, 0.2]), rng.choice(["1", "2"], n)
    )
    c = np.where(
        b == "1",
        rng.choice(["p", "q", "r"], n, p=[0.6, 0.3, 0.1]),
        rng.choice(["p", "q", "r"], n, p=[0.1, 0.3, 0.6]),
    )
    d = rng.choice(["u", "v"], n)
    e = np.where((a == "x") & (d == "u"), "s", rng.choice(["s", "t"], n))
    path = tmp_path_factory.mktemp("model-settings") / "cases.csv"
    pd.DataFrame({"A": a, "B": b, "C": c, "D": d, "E": e}).to_csv(path, index=False)
    return path


def release(cases: Path, out: Path, *args: str) -> dict[str, Any]:
    """Run a DP release at epsilon 2 and return its release.json."""
    result = runner.invoke(
        app,
        ["run", str(cases), "-o", str(out), "--epsilon", "2", "--seed", "3",
         "--no-evaluate", *args],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    meta: dict[str, Any] = json.loads((out / "release.json").read_text())
    return meta


def round_spends(meta: dict[str, Any]) -> list[str]:
    spends = [s["mechanism"] for s in meta["privacy"]["spends"]]
    return [m for m in spends if m.startswith("model round")]


def table_scales(meta: dict[str, Any]) -> Counter[float]:
    """How many of the model's measured tables carry each noise scale."""
    return Counter(s for c in meta["model_structure"] for s in c["noise_scales"])


def test_model_rounds_0_measures_no_round_table(cases: Path, tmp_path: Path) -> None:
    meta = release(cases, tmp_path / "r0", "--model-rounds", "0")
    assert meta["mode"] == "dp-model"
    assert meta["parameters"]["model"]["rounds"] == 0
    assert round_spends(meta) == []
    # The tree's tables are measured as one vector, so one noise scale.
    assert len(table_scales(meta)) == 1, meta["model_structure"]
    assert meta["privacy"]["epsilon"] <= 2


def test_model_rounds_2_measures_two_round_tables(cases: Path, tmp_path: Path) -> None:
    meta = release(cases, tmp_path / "r2", "--model-rounds", "2")
    assert meta["parameters"]["model"]["rounds"] == 2
    assert round_spends(meta) == [
        "model round 1 (noisy max and one table)",
        "model round 2 (noisy max and one table)",
    ]
    # Both rounds' tables share a noise scale of their own; the tree of five
    # columns has at least four tables at the other.
    scales = table_scales(meta)
    assert sorted(scales.values())[0] == 2 and len(scales) == 2, scales
    assert meta["privacy"]["epsilon"] <= 2


def test_model_table_is_read_and_flags_win(cases: Path, tmp_path: Path) -> None:
    config = tmp_path / "synthcase.toml"
    config.write_text(
        "[model]\nrounds = 0\nround_share = 0.2\nmax_model_cells = 400000\n"
        "max_clique_size = 2\niterations = 120\n"
    )
    meta = release(
        cases, tmp_path / "c", "--config", str(config), "--model-rounds", "1"
    )
    model = meta["parameters"]["model"]
    assert model["rounds"] == 1  # the flag over the table's 0
    assert model["round_share"] == 0.2
    assert model["max_model_cells"] == 400_000
    # The cap also caps the rounds (``round_limit``); round_cells stays.
    assert model["round_cells"] == 1_000_000
    assert model["max_clique_size"] == 2
    assert model["iterations"] == 120
    assert len(round_spends(meta)) == 1


def test_build_model_defaults_and_cap() -> None:
    assert build_model({}, rounds=None, max_model_cells=None) == ModelSettings()
    assert round_limit(build_model({}, max_model_cells=3_000_000)) == 1_000_000
    assert round_limit(build_model({"max_model_cells": 5})) == 5


MODEL_ERRORS = [
    (["--model-rounds", "-1"], "",
     "--model-rounds is -1; it must be a whole number from 0 to 1000, for "
     "example 16"),
    (["--model-rounds", "1001"], "",
     "--model-rounds is 1001; it must be a whole number from 0 to 1000, for "
     "example 16"),
    (["--max-model-cells", "0"], "",
     "--max-model-cells is 0; it must be a whole number >= 1, for example "
     "--max-model-cells 5000000"),
    (["--model-rounds", "2", "--mode", "dp-aggregate-seeded"], "",
     "--model-rounds sets the synthesis model, which the dp-aggregate-seeded "
     "mode does not fit; drop it or choose --mode dp-model"),
    (["--max-model-cells", "9", "--mode", "row-seeded"], "",
     "--max-model-cells sets the synthesis model, which the k-anonymity mode "
     "row-seeded does not fit; drop it or choose --mode dp-model"),
    (["--model-rounds", "1", "--subject-id", "A"], "",
     "--model-rounds sets the synthesis model, which a linked release does not "
     "fit; drop it (linked releases synthesize from their aggregates)"),
    ([], 'rounds = "many"',
     "[model] rounds is 'many'; it must be a whole number from 0 to 1000, for "
     "example 16"),
    ([], "roundz = 2",
     "unknown setting(s) ['roundz'] in [model]; allowed are ['iterations', "
     "'max_clique_size', 'max_model_cells', 'round_share', 'rounds']"),
    ([], "round_share = 1.5",
     "[model] round_share is 1.5; it must be in (0, 1), for example 0.3"),
    ([], "max_clique_size = 2.0",
     "[model] max_clique_size is 2.0; it must be 2, 3 or 4, for example "
     "max_clique_size = 3"),
    ([], "iterations = true",
     "[model] iterations is True; it must be a whole number"),
    ([], "max_clique_size = 5",
     "[model] max_clique_size is 5; it must be 2, 3 or 4, for example "
     "max_clique_size = 3"),
    (["--mode", "dp-aggregate-seeded"], "rounds = 1",
     "the config file's [model] table (rounds) sets the synthesis model, which "
     "the dp-aggregate-seeded mode does not fit; remove the table or choose "
     "--mode dp-model"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "table", "message"), MODEL_ERRORS)
def test_model_settings_errors(
    cases: Path, tmp_path: Path, args: list[str], table: str, message: str
) -> None:
    out = tmp_path / "o"
    config = []
    if table:
        (tmp_path / "c.toml").write_text(f"[model]\n{table}\n")
        config = ["--config", str(tmp_path / "c.toml")]
    result = runner.invoke(
        app, ["run", str(cases), "-o", str(out), "--epsilon", "2", *config, *args]
    )
    assert result.exit_code == 2, result.output
    assert f"error: {message}" in result.output, result.output
    assert not out.exists()  # refused before anything was written


def test_aggregate_command_refuses_a_model_table(cases: Path, tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text("[model]\nrounds = 0\n")
    result = runner.invoke(
        app,
        ["aggregate", str(cases), "-o", str(tmp_path / "o"), "--epsilon", "2",
         "--config", str(tmp_path / "c.toml")],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert (
        "error: the config file's [model] table (rounds) sets the synthesis model, "
        "which the dp-aggregate-seeded mode does not fit; remove the table, or use "
        "synthcase run, whose default mode fits one"
    ) in result.output


def test_build_model_names_the_flag_or_the_key() -> None:
    with pytest.raises(ParameterError, match=r"^\[model\] rounds is -2;"):
        build_model({"rounds": -2})
    with pytest.raises(ParameterError, match=r"^--model-rounds is -2;"):
        build_model({"rounds": 1}, rounds=-2)
