"""The machinery under the k-anonymity synthesizers, against slow references.

Bitsets against boolean masks, the growth rule against a brute-force check
of when a record must stop, the two row-set forms against each other, and
the oversampling limiter and the suppression on hand-made cases.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from synthcase.prepare import EncodedTable
from synthcase.synthesize import _kanon_grow
from synthcase.synthesize._kanon_grow import SeededGrowth, consolidate
from synthcase.synthesize._kanon_rows import (
    RowSets,
    and_counts,
    bits_to_lists,
    pack_rows,
    popcounts,
    ragged_ranges,
    unpack_rows,
)
from synthcase.synthesize._kanon_settings import KAnonymitySettings
from synthcase.synthesize.row_seeded import suppress_surplus
from synthcase.synthesize.unseeded import _ColumnSampler
from synthcase.synthesize.value_seeded import OversamplingLimiter


def random_table(
    seed: int, n: int = 300, columns: int = 5, card: int = 3
) -> EncodedTable:
    rng = np.random.default_rng(seed)
    prototypes = rng.integers(0, card, size=(4, columns))
    codes = prototypes[rng.integers(0, 4, size=n)]
    noise = rng.random(codes.shape) < 0.25
    codes = np.where(noise, rng.integers(-1, card, size=codes.shape), codes)
    names = tuple(f"c{j}" for j in range(columns))
    categories = tuple(tuple(f"v{i}" for i in range(card)) for _ in names)
    return EncodedTable(names, categories, codes.astype(np.int32))


def seed_candidates(rows: RowSets) -> npt.NDArray[np.bool_]:
    """Each record may take its own values."""
    ids = rows.ids
    candidates = np.zeros((ids.shape[0], rows.n_values), dtype=bool)
    held, column = np.nonzero(ids >= 0)
    candidates[held, ids[held, column]] = True
    return candidates


def held_by(rows: RowSets, values: list[int]) -> int:
    """Slow reference: rows holding every value, by boolean masks."""
    mask = np.ones(rows.n_rows, dtype=bool)
    for v in values:
        mask &= rows.ids[:, rows.value_column[v]] == v
    return int(mask.sum())


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 200])
def test_bitsets_round_trip_and_count(n: int) -> None:
    rng = np.random.default_rng(n)
    mask = rng.random((7, n)) < 0.4
    words = max(1, -(-n // 64))
    bits = pack_rows(mask, words)
    assert bits.shape == (7, words) and bits.dtype == np.uint64
    assert (unpack_rows(bits, n) == mask).all()
    assert popcounts(bits).tolist() == mask.sum(axis=1).tolist()
    left, right = rng.integers(0, 7, 50), rng.integers(0, 7, 50)
    expected = (mask[left] & mask[right]).sum(axis=1)
    assert and_counts(bits, left, bits, right).tolist() == expected.tolist()
    found, lengths = bits_to_lists(bits)
    owner, row = np.nonzero(mask)
    assert found.tolist() == row.tolist()
    assert lengths.tolist() == np.bincount(owner, minlength=7).tolist()


def test_ragged_ranges() -> None:
    starts, lengths = np.array([5, 0, 9]), np.array([2, 0, 3])
    assert ragged_ranges(starts, lengths).tolist() == [5, 6, 9, 10, 11]
    assert ragged_ranges(starts[:0], lengths[:0]).tolist() == []


def test_row_sets_match_boolean_masks() -> None:
    table = random_table(1)
    rows = RowSets(table)
    masks = unpack_rows(rows.bits, rows.n_rows)
    for v in range(rows.n_values):
        j = int(rows.value_column[v])
        code = v - int(rows.index.offsets[j])
        assert (masks[v] == (table.codes[:, j] == code)).all()
        assert rows.counts[v] == masks[v].sum()
    pairs = rows.pairs_held(20)
    for u in range(rows.n_values):
        for v in range(rows.n_values):
            assert pairs[u, v] == ((masks[u] & masks[v]).sum() >= 20)


@pytest.mark.parametrize("seed", range(4))
def test_growth_stops_exactly_when_no_seed_value_fits(seed: int) -> None:
    k = 6
    table = random_table(seed)
    rows = RowSets(table)
    grown = SeededGrowth(rows, k, np.random.default_rng(seed)).grow(
        seed_candidates(rows)
    )
    for record, seed_ids in zip(grown, rows.ids, strict=True):
        taken = [int(v) for v in record if v >= 0]
        assert set(taken) <= {int(v) for v in seed_ids if v >= 0}
        if taken:
            assert held_by(rows, taken) >= k
        for v in seed_ids:
            if v >= 0 and int(v) not in taken:
                assert held_by(rows, [*taken, int(v)]) < k, (taken, v)


def test_growth_with_k_one_copies_every_record() -> None:
    table = random_table(5)
    rows = RowSets(table)
    grown = SeededGrowth(rows, 1, np.random.default_rng(0)).grow(seed_candidates(rows))
    assert (grown == rows.ids).all()


@pytest.mark.parametrize("threshold", [0, 10**9])
def test_bitset_and_row_list_nodes_give_the_same_records(
    threshold: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = random_table(2, n=600, columns=7, card=4)
    rows = RowSets(table)

    def run() -> npt.NDArray[np.int64]:
        growth = SeededGrowth(rows, 5, np.random.default_rng(9))
        seeded = growth.grow(seed_candidates(rows))
        available = rows.counts // 5 * 5
        return np.concatenate([seeded, consolidate(growth, available)])

    reference = run()
    monkeypatch.setattr(_kanon_grow, "list_threshold", lambda *args: threshold)
    assert (run() == reference).all()


@pytest.mark.parametrize("threshold", [0, 10**9])
def test_unseeded_bitsets_and_row_lists_agree(threshold: int) -> None:
    rows = RowSets(random_table(3, n=500, columns=6, card=4))
    reference = _ColumnSampler(rows, 5, np.random.default_rng(4)).sample(300)
    sampler = _ColumnSampler(rows, 5, np.random.default_rng(4))
    sampler.threshold = threshold
    assert (sampler.sample(300) == reference).all()


def test_unseeded_with_k_one_copies_sensitive_records() -> None:
    rows = RowSets(random_table(4))
    sampled = _ColumnSampler(rows, 1, np.random.default_rng(0)).sample(200)
    originals = {tuple(r) for r in rows.ids.tolist()}
    assert all(tuple(r) in originals for r in sampled.tolist())


def test_consolidation_uses_up_every_available_count() -> None:
    table = random_table(6, n=400)
    rows = RowSets(table)
    available = rows.counts // 7 * 7
    expected = available.copy()
    records = consolidate(SeededGrowth(rows, 7, np.random.default_rng(1)), available)
    assert available.sum() == 0
    assert (records >= 0).any(axis=1).all()
    used = np.bincount(records[records >= 0], minlength=rows.n_values)
    assert used.tolist() == expected.tolist()
    for record in records:
        assert held_by(rows, [int(v) for v in record if v >= 0]) >= 7


def test_limiter_ranks_proposals_for_the_same_combination() -> None:
    # (a, x) is held 12 times: k-anonymous count 10 at k = 5, cap 10 at ratio 0.
    rows_of = [(0, 0)] * 12 + [(0, 1)] * 5
    table = EncodedTable(
        ("A", "B"), (("a",), ("x", "y")), np.array(rows_of, dtype=np.int32)
    )
    limiter = OversamplingLimiter(table, resolution=5, reporting_length=2, ratio=0.0)
    a, x = 0, 1  # value ids
    chosen = np.array([[a, -1]] * 3)
    limiter.synthetic[1][0] = 8  # (a, x), the first pair, already made 8 times
    accepted = limiter.accept(chosen, np.array([x, x, x]))
    assert accepted.tolist() == [True, True, False]
    limiter.commit(accepted)
    assert limiter.synthetic[1].tolist() == [10, 0]
    assert limiter.synthetic[0].tolist() == [0, 2, 0]
    # (a, y) is held 5 times: cap 5.
    assert limiter.accept(np.array([[a, -1]]), np.array([2])).tolist() == [True]


def test_limiter_refuses_combinations_without_a_count() -> None:
    table = EncodedTable(
        ("A", "B"),
        (("a",), ("x", "y")),
        np.array([(0, 0)] * 12 + [(0, 1)] * 2, np.int32),
    )
    limiter = OversamplingLimiter(table, resolution=5, reporting_length=2, ratio=1.0)
    assert limiter.accept(np.array([[0, -1]]), np.array([2])).tolist() == [False]


def test_suppression_removes_only_the_surplus() -> None:
    rng = np.random.default_rng(0)
    records = rng.integers(-1, 6, size=(200, 4))
    records[:, 1] = np.where(records[:, 1] >= 0, records[:, 1] + 6, -1)
    target = np.bincount(records[records >= 0], minlength=12) // 3
    cut = suppress_surplus(records, target, rng)
    assert np.bincount(cut[cut >= 0], minlength=12).tolist() == target.tolist()
    # Only values were removed; nothing was moved or added.
    assert ((cut == records) | (cut == -1)).all()


def test_settings_are_checked_by_each_synthesizer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    original = KAnonymitySettings.check

    def spy(self: KAnonymitySettings, table: EncodedTable, mode: str) -> None:
        calls.append(mode)
        original(self, table, mode)

    monkeypatch.setattr(KAnonymitySettings, "check", spy)
    from synthcase.synthesize._kanon_aggregate_seeded import (
        synthesize_k_aggregate_seeded,
    )
    from synthcase.synthesize.row_seeded import synthesize_row_seeded
    from synthcase.synthesize.unseeded import synthesize_unseeded
    from synthcase.synthesize.value_seeded import synthesize_value_seeded

    table = random_table(0, n=50)
    settings = KAnonymitySettings(resolution=5, reporting_length=2, seed=0)
    for synthesize in (
        synthesize_row_seeded,
        synthesize_value_seeded,
        synthesize_unseeded,
        synthesize_k_aggregate_seeded,
    ):
        synthesize(table, settings)
    assert calls == ["row-seeded", "value-seeded", "unseeded", "aggregate-seeded"]
