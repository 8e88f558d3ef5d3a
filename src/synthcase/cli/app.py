"""The ``synthcase`` command: a thin layer over the library.

Every command parses its flags into the library's settings objects, runs the
library with a progress bar, and prints a short summary. Errors caused by
input or settings print one line naming the problem and the fix and exit
with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from synthcase._version import __version__
from synthcase.cli.config import (
    MODEL_FLAGS,
    build_dp,
    build_model,
    build_read,
    build_synthesis,
    load_config,
    split_list,
)
from synthcase.cli.evaluation import (
    check_evaluation_folder,
    default_evaluation_folder,
    is_linked_release,
    linked_schema_from_release,
    load_linked_sensitive,
    load_release,
    read_options_from_release,
    run_evaluation,
    run_linked_evaluation,
)
from synthcase.errors import DataError, ParameterError, SynthcaseError
from synthcase.k_anonymity import K_MODES, KAnonymitySettings, release_k_anonymous
from synthcase.measure.model import ModelSettings
from synthcase.measure.settings import DPSettings
from synthcase.pipeline import (
    DEFAULT_MODEL_SHARE,
    Release,
    Synthesizer,
    load_release_aggregates,
    load_sensitive,
    release_from_aggregates,
)
from synthcase.prepare import EncodedTable
from synthcase.prepare.linked import LinkedTable
from synthcase.report.folder import check_output_folder

__all__ = ["app", "main"]

app = typer.Typer(
    name="synthcase",
    help="Differentially private aggregates and synthetic records from case files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
err = Console(stderr=True)
out = Console()

_state: dict[str, bool] = {"debug": False}

# Shared option declarations.
Output = Annotated[
    Path, typer.Option("--output", "-o", help="Release folder to write.")
]
Force = Annotated[
    bool, typer.Option("--force", help="Replace an earlier release in the folder.")
]
Config = Annotated[
    Path | None,
    typer.Option("--config", help="TOML file with [read], [dp], [synthesis], [model]."),
]
Columns = Annotated[
    str | None, typer.Option("--columns", help="Columns to use, comma-separated.")
]
Names = Annotated[
    str | None,
    typer.Option(
        "--names",
        help="Column names for a file without a header line, comma-separated.",
    ),
]
Null = Annotated[
    list[str] | None,
    typer.Option("--null", "--null-token", help="A cell text meaning absent (repeat)."),
]
AbsentZero = Annotated[
    str | None,
    typer.Option(
        "--absent-zero",
        help="Treat 0 as absent: 'all' or a comma-separated column list.",
    ),
]
Bins = Annotated[
    list[str] | None,
    typer.Option(
        "--bin",
        help="Bin a numeric column: COL=e0,e1,...,en (edges) or COL=LOW..HIGH/COUNT.",
    ),
]
Values = Annotated[
    list[str] | None,
    typer.Option(
        "--values",
        help="Declare a column's public values: COL=v1,v2,...,vn (repeatable).",
    ),
]
Limit = Annotated[
    int | None, typer.Option("--record-limit", help="Use only the first N records.")
]
Delimiter = Annotated[
    str | None, typer.Option("--delimiter", help="Field delimiter (default: detect).")
]
MaxCategories = Annotated[
    int | None,
    typer.Option("--max-categories", help="Refuse unbinned columns with more values."),
]
OutOfRange = Annotated[
    str | None,
    typer.Option(
        "--out-of-range",
        help="Values outside declared bins or lists: error, clip, absent.",
    ),
]
Epsilon = Annotated[float | None, typer.Option("--epsilon", help="Total privacy loss.")]
Delta = Annotated[
    float | None, typer.Option("--delta", help="Total delta (default 1/(n ln n)).")
]
Length = Annotated[
    int | None,
    typer.Option("--reporting-length", "-r", help="Longest combination counted."),
]
Percentile = Annotated[
    int | None, typer.Option("--percentile", help="Contribution-bound percentile.")
]
PercentileShare = Annotated[
    float | None, typer.Option("--percentile-share", help="Budget share for bounds.")
]
CountShare = Annotated[
    float | None,
    typer.Option("--record-count-share", help="Epsilon share for the record count."),
]
Accuracy = Annotated[
    str | None,
    typer.Option(
        "--accuracy-mode",
        help="prioritize-long, prioritize-short, balanced or custom.",
    ),
]
Sigmas = Annotated[
    str | None,
    typer.Option("--sigma-proportions", help="Custom accuracy: p1,p2,...,pR."),
]
Fabrication = Annotated[
    str | None,
    typer.Option(
        "--fabrication-mode",
        help="uncontrolled, progressive, balanced, minimize, custom-fixed, "
        "custom-adaptive.",
    ),
]
Thresholds = Annotated[
    str | None,
    typer.Option("--thresholds", help="Custom fabrication: 2:v2,3:v3,..."),
]
Records = Annotated[
    int | None,
    typer.Option("--records", help="Synthetic records (default: protected count)."),
]
Seed = Annotated[
    int | None, typer.Option("--seed", help="Seed of the synthesis (not of the noise).")
]
SyntheticCounts = Annotated[
    bool | None,
    typer.Option(
        "--use-synthetic-counts/--no-synthetic-counts",
        help="Balance sampling with counts already synthesized.",
    ),
]
WeightPercentile = Annotated[
    float | None,
    typer.Option("--weight-percentile", help="Weight percentile beyond R."),
]
Unit = Annotated[
    str,
    typer.Option(
        "--unit",
        help="Name of the privacy unit in the statement, e.g. victim.",
        callback=lambda value: _check_unit(value),
    ),
]


def _check_unit(value: str) -> str:
    if not value or not value.strip():
        raise typer.BadParameter("give a word such as 'record' or 'victim'")
    return value.strip()


Evaluate = Annotated[
    bool,
    typer.Option(
        "--evaluate/--no-evaluate",
        help="Write the steward's evaluation beside the release.",
    ),
]
EvaluationDir = Annotated[
    Path | None,
    typer.Option("--evaluation-dir", help="Where to write the evaluation."),
]
Resolution = Annotated[
    int,
    typer.Option(
        "--resolution",
        "-k",
        help="k: k-anonymity modes release only combinations of at least k "
        "units; the evaluation calls rarer combinations rare.",
    ),
]
SubjectId = Annotated[
    str | None,
    typer.Option(
        "--subject-id",
        help="Column naming the person each row belongs to (linked records); "
        "that person, with all their rows, becomes the privacy unit.",
    ),
]
SubjectColumns = Annotated[
    str | None,
    typer.Option("--subject-columns", help="Linked: person-level columns."),
]
LinkColumns = Annotated[
    str | None,
    typer.Option("--link-columns", help="Linked: row-level (link) columns."),
]
MultiValues = Annotated[
    list[str] | None,
    typer.Option(
        "--multi-value",
        help="Linked: a column whose cells hold several values, COL or COL:DELIM "
        "(default delimiter ';'; repeat).",
    ),
]
LinkBinsFlag = Annotated[
    str | None,
    typer.Option("--link-bins", help="Linked: bins of links per person, 1,2,3,5,41."),
]
LinkBound = Annotated[
    int | None,
    typer.Option("--link-bound", help="Linked: most rows one person contributes."),
]
DP_MODES = ("dp", "dp-model", "dp-aggregate-seeded")
Mode = Annotated[
    str,
    typer.Option(
        "--mode",
        help="DP: dp (= dp-model: complete records from a DP model, the "
        "default), dp-aggregate-seeded (records from the aggregates alone); "
        "k-anonymity: row-seeded, unseeded, value-seeded, aggregate-seeded.",
    ),
]
ModelShare = Annotated[
    float | None,
    typer.Option(
        "--model-share",
        help="DP model modes: share of the budget for the model (default 0.5).",
    ),
]
ModelRounds = Annotated[
    int | None,
    typer.Option(
        "--model-rounds",
        help="DP model modes: adaptive rounds after the junction tree, each "
        "measuring the table the model gets most wrong (default 16; 0 turns them "
        "off, which is faster).",
    ),
]
MaxModelCells = Annotated[
    int | None,
    typer.Option(
        "--max-model-cells",
        help="DP model modes: refuse, before measuring the model, one that may "
        "need more cells than this (default 5000000); also caps the rounds.",
    ),
]
ForbidUnlisted = Annotated[
    bool,
    typer.Option(
        "--forbid-unlisted",
        help="DP model modes: records hold only combinations the aggregates list.",
    ),
]
OversamplingRatio = Annotated[
    float | None,
    typer.Option("--oversampling-ratio", help="value-seeded: allowed excess ratio."),
]
OversamplingTries = Annotated[
    int | None,
    typer.Option("--oversampling-tries", help="value-seeded: draws before giving up."),
]


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print the privacy audit trail.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.")
    ] = False,
) -> None:
    """Differentially private aggregates and synthetic records from case files."""
    if version:
        out.print(f"synthcase {__version__}", highlight=False)
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        out.print(ctx.get_help())
        raise typer.Exit(2)
    _state["debug"] = debug
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except SynthcaseError as error:
        if _state["debug"]:
            raise
        err.print(
            Text.assemble(("error: ", "bold red"), str(error)),
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err.print("interrupted; no release folder was left half-written")
        raise typer.Exit(130) from None
    except Exception as error:
        if _state["debug"]:
            raise
        err.print(
            Text.assemble(
                ("unexpected error: ", "bold red"),
                f"{type(error).__name__}: {error}. No release folder was left "
                "half-written; rerun with --debug for details.",
            ),
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from None


@contextmanager
def _progress() -> Iterator[Callable[[str, float], None]]:
    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, fraction: float) -> None:
        if stage not in tasks:
            for other in tasks.values():
                bars.update(other, completed=100)
            tasks[stage] = bars.add_task(stage, total=100)
        bars.update(tasks[stage], completed=100 * fraction)

    with bars:
        yield update
        for task in tasks.values():
            bars.update(task, completed=100)


def _read_flags(**kw: Any) -> dict[str, Any]:
    return {
        "names": split_list(kw.get("names")),
        "subject_id": kw.get("subject_id"),
        "columns": kw["columns"],
        "null_tokens": tuple(kw["null"]) if kw["null"] else None,
        "absent_zero": kw["absent_zero"],
        "bins": tuple(kw["bins"]) if kw["bins"] else None,
        "values": tuple(kw["values"]) if kw.get("values") else None,
        "record_limit": kw["record_limit"],
        "delimiter": kw["delimiter"],
        "max_categories": kw["max_categories"],
        "out_of_range": kw["out_of_range"],
    }


_DP_FLAGS = (
    "epsilon", "delta", "reporting_length", "percentile", "percentile_share",
    "record_count_share", "accuracy_mode", "sigma_proportions", "fabrication_mode",
    "thresholds",
)  # fmt: skip


def _dp_settings(
    config: dict[str, dict[str, Any]], kw: dict[str, Any], **extra: Any
) -> DPSettings:
    """DPSettings from the [dp] table and the command's DP flags."""
    return build_dp(config["dp"], **{k: kw.get(k) for k in _DP_FLAGS}, **extra)


