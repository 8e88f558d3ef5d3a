"""DP measurements of a graphical model for complete synthetic records.

The mechanism follows MST (McKenna, Miklau & Sheldon, *Winning the NIST
Contest: A scalable and general approach to differentially private synthetic
data*, JPC 2021) and PrivBayes (Zhang et al., SIGMOD 2014), with every noisy
step done by OpenDP and accounted in zCDP:

1. *one-way*: the contingency table of every column is measured with discrete
   Gaussian noise, all ``d`` tables as one vector.
2. *select*: a junction tree is grown one column at a time. At each step the
   exponential mechanism (OpenDP's noisy max in its zCDP form) picks a column
   ``C`` outside the tree and a *parent set* ``S`` inside it (one column, or
   two columns that share a clique), scoring how far the true table of
   ``S + C`` is from what the tree would assume without the step (``C``
   independent of ``S``), minus the noise that measuring the larger table
   would add.
3. *thicken* (public): when the noise is small enough, each pair clique
   ``(a, c)`` also gets the pair ``(b, c)`` with the other column ``b`` of its
   parent clique, so the tree of pairs becomes a tree of triangles. The rule
   reads only the noise scale, the structure and the noisy record count.
4. *measure*: the table of every chosen clique ``S + C`` and every
   thickening pair is measured with discrete Gaussian noise, all ``T``
   tables as one vector.
5. *rounds* (as AIM: McKenna, Mullins, Sheldon & Miklau, VLDB 2022): each
   round fits the model to every protected table so far, picks by noisy max
   the pair or triple of columns whose true table the model gets most wrong
   (less the noise measuring it would add), measures that table with
   discrete Gaussian noise and grows the junction tree so one clique holds
   it. The number of rounds and the budget of each are fixed beforehand.

Before step 2, values whose noisy one-way count is small are merged into one
cell per column (as MST does), so the cliques are measured on fewer cells.

Domains are public: a column's domain is the values the aggregates released
at length 1 (already protected), or its declared bins when the caller passes
them as public, plus one *other* cell for records whose value is absent, was
suppressed or lies outside the public list. Every record falls in exactly
one cell of each table, so under add/remove of one record a vector of ``T``
tables moves by ``sqrt(T)`` in L2 norm, and a score of step 2 by at most 2
(one cell of the ``S + C`` table by 1, one row of the product by a
probability vector).

Guarantee: ``rho``-zCDP under adding or removing one record, where ``rho`` is
the sum of the OpenDP privacy maps of steps 1, 2, 4 and of every round's
noisy max and table, all recorded in the accountant. A round's choices read
earlier outputs only, so zCDP's adaptive composition adds the losses.
The result, :class:`ModelMeasurements`, holds only protected data: noisy
tables, the public domains and the privately chosen structure.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from synthcase.errors import BudgetError, DataError, ParameterError
from synthcase.measure._model_adaptive import (
    CACHE_BYTES,
    MESSAGE_CELLS,
    ROUND_SENSITIVITY,
    FittedTree,
    Growth,
    RoundScores,
    candidate_sets,
)
from synthcase.measure._model_structure import (
    SCORE_SENSITIVITY,
    Selector,
    contingency,
    domain_codes,
    merge_map,
    noisy_max,
    thicken_pairs,
)
from synthcase.measure._model_tree import Measurement, Tree, estimate_total, fit_tree
from synthcase.measure.aggregates import Aggregates
from synthcase.measure.budget import Accountant
from synthcase.measure.noise import gaussian_counts, scale_for_rho
from synthcase.prepare.table import EncodedTable
from synthcase.progress import Progress, no_progress

__all__ = [
    "ModelCost",
    "ModelMeasurements",
    "ModelSettings",
    "NoisyTable",
    "estimate_cost",
    "measure_model",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

_SECONDS_PER_CLIQUE = 1e-4
_SECONDS_PER_CELL = 1e-7
"""Fitting time per clique and per cell of one iteration on one core; measured
on the NIST excerpts (about half of this on an idle machine)."""
_SECONDS_PER_CANDIDATE = 3e-4
"""Time to score one pair or triple in one round (the NIST excerpts: 2,300
candidates in about 0.7 s under load)."""


MAX_ROUNDS = 1000
"""Most adaptive rounds: each round fits the model once and gets
``round_share / rounds`` of its rho, so past a thousand the tables are
mostly noise and a run takes hours."""


@dataclass(frozen=True, kw_only=True)
class ModelSettings:
    """Settings of the model's measurements and of its fitting.

    Attributes:
        one_way_share: Share (0, 1) of the model's rho for the one-way tables.
        select_share: Share (0, 1) of the model's rho for choosing the cliques;
            the rest measures the chosen cliques.
        max_clique_size: Most columns in one clique of the selected tree, 2
            (a tree of pairs, as MST) to 4; 3 lets a column depend on two
            others jointly. Adaptive rounds measure pairs and triples and
            may grow cliques beyond it, within ``round_cells``.
        max_clique_cells: Largest table a clique may have; bigger candidates
            are not considered.
        max_model_cells: Cap on the model size (the cells of all cliques);
            measuring refuses, before spending any budget, a table whose
            largest possible model exceeds it.
        iterations: Most mirror-descent iterations when fitting.
        merge_below: Values whose noisy one-way count is below this many noise
            scales are merged into one cell of their column before the
            cliques are chosen and measured (as MST does): fewer cells carry
            less noise. Sampling spreads the merged cell over its values in
            proportion to their clipped noisy counts. 0 merges nothing.
        noise_penalty: Weight (>= 0) of the expected noise of a candidate's
            table in its selection score; lower values let bigger cliques in.
        thicken: Also measure, for each pair clique ``(a, c)``, the pair
            ``(b, c)`` with the other column ``b`` of ``a``'s clique, so the
            tree of pairs becomes a tree of triangles: more tables, each
            noisier. ``None`` decides from public quantities (see
            ``thicken_below``).
        thicken_below: With ``thicken=None``, thicken when the expected L1
            noise of an average clique table, at the noise scale thickening
            would give, is at most this share of the (noisy) record count.
        rounds: Adaptive rounds after the tree (0 for none): each fits the
            model so far, picks by noisy max the pair or triple of columns
            the model gets most wrong and measures its table (as AIM does).
        round_share: Share (0, 1) of the model's rho for the rounds, when
            ``rounds`` > 0; taken from the cliques' share.
        round_cells: Largest model (cells of all cliques) a round may grow;
            candidates that would exceed it, or ``max_model_cells``, are not
            considered.
        round_iterations: Most mirror-descent iterations of each round's fit.
    """

    one_way_share: float = 0.3
    select_share: float = 0.1
    max_clique_size: int = 3
    max_clique_cells: int = 20_000
    max_model_cells: int = 5_000_000
    iterations: int = 300
    merge_below: float = 3.0
    noise_penalty: float = 0.5
    thicken: bool | None = None
    thicken_below: float = 0.15
    rounds: int = 16
    round_share: float = 0.3
    round_cells: int = 1_000_000
    round_iterations: int = 100

    def __post_init__(self) -> None:
        for name in ("one_way_share", "select_share"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 < value < 1.0:
                raise ParameterError(
                    f"{name} is {value!r}; it must be in (0, 1), for example 0.1"
                )
        if not isinstance(self.round_share, int | float) or not (
            0.0 < self.round_share < 1.0
        ):
            raise ParameterError(
                f"round_share is {self.round_share!r}; it must be in (0, 1), for "
                "example 0.3"
            )
        rounds_share = self.round_share if self.rounds else 0.0
        together = self.one_way_share + self.select_share + rounds_share
        if together >= 1.0:
            raise ParameterError(
                f"one_way_share {self.one_way_share} plus select_share "
                f"{self.select_share}"
                + (f" plus round_share {self.round_share}" if self.rounds else "")
                + f" is {together:g}; together they must stay below 1 to leave "
                "budget for the cliques"
                + (
                    f", so round_share must be below "
                    f"{1.0 - self.one_way_share - self.select_share:g} with these "
                    "shares"
                    if self.rounds
                    else ""
                )
            )
        if (
            not isinstance(self.max_clique_size, int)
            or isinstance(self.max_clique_size, bool)
            or self.max_clique_size not in (2, 3, 4)
        ):
            raise ParameterError(
                f"max_clique_size is {self.max_clique_size!r}; it must be 2, 3 or 4"
            )
        for name, example in (
            ("merge_below", 3),
            ("noise_penalty", 0.5),
            ("thicken_below", 0.15),
        ):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value < math.inf:
                raise ParameterError(
                    f"{name} is {value!r}; it must be a finite number >= 0, for "
                    f"example {example}"
                )
        if self.thicken is not None and not isinstance(self.thicken, bool):
            raise ParameterError(
                f"thicken is {self.thicken!r}; it must be true, false or left "
                "unset to decide from the noise"
            )
        if (
            not isinstance(self.rounds, int)
            or isinstance(self.rounds, bool)
            or not 0 <= self.rounds <= MAX_ROUNDS
        ):
            raise ParameterError(
                f"rounds is {self.rounds!r}; it must be a whole number from 0 to "
                f"{MAX_ROUNDS}, for example 16"
            )
        for name in (
            "max_clique_cells",
            "max_model_cells",
            "iterations",
            "round_cells",
            "round_iterations",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ParameterError(
                    f"{name} is {value!r}; it must be a whole number >= 1"
                )


@dataclass(frozen=True, eq=False)
class NoisyTable:
    """A protected contingency table over some columns.

    Attributes:
        columns: Column numbers, ascending.
        values: Noisy counts, one axis per column (in ``columns`` order). A
            one-way table spans the column's domain (values, then *other*);
            a clique's axes span the merged domains
            (:attr:`ModelMeasurements.merged`).
        scale: Standard deviation of the noise on each cell.
    """

    columns: tuple[int, ...]
    values: FloatArray
    scale: float


@dataclass(frozen=True, eq=False)
class ModelMeasurements:
    """Everything the model is fitted from; all of it protected or public.

    Attributes:
        columns: Column names, in input order.
        domains: Per column, the released value labels; the cell after them is
            *other* (absent or suppressed).
        one_way: The noisy table of each column.
        cliques: The noisy table of each chosen clique, in junction-tree order
            (a clique's parent comes before it).
        parents: For each clique, the position of its parent clique, ``-1``
            for the root.
        separators: For each model clique, the columns it shares with its
            parent.
        model_cliques: The junction tree's cliques: each chosen clique, or
            the triangle it grew into when thickened.
        extra: The noisy tables of the thickening pairs, each inside a model
            clique.
        merged: Per column, the cell of each domain value (the *other* cell
            last) in the merged domain the cliques are measured on; derived
            from the noisy one-way tables, so public.
        settings: The settings measured with (fitting reads them too).
        rounds: Of ``extra``, how many tables (the last ones) the adaptive
            rounds measured.
        base_cliques: The junction tree before the rounds grew it (the same
            as ``model_cliques`` without rounds); fitting starts there.
        base_parents: Its parents.
        start: After rounds, the last round's fitted model on each clique of
            the final tree (post-processing of the tables before the last
            one), where the final fit starts; empty without rounds.
        rho: Privacy loss of the measurements (zCDP), as OpenDP reports it.
    """

    columns: tuple[str, ...]
    domains: tuple[tuple[str, ...], ...]
    one_way: tuple[NoisyTable, ...]
    cliques: tuple[NoisyTable, ...]
    parents: tuple[int, ...]
    separators: tuple[tuple[int, ...], ...]
    model_cliques: tuple[tuple[int, ...], ...]
    extra: tuple[NoisyTable, ...]
    merged: tuple[npt.NDArray[np.int64], ...]
    settings: ModelSettings = field(default_factory=ModelSettings)
    rounds: int = 0
    base_cliques: tuple[tuple[int, ...], ...] = ()
    base_parents: tuple[int, ...] = ()
    start: tuple[FloatArray, ...] = ()
    rho: float = 0.0

    @property
    def sizes(self) -> tuple[int, ...]:
        """Cells of each column's domain (released values plus *other*)."""
        return tuple(len(d) + 1 for d in self.domains)

    @property
    def merged_sizes(self) -> tuple[int, ...]:
        """Cells of each column's merged domain."""
        return tuple(int(m.max()) + 1 for m in self.merged)

    def structure(self) -> list[dict[str, Any]]:
        """The junction tree by column name, for ``release.json``."""
        measured: list[list[NoisyTable]] = [[] for _ in self.model_cliques]
        for t in (*self.cliques, *self.extra):
            inside = next(
                i for i, c in enumerate(self.model_cliques) if set(t.columns) <= set(c)
            )
            measured[inside].append(t)
        return [
            {
                "columns": [self.columns[c] for c in clique],
                "parent": parent,
                "measured": [[self.columns[c] for c in t.columns] for t in tables],
                "noise_scales": [t.scale for t in tables],
            }
            for clique, parent, tables in zip(
                self.model_cliques, self.parents, measured, strict=True
            )
        ]


@dataclass(frozen=True)
class ModelCost:
    """Predicted size and time of a model, known before any budget is spent.

    Attributes:
        cells: Most cells the model can have (the cliques' tables together).
        seconds: Estimated fitting time at that size on one core.
        bytes: Estimated memory of fitting at that size.
    """

    cells: int
    seconds: float
    bytes: int


def round_limit(settings: ModelSettings) -> int:
    """Most cells the adaptive rounds may grow the model to."""
    return min(settings.round_cells, settings.max_model_cells)


def estimate_cost(
    sizes: tuple[int, ...] | list[int], settings: ModelSettings
) -> ModelCost:
    """Upper bounds on the model's size and fitting time from public domains.

    A model has one clique per column after the first, each at most
    ``max_clique_size`` columns and ``max_clique_cells`` cells; the bound
    takes the largest cliques the domains allow. Adaptive rounds grow the
    model up to ``round_cells`` and fit it once per round.

    >>> estimate_cost([3, 3, 3], ModelSettings(rounds=0)).cells
    54
    """
    ordered = sorted(sizes, reverse=True)
    largest = math.prod(ordered[: settings.max_clique_size]) if ordered else 0
    per_clique = min(largest, settings.max_clique_cells)
    cliques = max(len(sizes) - 1, 1)
    cells = per_clique * cliques
    iterations = settings.iterations
    scoring = 0.0
    cache = 0
    if settings.rounds and len(sizes) > 1:
        cells = max(cells, round_limit(settings))
        iterations += settings.rounds * settings.round_iterations
        # Every round scores every pair and triple of columns.
        d = len(sizes)
        candidates = d * (d - 1) // 2 + d * (d - 1) * (d - 2) // 6
        scoring = settings.rounds * candidates * _SECONDS_PER_CANDIDATE
        cache = CACHE_BYTES + MESSAGE_CELLS * 8
    per_iteration = cliques * _SECONDS_PER_CLIQUE + cells * _SECONDS_PER_CELL
    # Fitting keeps a few arrays of the model's size (potentials, marginals,
    # messages, gradients) in float64; rounds add their cache of true tables
    # and a query's largest message.
    return ModelCost(
        cells=cells,
        seconds=iterations * per_iteration + scoring,
        bytes=cells * 8 * 8 + cache,
    )


def fit_inputs(
    one_way: Sequence[NoisyTable],
    merged: Sequence[npt.NDArray[np.int64]],
    tables: Sequence[NoisyTable],
    cliques: Sequence[tuple[int, ...]],
    sizes: tuple[int, ...],
) -> tuple[list[Measurement], float]:
    """The fitting inputs of protected tables on a junction tree's cliques.

    Each table goes to the smallest clique holding its columns (the fitted
    cliques agree on shared columns, so any would do, and the smallest is
    the cheapest to sum down); a merged cell of a one-way table sums several
    noisy cells, so its variance adds up. Returns the inputs and the record
    count the tables estimate.
    """
    clique_cells = [math.prod(sizes[c] for c in clique) for clique in cliques]

    def home(columns: tuple[int, ...]) -> int:
        holding = [i for i, c in enumerate(cliques) if set(columns) <= set(c)]
        return min(holding, key=lambda i: (clique_cells[i], i))

    inputs: list[Measurement] = []
    for t, cells in zip(one_way, merged, strict=True):
        j = t.columns[0]
        summed = np.bincount(cells, weights=t.values, minlength=sizes[j])
        width = np.bincount(cells, minlength=sizes[j]).astype(np.float64)
        inputs.append(
            Measurement(
                home(t.columns),
                t.columns,
                summed.astype(np.float64),
                _weight(t.scale) / width,
            )
        )
    for t in tables:
        inputs.append(
            Measurement(home(t.columns), t.columns, t.values, _weight(t.scale))
        )
    total = estimate_total([(t.values, t.scale) for t in (*one_way, *tables)])
    return inputs, total


def _weight(scale: float) -> float:
    # Exact tables (no noise) still need a finite weight; any large one works.
    return 1.0 / scale**2 if scale > 0 else 1.0


def measure_model(
    table: EncodedTable,
    aggregates: Aggregates,
    accountant: Accountant,
    *,
    rho: float,
    settings: ModelSettings,
    public_domains: Mapping[str, Sequence[str]] | None = None,
    progress: Progress = no_progress,
) -> ModelMeasurements:
    """Measure a junction-tree model of ``table`` with ``rho``-zCDP.

    Args:
        table: The sensitive records; each row is one privacy unit.
        aggregates: Protected aggregates of the same columns; their length-1
            values are the public domains.
        accountant: The release's accountant; every spend is recorded there.
        rho: Budget of these measurements (usually ``plan.rho_model``).
        settings: Shares of the budget and limits of the model.
        public_domains: Value labels of columns whose domain is public
            without measurement, such as the declared bins of a binned
            column (``{spec.column: spec.labels()}``); other columns use the
            values the aggregates released. Must never be read off the data.
        progress: Called with the stage and the fraction done.

    Returns:
        The noisy tables and the chosen structure (protected).

    Raises:
        DataError: When the aggregates do not describe the table's columns.
        ParameterError: When the largest possible model exceeds
            ``max_model_cells``.
        BudgetError: When ``rho`` is not positive or the spends exceed it.
    """
    if tuple(aggregates.columns) != tuple(table.columns):
        raise DataError(
            f"the aggregates hold columns {list(aggregates.columns)} but the table "
            f"holds {list(table.columns)}; measure the model on the table the "
            "aggregates were measured from"
        )
    if not rho > 0:
        raise BudgetError(
            f"the model was given rho {rho!r}; it needs rho > 0, so set "
            "model_share above 0 (for example --model-share 0.5)"
        )
    public = dict(public_domains or {})
    unknown = sorted(set(public) - set(table.columns))
    if unknown:
        raise ParameterError(
            f"public_domains names {unknown}, which are not among the columns "
            f"{list(table.columns)}"
        )
    domains = tuple(
        tuple(str(v) for v in public[c]) if c in public else tuple(released)
        for c, released in zip(table.columns, aggregates.categories, strict=True)
    )
    for column, labels in zip(table.columns, domains, strict=True):
        if len(set(labels)) != len(labels):
            raise ParameterError(
                f"the public domain of {column!r} repeats a value; give each value once"
            )
    sizes = tuple(len(d) + 1 for d in domains)
    cost = estimate_cost(sizes, settings)
    if cost.cells > settings.max_model_cells:
        raise ParameterError(
            f"the model may need {cost.cells:,} cells (about {cost.seconds:.0f} s "
            f"to fit), above max_model_cells {settings.max_model_cells:,}; raise "
            "max_model_cells (--max-model-cells), lower max_clique_size or "
            "max_clique_cells, bin columns more coarsely or use fewer columns"
        )
    codes = domain_codes(table, domains)
    d = len(sizes)
    steps = d - 1

    # Budget: fix every scale first, so a plan that does not fit fails
    # before any noise is drawn.
    # Keep a hair of the budget unallocated: OpenDP's maps round losses up,
    # and the parts must never add up to more than the whole.
    usable = rho * (1.0 - 1e-9)
    rho_one = usable * settings.one_way_share if steps else usable
    rho_select = usable * settings.select_share if steps else 0.0
    rounds = settings.rounds if steps else 0
    rho_rounds = usable * settings.round_share if rounds else 0.0
    rho_cliques = usable - rho_one - rho_select - rho_rounds if steps else 0.0
    # Each round: a tenth for the noisy max, the rest for its table (AIM's split).
    round_select_scale = (
        scale_for_rho(ROUND_SENSITIVITY, 0.1 * rho_rounds / rounds) if rounds else 0.0
    )
    round_scale = scale_for_rho(1.0, 0.9 * rho_rounds / rounds) if rounds else 0.0
    one_scale = scale_for_rho(math.sqrt(d), rho_one)
    select_scale = (
        scale_for_rho(SCORE_SENSITIVITY, rho_select / steps) if steps else 0.0
    )
    clique_scale = scale_for_rho(math.sqrt(steps), rho_cliques) if steps else 0.0
    planned = d / (2 * one_scale**2)
    if steps:
        planned += steps * (SCORE_SENSITIVITY / select_scale) ** 2 / 2
        planned += steps / (2 * clique_scale**2)
    if rounds:
        planned += rounds * (ROUND_SENSITIVITY / round_select_scale) ** 2 / 2
        planned += rounds / (2 * round_scale**2)
    if planned > rho:
        raise BudgetError(
            f"the model's measurements would spend rho {planned:.8g}, above their "
            f"budget {rho:.8g}; nothing was measured"
        )
    logger.info(
        "model budget: rho %.6g (one-way %.3g, selection %.3g over %d steps, "
        "cliques %.3g); noise scale one-way %.4g, cliques %.4g",
        rho,
        rho_one,
        rho_select,
        steps,
        rho_cliques,
        one_scale,
        clique_scale,
    )

    # One-way tables, measured together.
    progress("measuring model: one-way tables", 0.0)
    one_true = [np.bincount(codes[:, j], minlength=sizes[j]) for j in range(d)]
    noisy, spent = gaussian_counts(
        np.concatenate(one_true).astype(np.int64), math.sqrt(d), one_scale
    )
    accountant.spend("model one-way tables", spent)
    total_spent = spent
    one_way = tuple(
        NoisyTable((j,), part.astype(np.float64), one_scale)
        for j, part in enumerate(np.split(noisy, np.cumsum(sizes)[:-1]))
    )

    # Merge rare values (post-processing of the one-way tables).
    merged = tuple(
        merge_map(t.values, one_scale * settings.merge_below) for t in one_way
    )
    codes = np.stack([m[codes[:, j]] for j, m in enumerate(merged)], axis=1)
    sizes = tuple(int(m.max()) + 1 for m in merged)
    merged_one = tuple(
        NoisyTable(
            (j,),
            np.bincount(m, weights=t.values, minlength=sizes[j]).astype(np.float64),
            one_scale,
        )
        for j, (m, t) in enumerate(zip(merged, one_way, strict=True))
    )

    # Structure, one noisy-max step per column after the first.
    chosen: list[tuple[int, ...]] = []
    parents: list[int] = []
    separators: list[tuple[int, ...]] = []
    if steps:
        selector = Selector(codes, sizes, merged_one, clique_scale, settings)
        step_rho = 0.0
        for step in range(steps):
            progress("measuring model: choosing cliques", step / steps)
            candidates, scores = selector.candidates()
            pick, step_rho = noisy_max(scores, select_scale)
            clique, separator, parent = selector.add(candidates[pick])
            chosen.append(clique)
            separators.append(separator)
            parents.append(parent)
        accountant.spend(
            f"model clique selection ({steps} noisy-max steps)", step_rho * steps
        )
        total_spent += step_rho * steps
        logger.info(
            "model cliques: %s",
            "; ".join(",".join(table.columns[c] for c in cl) for cl in chosen),
        )

    # Thickening: a public decision from the structure and noisy totals.
    model_cliques, extra_pairs, model_separators = thicken_pairs(
        chosen, separators, parents, sizes, settings.max_clique_cells
    )
    tables = chosen + [p for _, p in extra_pairs]
    thick_scale = (
        scale_for_rho(math.sqrt(len(tables)), rho_cliques) if extra_pairs else 0.0
    )
    thicken = settings.thicken
    if thicken is None and extra_pairs:
        records = float(np.mean([t.values.sum() for t in one_way]))
        cells = float(np.mean([math.prod(sizes[c] for c in cl) for cl in chosen]))
        noise = math.sqrt(2.0 / math.pi) * thick_scale * cells
        thicken = noise <= settings.thicken_below * max(records, 1.0)
        logger.info(
            "model thickening: expected noise %.3g of a table against %.3g records: %s",
            noise,
            records,
            "thicken" if thicken else "keep the tree",
        )
    if not thicken or not extra_pairs:
        model_cliques, extra_pairs, model_separators = (
            list(chosen),
            [],
            list(separators),
        )
        tables = list(chosen)
    else:
        clique_scale = thick_scale

    # Clique tables (and thickening pairs), measured together.
    progress("measuring model: clique tables", 1.0)
    cliques: list[NoisyTable] = []
    extra: list[NoisyTable] = []
    if steps:
        true = [contingency(codes, cl, sizes) for cl in tables]
        flat, spent = gaussian_counts(
            np.concatenate([t.ravel() for t in true]).astype(np.int64),
            math.sqrt(len(tables)),
            clique_scale,
        )
        accountant.spend(f"model clique tables ({len(tables)} tables)", spent)
        total_spent += spent
        bounds = np.cumsum([t.size for t in true])[:-1]
        for k, (cl, part, t) in enumerate(
            zip(tables, np.split(flat, bounds), true, strict=True)
        ):
            noisy_table = NoisyTable(
                cl, part.astype(np.float64).reshape(t.shape), clique_scale
            )
            (cliques if k < steps else extra).append(noisy_table)

    # Adaptive rounds: each reads the model fitted to the protected tables so
    # far (post-processing) and the true tables through one noisy max.
    model_parents = tuple(parents)
    base_cliques, base_parents = tuple(model_cliques), model_parents
    measured_rounds = 0
    start: list[FloatArray] | None = None
    if rounds:
        scorer = RoundScores(codes, sizes, settings.noise_penalty)
        # Rounds measure pairs and triples whatever the tree's clique limit:
        # a triple the tree cannot hold is what they are for.
        round_sets = candidate_sets(sizes, 3, settings.max_clique_cells)
        structure = tuple(model_cliques)
        for k in range(rounds):
            progress("measuring model: adaptive rounds", k / rounds)
            inputs, total = fit_inputs(
                one_way, merged, [*cliques, *extra], structure, sizes
            )
            fitted = fit_tree(
                Tree(structure, model_parents, sizes),
                inputs,
                total,
                iterations=settings.round_iterations,
                start=start,
            )
            growth = Growth(structure, model_parents, sizes)
            # A set a clique already holds adds no cells and is always
            # allowed, so the rounds spend their budget even on a model
            # already at the limit (a public decision: structure only).
            limit = max(round_limit(settings), growth.total)
            allowed = [c for c in round_sets if growth.cells_with(c) <= limit]
            if not allowed:
                logger.info("model round %d: no pair or triple to measure", k + 1)
                break
            model = FittedTree(structure, model_parents, fitted)
            scores = scorer.scores(allowed, model, total, round_scale)
            pick, select_spent = noisy_max(
                scores, round_select_scale, sensitivity=ROUND_SENSITIVITY
            )
            chosen_set = allowed[pick]
            true_table = scorer.true(chosen_set)
            flat, table_spent = gaussian_counts(
                true_table.ravel().astype(np.int64), 1.0, round_scale
            )
            accountant.spend(
                f"model round {k + 1} (noisy max and one table)",
                select_spent + table_spent,
            )
            total_spent += select_spent + table_spent
            extra.append(
                NoisyTable(
                    chosen_set,
                    flat.astype(np.float64).reshape(true_table.shape),
                    round_scale,
                )
            )
            grown, grown_parents, cells = growth.grow(chosen_set)
            # The next fit starts from this one, which the grown tree holds.
            start = [model.marginal(clique) for clique in grown]
            structure, model_parents = grown, grown_parents
            measured_rounds += 1
            logger.info(
                "model round %d: measured %s; the model has %d cells",
                k + 1,
                ",".join(table.columns[c] for c in chosen_set),
                cells,
            )
        model_cliques = list(structure)
        model_separators = [
            tuple(c for c in clique if p >= 0 and c in structure[p])
            for clique, p in zip(structure, model_parents, strict=True)
        ]
    if total_spent > rho:
        raise BudgetError(
            f"the model's measurements spent rho {total_spent:.8g}, above their "
            f"budget {rho:.8g}; nothing was released"
        )
    return ModelMeasurements(
        columns=tuple(table.columns),
        domains=domains,
        one_way=one_way,
        cliques=tuple(cliques),
        parents=model_parents,
        separators=tuple(model_separators),
        model_cliques=tuple(model_cliques),
        extra=tuple(extra),
        merged=merged,
        settings=settings,
        rounds=measured_rounds,
        base_cliques=base_cliques,
        base_parents=base_parents,
        start=tuple(start) if measured_rounds and start is not None else (),
        rho=total_spent,
    )
