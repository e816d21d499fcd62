"""Interactions between people as flat numpy arrays, aggregated into weighted, typed edges.

Pure (no database): ``graph.load`` streams rows into an :class:`Interactions` (one row per
interaction: two node codes, an edge kind, a time) and an :class:`ActivityLog` (one row
per thing a person did), then aggregates each unordered pair once with numpy. Node codes
are integers while loading: ``2 * account id`` for members, ``2 * stakeholder id + 1`` for
nonuser stakeholders (see :func:`node_key`). Times are seconds since the Unix epoch (UTC).

Each row also has a *strength* (what it adds to the pair's weight before decay: 1 for a
reply, 1/(n-1) for co-attending an event of n, see :meth:`Interactions.link_event`) and a
*context* (an event or thread code, -1 for none) that :meth:`Interactions.aggregate` keeps
per pair, so a report can name the events and threads behind a tie.
"""

from __future__ import annotations

import numpy as np

EDGE_KINDS = ("reply", "mention", "reaction", "co_thread", "referral", "invitation", "co_event", "shared_purpose")
KIND_CODE = {name: code for code, name in enumerate(EDGE_KINDS)}
DAY = 86400.0
#: Co-participation: each new member of a group (thread authors, event attendees) is linked
#: to the CO_WINDOW distinct members before it (and, in threads, to the one who started it).
CO_WINDOW = 3
#: Threads up to this many authors are linked pair by pair; larger ones by CO_WINDOW.
SMALL_GROUP = 6
#: Events up to this many attendees tie every pair, each pair with strength 1/(n-1) (Newman 2001).
EVENT_ALL_PAIRS = 50
#: Above EVENT_ALL_PAIRS, each attendee is tied to the EVENT_HALF_WINDOW attendees before and after
#: them in attendance order, wrapping round (a ring), each pair with strength 1/(2 * EVENT_HALF_WINDOW):
#: every attendee still gets a total strength of exactly 1, as under all pairs.
EVENT_HALF_WINDOW = 25
#: Contexts (events, threads) kept per pair and kind: the most recent ones.
MAX_CONTEXTS = 3


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
        self._rows = _Columns((np.int64, np.int64, np.int64, np.float64, np.float64, np.int64))

    def add(self, u: int, v: int, kind: str, t: float, *, strength: float = 1.0, context: int = -1) -> None:
        if u != v:
            self._rows.append(u, v, KIND_CODE[kind], t, strength, context)

    def extend(self, u, v, kind: str, t, *, strength=1.0, context=-1) -> None:
        n = len(u)
        self._rows.extend(u, v, np.full(n, KIND_CODE[kind]), t, np.broadcast_to(np.asarray(strength, dtype=np.float64), (n,)),
                          np.broadcast_to(np.asarray(context, dtype=np.int64), (n,)))

    def link_group(self, members: list[tuple[float, int]], kind: str, *, anchor: bool = False, context: int = -1) -> None:
        """Link a time-ordered group of distinct (time, node): all pairs when small, else each to the
        CO_WINDOW before it (and to the first one when ``anchor``). Thread co-participation."""
        window = len(members) if len(members) <= SMALL_GROUP else CO_WINDOW
        for i, (t, node) in enumerate(members):
            earlier = {n for _, n in members[max(0, i - window):i]}
            if anchor and i:
                earlier.add(members[0][1])
            for other in earlier:
                self.add(other, node, kind, t, context=context)

    def link_event(self, members: list[tuple[float, int]], *, context: int = -1) -> None:
        """Tie the attendees of one event, given as time-ordered distinct (time, node).

        Up to :data:`EVENT_ALL_PAIRS` attendees every pair, with strength 1/(n-1) (Newman's
        weighting for projecting group memberships: each attendee's ties from one event add up to
        1 whatever its size). Larger events: each attendee to the :data:`EVENT_HALF_WINDOW`
        before and after them in attendance order, round a ring, strength 1/(2·EVENT_HALF_WINDOW),
        so 25·n pairs instead of n(n-1)/2 and still a total of 1 per attendee. A pair is dated
        by the later of the two attendances.
        """
        n = len(members)
        if n <= EVENT_ALL_PAIRS:  # most events are small: plain appends beat numpy's per-call cost
            for i, (t, node) in enumerate(members):
                for then, other in members[:i]:
                    self.add(other, node, "co_event", max(t, then), strength=1.0 / (n - 1), context=context)
            return
        i, j = event_pairs(n)
        t = np.array([m[0] for m in members], dtype=np.float64)
        nodes = np.array([m[1] for m in members], dtype=np.int64)
        self.extend(nodes[i], nodes[j], "co_event", np.maximum(t[i], t[j]), strength=0.5 / EVENT_HALF_WINDOW, context=context)

    def aggregate(self, keep: np.ndarray, as_of: float, half_life_days: float):
        """Per unordered pair with both ends in ``keep``: ``(u, v, weight, kinds, contexts)`` lists.

        ``weight`` = sum of strength · 0.5 ** (age / half_life_days) over the pair's interactions
        (``graph.metrics.decayed_weight`` when every strength is 1); ``kinds`` = edge kind -> count;
        ``contexts`` = edge kind -> the pair's :data:`MAX_CONTEXTS` most recent context codes
        (only kinds that have some; an empty dict for most pairs).
        """
        u, v, kind, t, strength, context = self._rows.arrays()
        mask = (u != v) & np.isin(u, keep) & np.isin(v, keep)  # the loader's queries already end at as_of
        u, v, kind, t, strength, context = (c[mask] for c in (u, v, kind, t, strength, context))
        if len(u) == 0:
            return [], [], [], [], []
        a, b = np.minimum(u, v), np.maximum(u, v)
        pairs, inv = np.unique(np.stack((a, b), axis=1), axis=0, return_inverse=True)
        inv = inv.reshape(-1).astype(np.int64)
        decay = 0.5 ** (np.maximum(as_of - t, 0.0) / DAY / half_life_days)
        weight = np.bincount(inv, weights=strength * decay, minlength=len(pairs))
        codes, counts = np.unique(inv * len(EDGE_KINDS) + kind, return_counts=True)
        kinds = [{} for _ in range(len(pairs))]
        for code, count in zip(codes.tolist(), counts.tolist()):
            kinds[code // len(EDGE_KINDS)][EDGE_KINDS[code % len(EDGE_KINDS)]] = count
        return pairs[:, 0].tolist(), pairs[:, 1].tolist(), weight.tolist(), kinds, _contexts(inv, kind, t, context, len(pairs))

    def endpoints(self) -> np.ndarray:
        u, v = self._rows.arrays()[:2]
        return np.unique(np.concatenate((u, v)))


def event_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Attendee index pairs (i, j) of an event of ``n`` under :meth:`Interactions.link_event`'s rule."""
    if n <= EVENT_ALL_PAIRS:
        i, j = np.triu_indices(n, k=1)
        return i.astype(np.int64), j.astype(np.int64)
    i = np.tile(np.arange(n, dtype=np.int64), EVENT_HALF_WINDOW)
    offsets = np.repeat(np.arange(1, EVENT_HALF_WINDOW + 1, dtype=np.int64), n)
    return i, (i + offsets) % n


def edge_attributes(weight: float, kinds: dict, contexts: dict, refs: list) -> dict:
    """``weight`` and ``kinds``, plus the pair's latest shared ``events`` (``refs[code]``) and ``threads`` (ids)."""
    out = {"weight": weight, "kinds": kinds}
    if "co_event" in contexts:
        out["events"] = [refs[code] for code in contexts["co_event"]]
    if "co_thread" in contexts:
        out["threads"] = list(contexts["co_thread"])
    return out


def latest_events(attended: dict | None, limit: int) -> list[str]:
    """The refs of a person's ``limit`` most recent events (ref -> time), newest first."""
    return sorted(attended, key=lambda ref: (-attended[ref], ref))[:limit] if attended else []


def _contexts(inv, kind, t, context, n_pairs) -> list[dict]:
    """Per pair: kind -> most recent distinct context codes (at most MAX_CONTEXTS)."""
    out = [{} for _ in range(n_pairs)]
    has = context >= 0
    if not has.any():
        return out
    inv, kind, t, context = inv[has], kind[has], t[has], context[has]
    order = np.lexsort((-t, context, kind, inv))  # by pair, kind, context, newest first
    inv, kind, t, context = inv[order], kind[order], t[order], context[order]
    first = np.ones(len(inv), dtype=bool)
    first[1:] = (inv[1:] != inv[:-1]) | (kind[1:] != kind[:-1]) | (context[1:] != context[:-1])
    inv, kind, t, context = inv[first], kind[first], t[first], context[first]  # one row per context, its newest time
    order = np.lexsort((-t, kind, inv))
    for pair, k, code in zip(inv[order].tolist(), kind[order].tolist(), context[order].tolist()):
        listed = out[pair].setdefault(EDGE_KINDS[k], [])
        if len(listed) < MAX_CONTEXTS:
            listed.append(code)
    return out


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