def _fit(
    source: Path, output: Path, force: bool, kw: dict[str, Any]
) -> tuple[Synthesizer, EncodedTable]:
    config = load_config(kw["config"])
    read = build_read(config["read"], **_read_flags(**kw))
    share = _model_share(kw, config["dp"])
    model = _model_settings(kw, config["model"], share)
    dp = _dp_settings(config, kw, model_share=share)
    synthesis = build_synthesis(
        config["synthesis"],
        records=kw.get("records"),
        seed=kw.get("seed"),
        use_synthetic_counts=kw.get("use_synthetic_counts"),
        weight_percentile=kw.get("weight_percentile"),
    )
    # Refuse a bad output folder before spending any budget.
    check_output_folder(output, force=force, inputs=[source])
    if kw.get("evaluate"):
        check_evaluation_folder(
            _evaluation_dir(output, kw), force=force, release=output, inputs=[source]
        )
    synth = Synthesizer(
        dp,
        synthesis,
        unit=kw.get("unit", "record"),
        model=model,
        forbid_unlisted=bool(kw.get("forbid_unlisted")),
    )
    table = load_sensitive(source, read)
    with _progress() as progress:
        synth.fit(table, read, progress=progress)
    return synth, table


def _model_share(kw: dict[str, Any], config: dict[str, Any]) -> float:
    """The model's budget share for the chosen DP mode."""
    mode = kw.get("mode") or "dp"
    given = kw.get("model_share")
    source = "--model-share"
    if given is None:
        given = config.get("model_share")
        source = "model_share in the config file's [dp] table"
    if mode == "dp-aggregate-seeded":
        if given:
            raise ParameterError(
                f"{source} buys a synthesis model, which the dp-aggregate-seeded "
                f"mode does not use; drop it{_model_fix(kw)}"
            )
        return 0.0
    share = DEFAULT_MODEL_SHARE if given is None else float(given)
    if share == 0:
        raise ParameterError(
            f"--mode {mode} needs a budget share for its model; pass for example "
            "--model-share 0.5, or choose --mode dp-aggregate-seeded"
        )
    return share


