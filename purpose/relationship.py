"""Pure relationship metrics: RFM, segments, Pareto share, pyramid level, relationship style.

Imports nothing of the platform (neither Flask nor the database nor ``core``), so it can be
used from a notebook or a Celery task on plain data. Every rule and threshold is documented
in docs/relationships.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

import numpy as np

#: The relationship pyramid, from the shallowest level to the deepest.
#: Level numbers are 1-based positions in this tuple; 0 means "no relationship yet".
PYRAMID_LEVELS = (
    "utility",
    "convenience",
    "ease",
    "recognition",
    "self_expression",
    "co_creation",
)

#: The relationship styles a person can want, from no contact to the deepest.
STYLES = ("none", "fling", "friendship", "marriage")

#: A buyer whose last purchase is older than this is ``lapsed``.
LAPSED_AFTER_DAYS = 365
#: Combined frequency + monetary quintile score (2..10) from which a buyer is heavy / medium.
HEAVY_FM_SCORE = 9
MEDIUM_FM_SCORE = 6

@dataclass(frozen=True)
class Person:
    """What the brand knows of one stakeholder, as plain data.

    ``purchases`` are (time, amount) pairs; ``contacts`` are the times of any interaction
    (purchase, post, event, support, newsletter click); counts are totals to ``as_of``.
    """

    id: int
    is_member: bool = False
    purchases: tuple[tuple[datetime, float], ...] = ()
    contacts: tuple[datetime, ...] = ()
    first_seen: datetime | None = None
    has_structural_tie: bool = False  # a subscription or contract
    support_resolved: int = 0
    recognitions_received: int = 0  # replies, reactions and mentions by others
    posts: int = 0
    co_creations: int = 0  # ideas, product feedback, co-created content
    referrals: int = 0
    declared_style: str | None = None  # one of STYLES, or None when never asked


@dataclass(frozen=True)
class RFM:
    recency_days: float | None  # None: never purchased
    frequency: int
    monetary: float  # total spend
    r_score: int  # 1..5, 5 = most recent; 0 = never purchased
    f_score: int
    m_score: int
    segment: str


def quintile_scores(values: dict[int, float], *, pace: Callable[[Iterable], Iterable] = iter) -> dict[int, int]:
    """Score each key 1..5 by the quintile of its value (higher value, higher score).

    Keys are ranked 0..n-1 by value; a key's score is ``1 + min(4, floor(5 * rank / (n - 1)))``
    where ``rank`` is the position of the *first* key with the same value. So the lowest
    value scores 1 and the highest 5 for any n, equal values always share a score, and the
    result does not depend on the order of ``values``. A single key scores 5. The loop runs through
    ``pace`` (as in :func:`rfm`).
    """
    keys, numbers = np.fromiter(values.keys(), dtype=np.int64), np.fromiter(values.values(), dtype=float)
    order = np.lexsort((keys, numbers))  # by value, then key: 10 times faster than sorted() at 60,000 buyers
    n = len(order)
    scores, first_rank = {}, {}
    for rank, (value, key) in enumerate(pace(zip(numbers[order].tolist(), keys[order].tolist()))):
        first_rank.setdefault(value, rank)
        scores[key] = 5 if n == 1 else 1 + min(4, (5 * first_rank[value]) // (n - 1))
    return scores


def _segment(person: Person, recency: float | None, f_score: int, m_score: int) -> str:
    if not person.purchases:
        return "light" if person.is_member else "nonuser"
    if recency > LAPSED_AFTER_DAYS:
        return "lapsed"
    if f_score + m_score >= HEAVY_FM_SCORE:
        return "heavy"
    return "medium" if f_score + m_score >= MEDIUM_FM_SCORE else "light"


def rfm(people: list[Person], as_of: datetime, *, pace: Callable[[Iterable], Iterable] = iter) -> dict[int, RFM]:
    """Recency, frequency, monetary value, their quintile scores among buyers, and the segment.

    Each loop over people runs through ``pace`` (default: plain iteration), which may do other
    work between two people, e.g. let a web process's event loop run (``core.cooperative.paced``)."""
    paced = pace
    buyers = [p for p in paced(people) if p.purchases]
    recency = {p.id: (as_of - max(t for t, _ in p.purchases)).total_seconds() / 86400 for p in paced(buyers)}
    frequency = {p.id: len(p.purchases) for p in buyers}
    monetary = {p.id: float(sum(a for _, a in p.purchases)) for p in paced(buyers)}
    r = quintile_scores({k: -v for k, v in recency.items()}, pace=paced)  # more recent, higher score
    f, m = quintile_scores(frequency, pace=paced), quintile_scores(monetary, pace=paced)
    result = {}
    for p in paced(people):
        scores = (r.get(p.id, 0), f.get(p.id, 0), m.get(p.id, 0))
        result[p.id] = RFM(recency.get(p.id), frequency.get(p.id, 0), monetary.get(p.id, 0.0), *scores,
                           segment=_segment(p, recency.get(p.id), scores[1], scores[2]))
    return result


