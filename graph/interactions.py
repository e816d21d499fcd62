"""Interactions between people as flat numpy arrays, aggregated into weighted, typed edges.

Pure (no database): ``graph.load`` streams rows into an :class:`Interactions` (one row per
interaction: two node codes, an edge kind, a time) and an :class:`ActivityLog` (one row
per thing a person did), then aggregates each unordered pair once with numpy. Node codes
are integers while loading: ``2 * account id`` for members, ``2 * stakeholder id + 1`` for
nonuser stakeholders (see :func:`node_key`). Times are seconds since the Unix epoch (UTC).
"""

from __future__ import annotations

import numpy as np

EDGE_KINDS = ("reply", "mention", "reaction", "co_thread", "referral", "invitation", "co_event", "shared_purpose")
KIND_CODE = {name: code for code, name in enumerate(EDGE_KINDS)}
DAY = 86400.0
#: Co-participation: each new member of a group (thread authors, event attendees) is linked
#: to the CO_WINDOW distinct members before it (and, in threads, to the one who started it).
CO_WINDOW = 3
#: Groups up to this size are linked pair by pair; larger ones by CO_WINDOW.
SMALL_GROUP = 6


def node_key(code: int) -> str:
    """``"a:<account id>"`` for even codes, ``"s:<stakeholder id>"`` for odd ones."""
    return f"a:{code >> 1}" if code % 2 == 0 else f"s:{code >> 1}"


class _Columns:
    """Appendable numpy columns: single values go to a buffer, blocks are kept as arrays."""

    def __init__(self, dtypes):
        self.dtypes, self.blocks, self.buffer = dtypes, [], [[] for _ in dtypes]

    def append(self, *values) -> None:
        for column, value in zip(self.buffer, values):
            column.append(value)

    def extend(self, *arrays) -> None:
        self.blocks.append(tuple(np.asarray(a, dtype=d) for a, d in zip(arrays, self.dtypes)))

    def arrays(self):
        parts = self.blocks + [tuple(np.asarray(c, dtype=d) for c, d in zip(self.buffer, self.dtypes))]
        return [np.concatenate([p[i] for p in parts]) for i in range(len(self.dtypes))]


class Interactions:
    """(node, node, kind, time) rows; :meth:`aggregate` gives one weighted edge per pair."""

    def __init__(self):
        self._rows = _Columns((np.int64, np.int64, np.int64, np.float64))

    def add(self, u: int, v: int, kind: str, t: float) -> None:
        if u != v:
            self._rows.append(u, v, KIND_CODE[kind], t)

    def extend(self, u, v, kind: str, t) -> None:
        self._rows.extend(u, v, np.full(len(u), KIND_CODE[kind]), t)

    def link_group(self, members: list[tuple[float, int]], kind: str, *, anchor: bool = False) -> None:
        """Link a time-ordered group of distinct (time, node): all pairs when small, else each to the
        CO_WINDOW before it (and to the first one when ``anchor``)."""
        window = len(members) if len(members) <= SMALL_GROUP else CO_WINDOW
        for i, (t, node) in enumerate(members):
            earlier = {n for _, n in members[max(0, i - window):i]}
            if anchor and i:
                earlier.add(members[0][1])
            for other in earlier:
                self.add(other, node, kind, t)

    def aggregate(self, keep: np.ndarray, as_of: float, half_life_days: float):
        """Per unordered pair with both ends in ``keep``: ``(u, v, weight, kinds)`` lists.

        ``weight`` = sum of 0.5 ** (age / half_life_days) over the pair's interactions
        (``graph.metrics.decayed_weight``); ``kinds`` = edge kind -> count.
        """
        u, v, kind, t = self._rows.arrays()
        mask = (u != v) & np.isin(u, keep) & np.isin(v, keep)  # the loader's queries already end at as_of
        u, v, kind, t = u[mask], v[mask], kind[mask], t[mask]
        if len(u) == 0:
            return [], [], [], []
        a, b = np.minimum(u, v), np.maximum(u, v)
        pairs, inv = np.unique(np.stack((a, b), axis=1), axis=0, return_inverse=True)
        inv = inv.reshape(-1).astype(np.int64)
        weight = np.bincount(inv, weights=0.5 ** (np.maximum(as_of - t, 0.0) / DAY / half_life_days), minlength=len(pairs))
        codes, counts = np.unique(inv * len(EDGE_KINDS) + kind, return_counts=True)
        kinds = [{} for _ in range(len(pairs))]
        for code, count in zip(codes.tolist(), counts.tolist()):
            kinds[code // len(EDGE_KINDS)][EDGE_KINDS[code % len(EDGE_KINDS)]] = count
        return pairs[:, 0].tolist(), pairs[:, 1].tolist(), weight.tolist(), kinds

    def endpoints(self) -> np.ndarray:
        u, v, _kind, _t = self._rows.arrays()
        return np.unique(np.concatenate((u, v)))


class ActivityLog:
    """(node, time) of everything people did; :meth:`span` gives first and last per node."""

    def __init__(self):
        self._rows = _Columns((np.int64, np.float64))

    def add(self, node: int, t: float) -> None:
        self._rows.append(node, t)

    def extend(self, nodes, t) -> None:
        self._rows.extend(nodes, t)

    def span(self) -> tuple[dict, dict]:
        """``first``, ``last``: node -> earliest and latest time."""
        nodes, t = self._rows.arrays()
        if len(nodes) == 0:
            return {}, {}
        order = np.argsort(nodes, kind="stable")
        nodes, t = nodes[order], t[order]
        unique, starts = np.unique(nodes, return_index=True)
        keys = unique.tolist()
        return (dict(zip(keys, np.minimum.reduceat(t, starts).tolist())),
                dict(zip(keys, np.maximum.reduceat(t, starts).tolist())))