def _model_settings(
    kw: dict[str, Any], table: dict[str, Any], share: float
) -> ModelSettings | None:
    """The model's settings from its flags and the [model] table.

    ``None`` when the run buys no model (``share`` 0); flags or a table given
    then are refused.
    """
    if share == 0:
        _refuse_model_settings(kw, table, f"the {kw.get('mode')} mode")
        return None
    flags = {field: kw.get(_param(flag)) for field, flag in MODEL_FLAGS.items()}
    return build_model(table, **flags)


def _refuse_model_settings(
    kw: dict[str, Any], table: dict[str, Any], release: str
) -> None:
    """Refuse model settings in a run that fits no model: they would do nothing."""
    for flag in MODEL_FLAGS.values():
        if kw.get(_param(flag)) is not None:
            raise ParameterError(
                f"{flag} sets the synthesis model, which {release} does not fit; "
                f"drop it{_model_fix(kw)}"
            )
    if table:
        raise ParameterError(
            f"the config file's [model] table ({', '.join(sorted(table))}) sets the "
            f"synthesis model, which {release} does not fit; remove the table"
            f"{_model_fix(kw)}"
        )


def _model_fix(kw: dict[str, Any]) -> str:
    """How to get a model instead, for the end of an error message."""
    if kw.get("command") == "aggregate":
        return ", or use synthcase run, whose default mode fits one"
    if kw.get("subject_id"):
        return " (linked releases synthesize from their aggregates)"
    return " or choose --mode dp-model"


