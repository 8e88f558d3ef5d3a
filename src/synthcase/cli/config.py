"""Turning command-line flags and config files into validated settings.

Shorthands (``--bin AGEP=0,18,65,120``, ``--thresholds 2:0.1,3:0.5``,
comma-separated column lists, TOML config files) are accepted only here, at
the edge, and converted once into the library's frozen settings objects.

A config file is TOML with up to four tables (``[read]``, ``[dp]``,
``[synthesis]``, ``[model]``). The keys of the first three are the long flag
names with underscores; those of ``[model]`` are the names of
:class:`~synthcase.measure.model.ModelSettings` fields::

    [read]
    columns = ["AGEP", "SEX", "MSP"]
    null_tokens = ["N"]
    bins = ["AGEP=0,18,30,45,65,120"]
    values = ["SEX=1,2"]            # or: values = {SEX = ["1", "2"]}

    [dp]
    epsilon = 4
    reporting_length = 3

    [model]
    rounds = 0                      # --model-rounds 0
    max_model_cells = 2000000       # --max-model-cells 2000000

Flags given on the command line win over the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from synthcase.errors import ParameterError
from synthcase.measure.model import ModelSettings
from synthcase.measure.settings import (
    DPSettings,
    parse_sigma_proportions,
    parse_thresholds,
)
from synthcase.prepare import BinSpec, ReadOptions, ValueList
from synthcase.synthesize.aggregate_seeded import SynthesisSettings

__all__ = [
    "MODEL_FLAGS",
    "build_dp",
    "build_model",
    "build_read",
    "build_synthesis",
    "load_config",
    "split_list",
]

_SECTIONS = {"read", "dp", "synthesis", "model"}

_MODEL_KEYS = {
    "rounds",
    "round_share",
    "max_model_cells",
    "max_clique_size",
    "iterations",
}
"""The ModelSettings fields a config file's ``[model]`` table may set."""

MODEL_FLAGS = {"rounds": "--model-rounds", "max_model_cells": "--max-model-cells"}
"""The ModelSettings fields with a command-line flag, and the flag."""