def pareto_share(amounts: list[float], *, top: float = 0.2) -> float:
    """Share of total revenue from the top ``top`` fraction of customers (0.0 when there is none).

    The top group is ``ceil(top * n)`` customers, at least one; with fewer than five
    customers the figure says little, and callers should show ``n`` beside it.
    """
    if not 0 < top <= 1:
        raise ValueError("top must be in (0, 1]")
    positive = sorted((a for a in amounts if a > 0), reverse=True)
    total = sum(positive)
    if not positive or total == 0:
        return 0.0
    count = max(1, math.ceil(round(top * len(positive), 9)))
    return sum(positive[:count]) / total


@dataclass(frozen=True)
class PyramidPosition:
    level: int  # 0..6
    name: str | None  # the level's name, None at 0
    next_name: str | None  # None at the top
    to_next: list[str] = field(default_factory=list)  # what the person has not done yet for the next level


def _level_conditions(p: Person, as_of: datetime) -> list[list[tuple[bool, str]]]:
    """For each level, (met, what would meet it) pairs; a level needs all of its pairs."""
    tenure_days = (as_of - p.first_seen).days if p.first_seen else 0
    return [
        [(bool(p.purchases) or p.is_member, "buy or use something once")],
        [(len(p.purchases) >= 2 or p.has_structural_tie, "buy again, or subscribe")],
        [(tenure_days >= 90 or p.support_resolved > 0, "stay 90 days, or have a support question resolved")],
        [(p.recognitions_received >= 3, "be answered, thanked or mentioned by others 3 times")],
        [(p.posts >= 3, "post 3 times in the community")],
        [(p.co_creations > 0 or p.referrals > 0, "contribute an idea or feedback, or refer someone")],
    ]


def pyramid_position(person: Person, as_of: datetime) -> PyramidPosition:
    """The highest level whose conditions, and those of every level below, are met."""
    level = 0
    conditions = _level_conditions(person, as_of)
    for pairs in conditions:
        if not all([met for met, _ in pairs]):  # a list: a generator costs more than these few checks
            break
        level += 1
    if level == len(PYRAMID_LEVELS):
        return PyramidPosition(level, PYRAMID_LEVELS[-1], None, [])
    unmet = [hint for met, hint in conditions[level] if not met]
    return PyramidPosition(level, PYRAMID_LEVELS[level - 1] if level else None, PYRAMID_LEVELS[level], unmet)


#: Style thresholds: a fling is short or sparse; a marriage is long, regular and tied.
FRIENDSHIP_MIN_DAYS = 90
FRIENDSHIP_MIN_CONTACTS = 4
MARRIAGE_MIN_DAYS = 365
MARRIAGE_MAX_MEDIAN_GAP_DAYS = 45


def relationship_style(person: Person, as_of: datetime) -> str:
    """``fling``, ``friendship`` or ``marriage`` from tenure and rhythm; what the person declared wins."""
    if person.declared_style is not None:
        if person.declared_style not in STYLES:
            raise ValueError(f"unknown style {person.declared_style!r}")
        return person.declared_style
    times = sorted(person.contacts)
    if not times:
        return "fling"
    span = (as_of - (person.first_seen or times[0])).days
    gaps = sorted((b - a).days for a, b in zip(times, times[1:]))
    median_gap = gaps[len(gaps) // 2] if gaps else None
    if span >= MARRIAGE_MIN_DAYS and person.has_structural_tie and median_gap is not None and median_gap <= MARRIAGE_MAX_MEDIAN_GAP_DAYS:
        return "marriage"
    if span >= FRIENDSHIP_MIN_DAYS and len(times) >= FRIENDSHIP_MIN_CONTACTS:
        return "friendship"
    return "fling"


#: Purpose alignment = DECLARED_WEIGHT * declared + (1 - DECLARED_WEIGHT) * behaviour.
DECLARED_WEIGHT = 0.6
#: Interactions with a purpose (posts, reactions and events in its spaces) that count as fully engaged.
ENGAGED_INTERACTIONS = 10


def purpose_alignment(person_tags, purpose_tags, *, interactions: int = 0) -> float:
    """How aligned a person is with a purpose, 0.0 to 1.0.

    ``declared`` is the share of the purpose's goals or causes the person states as their
    own (tags compared case-insensitively; 0 when the purpose has no tags); ``behaviour`` is
    ``min(1, interactions / ENGAGED_INTERACTIONS)`` for what they did in the purpose's spaces
    and events. Someone who states nothing can still align by taking part, and the reverse.
    """
    if interactions < 0:
        raise ValueError("interactions must be >= 0")
    return alignment_of_lowered({t.lower() for t in purpose_tags}, {t.lower() for t in person_tags}, interactions)


def alignment_of_lowered(wanted: set[str], stated: set[str], interactions: int) -> float:
    """:func:`purpose_alignment` with both tag sets already lower-cased (for a whole population)."""
    declared = len(wanted & stated) / len(wanted) if wanted else 0.0
    behaviour = min(1.0, interactions / ENGAGED_INTERACTIONS)
    return DECLARED_WEIGHT * declared + (1 - DECLARED_WEIGHT) * behaviour