def _param(flag: str) -> str:
    """``--model-rounds`` -> ``model_rounds``, the parameter of the command."""
    return flag.removeprefix("--").replace("-", "_")


def _is_linked(kw: dict[str, Any]) -> bool:
    if kw.get("subject_id"):
        return True
    config = load_config(kw.get("config"))
    return bool(config["read"].get("subject_id"))


def _linked_release(
    source: Path, output: Path, force: bool, kw: dict[str, Any]
) -> tuple[Release, LinkedTable]:
    """A release of a linked file: the subject is the privacy unit."""
    from synthcase.linked import LinkedSettings, measure_linked, release_linked
    from synthcase.prepare.linked import LinkBins, MultiValue, load_linked
    from synthcase.synthesize.linked import LinkedSynthesisSettings

    config = load_config(kw["config"])
    _refuse_model_settings(kw, config["model"], "a linked release")
    read = build_read(config["read"], **_read_flags(**kw))
    dp = _dp_settings(config, kw, link_bound=kw.get("link_bound"))
    values: list[MultiValue] = []
    for text in kw.get("multi_value") or ():
        column, _, delimiter = text.partition(":")
        values.append(MultiValue(column=column, delimiter=delimiter or ";"))
    options: dict[str, Any] = {
        "subject_columns": split_list(kw.get("subject_columns")),
        "link_columns": split_list(kw.get("link_columns")),
        "multi_value": tuple(values),
        "unit": None if kw.get("unit") in (None, "record") else kw["unit"],
    }
    if kw.get("link_bins"):
        options["link_bins"] = LinkBins.parse(kw["link_bins"])
    if kw.get("link_bound"):
        options["link_bound"] = kw["link_bound"]
    if kw.get("accuracy_mode"):
        options["accuracy_mode"] = None  # the user's choice wins
    settings = LinkedSettings(**options)
    synthesis = LinkedSynthesisSettings(subjects=kw.get("records"), seed=kw.get("seed"))
    check_output_folder(output, force=force, inputs=[source])
    if kw.get("evaluate"):
        check_evaluation_folder(
            _evaluation_dir(output, kw), force=force, release=output, inputs=[source]
        )
    # The sensitive rows are kept for the steward's evaluation.
    linked = load_linked(source, read, settings.multi_value)
    with _progress() as progress:
        measured = measure_linked(linked, dp, settings, progress=progress)
        release = release_linked(measured, synthesis, read, progress=progress)
    return release, linked