def load_config(path: Path | None) -> dict[str, dict[str, Any]]:
    """Read a TOML config file into its tables; ``None`` gives empty tables."""
    empty: dict[str, dict[str, Any]] = {s: {} for s in _SECTIONS}
    if path is None:
        return empty
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParameterError(f"config file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ParameterError(
            f"config file {str(path)!r} cannot be read ({err}); pass a TOML file"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise ParameterError(
            f"config file {str(path)!r} is not valid TOML: {err}"
        ) from None
    unknown = sorted(set(data) - _SECTIONS)
    if unknown:
        raise ParameterError(
            f"config file {str(path)!r} has unknown tables {unknown}; allowed tables "
            f"are {sorted(_SECTIONS)}"
        )
    for name, table in data.items():
        if not isinstance(table, dict):
            raise ParameterError(f"config entry {name!r} must be a table ([{name}])")
        empty[name] = dict(table)
    return empty


def split_list(
    text: str | list[str] | tuple[str, ...] | None,
) -> tuple[str, ...] | None:
    """``"A,B, C"`` -> ``("A", "B", "C")``; lists pass through."""
    if text is None:
        return None
    if isinstance(text, list | tuple):
        return tuple(str(t) for t in text)
    items = tuple(part.strip() for part in text.split(",") if part.strip())
    return items or None


def _merge(config: Mapping[str, Any], flags: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(config)
    merged.update({k: v for k, v in flags.items() if v is not None})
    return merged


def _check_keys(section: str, values: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ParameterError(
            f"unknown setting(s) {unknown} in [{section}]; allowed are "
            f"{sorted(allowed)}"
        )


def build_read(config: Mapping[str, Any], **flags: Any) -> ReadOptions:
    """ReadOptions from a config table and flags."""
    values = _merge(config, flags)
    allowed = {
        "columns",
        "record_limit",
        "null_tokens",
        "absent_zero",
        "delimiter",
        "bins",
        "values",
        "max_categories",
        "out_of_range",
        "subject_id",
        "names",
    }
    _check_keys("read", values, allowed)
    if "names" in values:
        values["names"] = split_list(values["names"])
    if "columns" in values:
        values["columns"] = split_list(values["columns"])
    if "null_tokens" in values:
        values["null_tokens"] = split_list(values["null_tokens"]) or ()
    zero = values.get("absent_zero")
    if isinstance(zero, str):
        values["absent_zero"] = (
            True if zero.strip().lower() in {"all", "*", "true"} else split_list(zero)
        )
    elif isinstance(zero, list):
        values["absent_zero"] = tuple(zero)
    if isinstance(values.get("bins"), str):
        values["bins"] = [values["bins"]]
    if "bins" in values:
        values["bins"] = tuple(
            b if isinstance(b, BinSpec) else BinSpec.parse(str(b))
            for b in values["bins"]
        )
    if "values" in values:
        values["values"] = _value_lists(values["values"])
    _keep_selected(values, from_file={k for k in config if flags.get(k) is None})
    if values.get("delimiter") == "\\t":
        values["delimiter"] = "\t"
    return ReadOptions(**values)


def _keep_selected(values: dict[str, Any], from_file: set[str]) -> None:
    """Drop a config file's bins and value lists of columns not selected.

    One config file serves runs on different column selections; declarations
    given as flags stay checked against the selection, so a typo there is
    still an error.
    """
    columns = values.get("columns")
    if columns is None:
        return
    selected = set(columns)
    if "bins" in from_file and "bins" in values:
        values["bins"] = tuple(b for b in values["bins"] if b.column in selected)
    if "values" in from_file and "values" in values:
        values["values"] = tuple(v for v in values["values"] if v.column in selected)


def _value_lists(given: Any) -> tuple[ValueList, ...]:
    """Value lists from ``"COL=V1,V2"`` texts or a ``{COL = [V1, V2]}`` table."""
    if isinstance(given, str | ValueList):
        given = [given]
    if not isinstance(given, Mapping | list | tuple):
        raise ParameterError(
            f"values is {given!r}; give a list of texts such as "
            '["SEX=1,2"] or a table such as {SEX = ["1", "2"]}'
        )
    if isinstance(given, Mapping):
        lists = []
        for column, entries in given.items():
            if isinstance(entries, str) or not isinstance(entries, list | tuple):
                raise ParameterError(
                    f"values.{column} is {entries!r}; give a list of values, for "
                    f'example {column} = ["1", "2"]'
                )
            odd = [
                v
                for v in entries
                if isinstance(v, bool) or not isinstance(v, str | int)
            ]
            if odd:
                # true becomes "True" and 1.0 becomes "1.0", which no cell
                # holds as written: ask for the text the cells hold.
                raise ParameterError(
                    f"values.{column} holds {odd[0]!r}; write each value as the "
                    f'text the cells hold, in quotes, for example {column} = ["1", '
                    '"2"]'
                )
            lists.append(ValueList(str(column), tuple(str(v) for v in entries)))
        return tuple(lists)
    return tuple(
        v if isinstance(v, ValueList) else ValueList.parse(str(v)) for v in given
    )


def build_dp(config: Mapping[str, Any], **flags: Any) -> DPSettings:
    """DPSettings from a config table and flags."""
    values = _merge(config, flags)
    allowed = {f for f in DPSettings.__dataclass_fields__}
    _check_keys("dp", values, allowed)
    if "epsilon" not in values:
        raise ParameterError(
            "no privacy budget given; pass --epsilon (for example --epsilon 1) or "
            "set epsilon in the [dp] table of the config file"
        )
    if isinstance(values.get("thresholds"), str):
        values["thresholds"] = parse_thresholds(values["thresholds"])
    elif isinstance(values.get("thresholds"), Mapping):
        values["thresholds"] = {
            int(k): float(v) for k, v in values["thresholds"].items()
        }
    if values.get("sigma_proportions") is not None:
        values["sigma_proportions"] = parse_sigma_proportions(
            values["sigma_proportions"]
        )
    return DPSettings(**values)


def build_synthesis(config: Mapping[str, Any], **flags: Any) -> SynthesisSettings:
    """SynthesisSettings from a config table and flags."""
    values = _merge(config, flags)
    allowed = {f for f in SynthesisSettings.__dataclass_fields__}
    _check_keys("synthesis", values, allowed)
    return SynthesisSettings(**values)


def build_model(config: Mapping[str, Any], **flags: Any) -> ModelSettings:
    """ModelSettings from the ``[model]`` table and flags.

    Flags are named like the fields they set (``rounds``, ``max_model_cells``)
    and win over the table. An error names where the value came from: the
    flag (``--model-rounds``) or the key (``[model] rounds``).
    """
    values = _merge(config, flags)
    _check_keys("model", values, _MODEL_KEYS)
    sources = {
        key: MODEL_FLAGS[key] if flags.get(key) is not None else f"[model] {key}"
        for key in values
    }
    try:
        settings = ModelSettings(**values)
    except ParameterError as err:
        raise _located(err, values, sources) from None
    for key, source in sources.items():
        _check_kind(key, values[key], source)
    return settings


def _check_kind(key: str, value: Any, source: str) -> None:
    """Refuse a value of a kind ModelSettings' range checks let through.

    TOML's ``true`` is a Python int and ``2.0`` equals 2, so a whole-number
    setting must be an int and no bool. (A share of true or false is outside
    (0, 1) and refused there.)
    """
    default = getattr(ModelSettings(), key)
    whole = isinstance(default, int) and not isinstance(default, bool)
    if whole and (isinstance(value, bool) or not isinstance(value, int)):
        raise ParameterError(
            f"{source} is {value!r}; it must be a whole number (no decimal point, "
            f"no true/false), for example {_example(key, source)}"
        )


def _example(key: str, source: str) -> str:
    """The default of a model setting, written as its flag or its key."""
    default = getattr(ModelSettings(), key)
    return f"{source} {default}" if source.startswith("--") else f"{key} = {default}"


def _located(
    err: ParameterError, values: Mapping[str, Any], sources: Mapping[str, str]
) -> ParameterError:
    """ModelSettings' message with the field replaced by its flag or key."""
    text = str(err)
    for key in sorted(sources, key=len, reverse=True):
        if text.startswith(f"{key} is "):
            if "for example" not in text:
                text += f", for example {_example(key, sources[key])}"
            return ParameterError(sources[key] + text[len(key) :])
    given = ", ".join(
        f"{sources[k]} {values[k]!r}"
        if sources[k].startswith("--")
        else f"{sources[k]} = {values[k]!r}"
        for k in sorted(values)
        if k in sources
    )
    return ParameterError(f"{text} (given: {given})" if given else text)
