"""The rows holding each distinct record so far, during growth.

Records that hold the same values share a *node*: the set of sensitive rows
that hold all of them. A node is a bitset while it has many rows and a row
list once it has few (see :mod:`synthcase.synthesize._kanon_rows`); both
count exactly, the switch only picks the faster. A step of growth asks a
node set two things: how many rows of each node hold each candidate value
(:meth:`Nodes.counts`), and what the nodes become once each record has
taken one more value (:meth:`Nodes.children`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthcase.measure.combinations import IntArray
from synthcase.synthesize._kanon_rows import (
    BitArray,
    BoolArray,
    RowSets,
    and_counts,
    bits_to_lists,
    ragged_ranges,
)

__all__ = ["Nodes", "list_threshold"]

_BATCH_CELLS = 2_000_000
"""Largest ``nodes x values`` histogram of one chunk."""

_HISTOGRAM_CELLS = 2_000_000
"""Largest ``rows x columns`` gather of one histogram chunk."""

_CHUNK_WORDS = 1 << 20
"""Words of one chunk of child bitsets (8 MB)."""

_CELL_COST = 5.0
"""Time of counting one row-list cell, in bitset words (measured)."""


def list_threshold(rows: RowSets, resolution: int, candidates: BoolArray) -> int:
    """Largest node kept as a row list rather than a bitset.

    A bitset node costs ``words`` per candidate counted; a row-list node costs
    ``columns`` cells per row, each about ``_CELL_COST`` words. Either is
    exact; this only picks the faster.
    """
    per_record = float(candidates.sum(axis=1).mean()) if candidates.size else 0.0
    words = rows.words * max(per_record, 1.0)
    cost = words / (_CELL_COST * max(1, rows.n_columns))
    return max(resolution, int(cost))


@dataclass(frozen=True, eq=False)
class Nodes:
    """Row sets of the distinct records so far at one step.

    ``slot[u]`` is the row of ``bits`` of node ``u`` when ``is_bits[u]``,
    else its segment of ``rows``: ``rows[starts[s]:starts[s + 1]]``.

    Attributes:
        count: Number of rows of each node.
        is_bits: Whether each node is a bitset.
        slot: Row of ``bits`` or segment of ``rows`` of each node.
        bits: Bitsets of the bitset nodes.
        starts: Segment starts of the row-list nodes (one more than segments).
        rows: Row numbers of the row-list nodes, segment after segment.
    """

    count: IntArray
    is_bits: BoolArray
    slot: IntArray
    bits: BitArray
    starts: IntArray
    rows: IntArray

    @classmethod
    def root(cls, sets: RowSets) -> Nodes:
        """The single node of empty records: every row."""
        return cls(
            count=np.array([sets.n_rows], dtype=np.int64),
            is_bits=np.ones(1, dtype=bool),
            slot=np.zeros(1, dtype=np.int64),
            bits=sets.all_rows,
            starts=np.zeros(1, dtype=np.int64),
            rows=np.zeros(0, dtype=np.int64),
        )

    @property
    def size(self) -> int:
        """Number of nodes."""
        return int(self.count.size)

    def counts(self, sets: RowSets, node_of: IntArray, cand: BoolArray) -> IntArray:
        """Rows of each node holding each value a record of it needs.

        Args:
            sets: The sensitive row sets.
            node_of: Node of each record.
            cand: ``(records, values)``: the values each record needs counted.

        Returns:
            ``(nodes, values)`` counts; values no record of a bitset node
            needs are left at 0 (row-list nodes get every value counted).
        """
        n_values = sets.n_values
        counts = np.zeros((self.size, n_values), dtype=np.int64)
        on_bits = np.flatnonzero(self.is_bits[node_of])
        if on_bits.size:
            # The values any record of a node needs, found once per node.
            order = np.argsort(node_of[on_bits], kind="stable")
            sorted_nodes = node_of[on_bits][order]
            first = np.flatnonzero(np.r_[True, sorted_nodes[1:] != sorted_nodes[:-1]])
            needed = np.logical_or.reduceat(cand[on_bits][order], first, axis=0)
            pair_node, pair_value = np.nonzero(needed)
            node_ids = sorted_nodes[first][pair_node]
            counts[node_ids, pair_value] = and_counts(
                self.bits, self.slot[node_ids], sets.bits, pair_value
            )
        listed = np.flatnonzero(~self.is_bits)
        if listed.size:
            segment_node = np.empty(listed.size, dtype=np.int64)
            segment_node[self.slot[listed]] = listed
            width = n_values + 1  # the last slot gathers absent cells
            for first_seg, last_seg in _segment_chunks(
                self.starts, sets.n_columns, width
            ):
                lo, hi = self.starts[first_seg], self.starts[last_seg]
                lengths = np.diff(self.starts[first_seg : last_seg + 1])
                local = np.repeat(np.arange(last_seg - first_seg), lengths)
                keys = local[:, None] * width + sets.ids_or_end[self.rows[lo:hi]]
                hist = np.bincount(
                    keys.ravel(), minlength=(last_seg - first_seg) * width
                )
                hist = hist.reshape(-1, width)[:, :n_values]
                counts[segment_node[first_seg:last_seg]] = hist
        return counts

    def children(
        self,
        sets: RowSets,
        node_of: IntArray,
        picks: IntArray,
        counts: IntArray,
        threshold: int,
    ) -> tuple[Nodes, IntArray]:
        """The nodes of the records after each took one more value.

        Args:
            sets: The sensitive row sets.
            node_of: Node of each record.
            picks: The value each record took.
            counts: Rows of the record's node holding its pick.
            threshold: Children with at most this many rows become row lists.

        Returns:
            The new nodes and the node of each record among them.
        """
        key = node_of * sets.n_values + picks
        unique, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        parent, value, count = node_of[first], picks[first], counts[first]
        from_bits = self.is_bits[parent]
        big = from_bits & (count > threshold)
        small_bits = np.flatnonzero(from_bits & ~big)
        from_list = np.flatnonzero(~from_bits)

        big_ids = np.flatnonzero(big)
        bits = _and_rows(
            self.bits, self.slot[parent[big_ids]], sets.bits, value[big_ids]
        )
        unpacked_rows, unpacked_lengths = _unpack(
            sets, self.bits, self.slot[parent[small_bits]], value[small_bits]
        )
        listed_rows, listed_lengths = self._filter(
            sets, parent[from_list], value[from_list]
        )

        is_bits = big
        slot = np.empty(unique.size, dtype=np.int64)
        slot[big_ids] = np.arange(big_ids.size)
        listed_order = np.concatenate([small_bits, from_list])
        slot[listed_order] = np.arange(listed_order.size)
        lengths = np.concatenate([unpacked_lengths, listed_lengths])
        children = Nodes(
            count=count,
            is_bits=is_bits,
            slot=slot,
            bits=bits,
            starts=np.concatenate(([0], np.cumsum(lengths))).astype(np.int64),
            rows=np.concatenate([unpacked_rows, listed_rows]),
        )
        return children, inverse.reshape(-1)

    def _filter(
        self, sets: RowSets, parents: IntArray, values: IntArray
    ) -> tuple[IntArray, IntArray]:
        """Row lists of ``parent & value`` for row-list parents."""
        segment = self.slot[parents]
        starts = self.starts[segment]
        lengths = self.starts[segment + 1] - starts
        positions = ragged_ranges(starts, lengths)
        child = np.repeat(np.arange(parents.size), lengths)
        candidate_rows = self.rows[positions]
        column = sets.value_column[values][child]
        keep = sets.ids[candidate_rows, column] == values[child]
        return candidate_rows[keep], np.bincount(child[keep], minlength=parents.size)


def _unpack(
    sets: RowSets, parent_bits: BitArray, slots: IntArray, values: IntArray
) -> tuple[IntArray, IntArray]:
    """Row lists of ``parent & value`` for bitset parents (small results)."""
    parts_rows: list[IntArray] = [np.zeros(0, dtype=np.int64)]
    parts_lengths: list[IntArray] = [np.zeros(0, dtype=np.int64)]
    step = max(1, _CHUNK_WORDS // sets.words)
    for first in range(0, slots.size, step):
        both = _and_rows(
            parent_bits,
            slots[first : first + step],
            sets.bits,
            values[first : first + step],
        )
        found, lengths = bits_to_lists(both)
        parts_rows.append(found)
        parts_lengths.append(lengths)
    return np.concatenate(parts_rows), np.concatenate(parts_lengths)


def _and_rows(
    left: BitArray, left_rows: IntArray, right: BitArray, right_rows: IntArray
) -> BitArray:
    return np.asarray(left[left_rows] & right[right_rows], dtype=np.uint64)


def _segment_chunks(
    starts: IntArray, n_columns: int, n_values: int
) -> list[tuple[int, int]]:
    """Split row-list segments into chunks of bounded gather and histogram."""
    n_segments = starts.size - 1
    per_chunk = max(1, _BATCH_CELLS // max(1, n_values))
    chunks: list[tuple[int, int]] = []
    first = 0
    while first < n_segments:
        limit = starts[first] + _HISTOGRAM_CELLS // max(1, n_columns)
        last = int(np.searchsorted(starts, limit, side="right")) - 1
        last = max(first + 1, min(last, first + per_chunk, n_segments))
        chunks.append((first, last))
        first = last
    return chunks