def _k_release(
    source: Path, output: Path, force: bool, kw: dict[str, Any]
) -> tuple[Release, EncodedTable]:
    config = load_config(kw["config"])
    # The [model] table is left alone here, as the [dp] table is: one config
    # file may serve DP and k-anonymity runs. A flag given here is a mistake.
    _refuse_model_settings(kw, {}, f"the k-anonymity mode {kw['mode']}")
    read = build_read(config["read"], **_read_flags(**kw))
    length = kw.get("reporting_length") or config["dp"].get("reporting_length") or 3
    settings = KAnonymitySettings(
        resolution=kw["resolution"],
        reporting_length=int(length),
        seed=kw.get("seed"),
        oversampling_ratio=kw.get("oversampling_ratio"),
        oversampling_tries=kw.get("oversampling_tries"),
        use_synthetic_counts=bool(kw.get("use_synthetic_counts")),
        weight_percentile=kw.get("weight_percentile") or 95.0,
    )
    check_output_folder(output, force=force, inputs=[source])
    if kw.get("evaluate"):
        check_evaluation_folder(
            _evaluation_dir(output, kw), force=force, release=output, inputs=[source]
        )
    table = load_sensitive(source, read)
    with _progress() as progress:
        release = release_k_anonymous(
            table,
            kw["mode"],
            settings,
            read,
            unit=kw.get("unit", "record"),
            progress=progress,
        )
    return release, table


def _evaluation_dir(output: Path, kw: dict[str, Any]) -> Path:
    chosen = kw.get("evaluation_dir")
    return Path(chosen) if chosen else default_evaluation_folder(output)


def _summary(release: Release, folder: Path) -> None:
    privacy = release.metadata["privacy"]
    table = Table(title=Text(f"Release written to {folder}"), show_header=False)
    table.add_row("mode", release.mode)
    if "epsilon" in privacy:
        guarantee = f"epsilon {privacy['epsilon']:.4g}, delta {privacy['delta']:.3g}"
    else:
        guarantee = f"k-anonymity, k = {privacy.get('resolution')}"
    table.add_row("privacy", guarantee)
    table.add_row("protected record count", f"{release.aggregates.record_count:,}")
    for k, counts in enumerate(release.aggregates.counts, start=1):
        table.add_row(f"combinations of length {k}", f"{counts.size:,}")
    if release.synthetic is not None and len(release.synthetic):
        filled = release.synthetic.notna().to_numpy()
        table.add_row("synthetic records", f"{len(release.synthetic):,}")
        table.add_row("filled cells", f"{filled.mean():.1%}")
        table.add_row("complete records", f"{filled.all(axis=1).mean():.1%}")
    out.print(table)


@app.command()
def run(
    source: Annotated[Path, typer.Argument(help="Sensitive CSV or TSV file.")],
    output: Output,
    force: Force = False,
    config: Config = None,
    columns: Columns = None,
    names: Names = None,
    null: Null = None,
    absent_zero: AbsentZero = None,
    bins: Bins = None,
    values: Values = None,
    record_limit: Limit = None,
    delimiter: Delimiter = None,
    max_categories: MaxCategories = None,
    out_of_range: OutOfRange = None,
    epsilon: Epsilon = None,
    delta: Delta = None,
    reporting_length: Length = None,
    percentile: Percentile = None,
    percentile_share: PercentileShare = None,
    record_count_share: CountShare = None,
    accuracy_mode: Accuracy = None,
    sigma_proportions: Sigmas = None,
    fabrication_mode: Fabrication = None,
    thresholds: Thresholds = None,
    records: Records = None,
    seed: Seed = None,
    use_synthetic_counts: SyntheticCounts = None,
    weight_percentile: WeightPercentile = None,
    unit: Unit = "record",
    evaluate: Evaluate = True,
    evaluation_dir: EvaluationDir = None,
    resolution: Resolution = 10,
    mode: Mode = "dp",
    model_share: ModelShare = None,
    model_rounds: ModelRounds = None,
    max_model_cells: MaxModelCells = None,
    forbid_unlisted: ForbidUnlisted = False,
    oversampling_ratio: OversamplingRatio = None,
    oversampling_tries: OversamplingTries = None,
    subject_id: SubjectId = None,
    subject_columns: SubjectColumns = None,
    link_columns: LinkColumns = None,
    multi_value: MultiValues = None,
    link_bins: LinkBinsFlag = None,
    link_bound: LinkBound = None,
) -> None:
    """Measure, synthesize and write a release, then evaluate it privately."""
    kw = dict(locals())
    with _errors():
        table: EncodedTable | LinkedTable
        if _is_linked(kw) and mode not in K_MODES:
            release, table = _linked_release(source, output, force, kw)
        elif mode in K_MODES:
            release, table = _k_release(source, output, force, kw)
        elif mode in DP_MODES:
            synth, table = _fit(source, output, force, kw)
            with _progress() as progress:
                release = synth.release(progress=progress)
        else:
            raise ParameterError(
                f"mode {mode!r} is unknown; choose one of the DP modes "
                f"{', '.join(DP_MODES)} or one of the k-anonymity modes "
                f"{', '.join(K_MODES)}"
            )
        folder = release.save(output, force=force)
        _summary(release, folder)
        if evaluate and release.synthetic is not None:
            target = _evaluation_dir(output, kw)
            with _progress() as progress:
                if isinstance(table, LinkedTable):
                    report = run_linked_evaluation(
                        table,
                        release.synthetic,
                        release.aggregates,
                        release.metadata,
                        folder=target,
                        resolution=resolution,
                        progress=progress,
                    )
                else:
                    report = run_evaluation(
                        table,
                        release.synthetic,
                        release.aggregates,
                        reporting_length=release.aggregates.reporting_length,
                        folder=target,
                        resolution=resolution,
                        progress=progress,
                    )
            _evaluation_note(report)


def _evaluation_note(report: Path) -> None:
    out.print(
        Text.assemble(
            f"Evaluation written to {report.parent} (compares with the sensitive "
            "data: ",
            ("do not share it", "bold"),
            ").",
        ),
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def aggregate(
    source: Annotated[Path, typer.Argument(help="Sensitive CSV or TSV file.")],
    output: Output,
    force: Force = False,
    config: Config = None,
    columns: Columns = None,
    names: Names = None,
    null: Null = None,
    absent_zero: AbsentZero = None,
    bins: Bins = None,
    values: Values = None,
    record_limit: Limit = None,
    delimiter: Delimiter = None,
    max_categories: MaxCategories = None,
    out_of_range: OutOfRange = None,
    epsilon: Epsilon = None,
    delta: Delta = None,
    reporting_length: Length = None,
    percentile: Percentile = None,
    percentile_share: PercentileShare = None,
    record_count_share: CountShare = None,
    accuracy_mode: Accuracy = None,
    sigma_proportions: Sigmas = None,
    fabrication_mode: Fabrication = None,
    thresholds: Thresholds = None,
    unit: Unit = "record",
) -> None:
    """Measure only: write protected aggregates, accounting and statement."""
    kw = dict(locals())
    kw["mode"] = "dp-aggregate-seeded"
    kw["command"] = "aggregate"
    with _errors():
        synth, _ = _fit(source, output, force, kw)
        release = synth.release(synthesize=False)
        folder = release.save(output, force=force)
        _summary(release, folder)


@app.command()
def generate(
    aggregates: Annotated[
        Path, typer.Argument(help="aggregates.tsv, or a release folder holding one.")
    ],
    output: Output,
    force: Force = False,
    records: Records = None,
    seed: Seed = None,
    use_synthetic_counts: SyntheticCounts = None,
    weight_percentile: WeightPercentile = None,
) -> None:
    """Synthesize records from a protected aggregates file (post-processing).

    A linked release folder gives linked records: synthetic subjects with
    several rows each, drawn from its subject and link aggregates. Either
    way only protected counts and public settings are read, never the
    sensitive data, and no noise is drawn: the new records carry the
    release's guarantee and its accounting is copied, no budget spent.
    """
    with _errors():
        protected, metadata = load_release_aggregates(aggregates)
        if is_linked_release(metadata):
            flags = {
                "--use-synthetic-counts": use_synthetic_counts,
                "--weight-percentile": weight_percentile,
            }
            release = _generate_linked(
                aggregates, metadata, output, force, records, seed, flags
            )
            _summary(release, release.save(output, force=force))
            return
        synthesis = build_synthesis(
            {},
            records=records,
            seed=seed,
            use_synthetic_counts=use_synthetic_counts,
            weight_percentile=weight_percentile,
        )
        check_output_folder(output, force=force)
        with _progress() as progress:
            release = release_from_aggregates(
                protected, metadata, synthesis, progress=progress
            )
        folder = release.save(output, force=force)
        _summary(release, folder)


def _generate_linked(
    source: Path,
    metadata: dict[str, Any],
    output: Path,
    force: bool,
    records: int | None,
    seed: int | None,
    flags: dict[str, Any],
) -> Release:
    """Linked records drawn again from a linked release folder's protected counts."""
    from synthcase.linked import load_protected_linked, resynthesize_linked
    from synthcase.synthesize.linked import LinkedSynthesisSettings

    given = [flag for flag, value in flags.items() if value is not None]
    if given:
        raise ParameterError(
            f"{', '.join(given)} applies to flat releases only; a linked release "
            "draws its subjects and links from their protected distributions, "
            "so leave it out"
        )
    folder = source if source.is_dir() else source.parent
    protected = load_protected_linked(
        folder, metadata, linked_schema_from_release(metadata)
    )
    synthesis = LinkedSynthesisSettings(subjects=records, seed=seed)
    # The release folder read here must survive: refuse to write over it.
    check_output_folder(output, force=force, inputs=[folder])
    with _progress() as progress:
        return resynthesize_linked(protected, metadata, synthesis, progress=progress)


@app.command(name="evaluate")
def evaluate_command(
    sensitive: Annotated[Path, typer.Argument(help="The sensitive CSV or TSV file.")],
    release_dir: Annotated[Path, typer.Argument(help="A release folder.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Evaluation folder (default: beside the release)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an earlier evaluation.")
    ] = False,
    resolution: Resolution = 10,
) -> None:
    """Compare a release with the sensitive data (the result is sensitive)."""
    with _errors():
        synthetic, aggregates, metadata = load_release(release_dir)
        read = read_options_from_release(metadata)
        target = output or default_evaluation_folder(release_dir)
        check_evaluation_folder(
            target, force=force, release=release_dir, inputs=[sensitive]
        )
        if is_linked_release(metadata):
            with _not_matching(sensitive):
                linked = load_linked_sensitive(sensitive, metadata)
            with _progress() as progress:
                report = run_linked_evaluation(
                    linked,
                    synthetic,
                    aggregates,
                    metadata,
                    folder=target,
                    resolution=resolution,
                    progress=progress,
                )
            _evaluation_note(report)
            return
        with _not_matching(sensitive):
            table = load_sensitive(sensitive, read)
        with _progress() as progress:
            report = run_evaluation(
                table,
                synthetic,
                aggregates,
                reporting_length=int(metadata.get("reporting_length", 3)),
                folder=target,
                resolution=resolution,
                progress=progress,
            )
        _evaluation_note(report)


@contextmanager
def _not_matching(sensitive: Path) -> Iterator[None]:
    """Say that a file the release cannot be read from is the wrong file."""
    try:
        yield
    except DataError as err:
        raise DataError(
            f"{sensitive.name} cannot be read the way the release was made "
            f"({err}). Pass the sensitive file this release was made from; the "
            "reading settings come from the release's release.json"
        ) from None


@app.command()
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8080,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the app in the default browser.")
    ] = False,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Allow listening on an address other than this machine's own.",
        ),
    ] = False,
    max_upload_mb: Annotated[
        int, typer.Option("--max-upload-mb", help="Largest upload accepted, in MB.")
    ] = 50,
) -> None:
    """Start the local web app (needs the 'web' extra)."""
    with _errors():
        try:
            from synthcase.web.server import serve as start
        except ImportError as error:
            raise ParameterError(
                f"the web app needs the 'web' extra ({error.name} is missing); "
                "install it with: pip install 'synthcase[web]'"
            ) from None
        start(
            host=host,
            port=port,
            open_browser=open_browser,
            allow_remote=allow_remote,
            max_upload_mb=max_upload_mb,
        )


@app.command()
def demo(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Release folder to write.")
    ] = Path("demo-release"),
    force: Force = False,
    epsilon: Annotated[float, typer.Option("--epsilon", help="Privacy loss.")] = 4.0,
    seed: Seed = None,
) -> None:
    """Release the bundled NIST ma2019 excerpt (public data) as a demonstration."""
    data = resources.files("synthcase") / "data"
    with (
        resources.as_file(data / "ma2019.csv") as csv_path,
        resources.as_file(data / "ma2019.toml") as config_path,
    ):
        run(
            csv_path,
            output,
            force=force,
            config=config_path,
            epsilon=epsilon,
            seed=seed,
            **_no_flags(),
        )


def _no_flags() -> dict[str, Any]:
    """Every optional flag of :func:`run` left at its default."""
    names = [
        "columns", "names", "null", "absent_zero", "bins", "values", "record_limit",
        "delimiter",
        "max_categories", "out_of_range", "delta", "reporting_length",
        "percentile", "percentile_share", "record_count_share", "accuracy_mode",
        "sigma_proportions", "fabrication_mode", "thresholds", "records",
        "use_synthetic_counts", "weight_percentile",
    ]  # fmt: skip
    return dict.fromkeys(names)


def _terminate(signum: int, frame: object) -> None:
    # Turn SIGTERM into KeyboardInterrupt so staged folders are cleaned up.
    raise KeyboardInterrupt


def main() -> None:
    """Entry point of the ``synthcase`` script."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except SystemExit as exit_:
        sys.exit(exit_.code)
