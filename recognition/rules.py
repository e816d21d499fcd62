"""Automatic badges: a registry of rules, each a SQL select of the accounts that qualify at a threshold.

``register_badge_rule(key, qualifying, name=..., description=..., tiers=...)`` adds a rule; the
background job (``recognition.service.grant_badges``) inserts a grant for every qualifying account
that lacks it, per tier, with ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` on the grants' unique
key, so it can be re-run (or run twice at once) without granting anything twice.

Built-in rules (registered by ``init_recognition``): ``first_post``; ``well_received`` (replies that got
reactions from 1 / 10 / 50 distinct other members); ``events_attended`` (checked in at 1 / 5 / 20
events); ``year_in_community`` (a membership or post at least 365 days old).

``events_attended`` reads the events wing's ``event_attendees`` table through a Core ``table()`` naming
the two columns it needs: the recognition wing imports nothing from ``events`` (wings beside each
other stay independent; the table is the contract, as ``graph`` reads purpose's tables). Other wings
register their rules from app wiring (an ideas wing: ``register_badge_rule`` or ``service.award``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from sqlalchemy import column, func, or_, select, table
from sqlalchemy.orm import aliased

from community.models import Membership, Post, Reaction
from core.extensions import utcnow
from recognition.models import BadgeTier


@dataclass(frozen=True)
class BadgeRule:
    key: str
    #: ``threshold -> Select`` of one column, the ids of the accounts that meet it (duplicates allowed).
    qualifying: Callable[[int], object]
    name: str
    description: str  # ``{n}`` is replaced by the tier's threshold
    tiers: tuple[tuple[BadgeTier, int], ...]


_RULES: dict[str, BadgeRule] = {}


def register_badge_rule(key: str, qualifying: Callable[[int], object], *, name: str, description: str,
                        tiers: dict[BadgeTier | str, int] | None = None) -> BadgeRule:
    """Add an automatic badge rule (idempotent for the same definition). ``tiers``: threshold per tier
    (default: one bronze badge at threshold 1)."""
    tiers = tiers or {BadgeTier.bronze: 1}
    rule = BadgeRule(key, qualifying, name, description, tuple((BadgeTier(t), n) for t, n in tiers.items()))
    existing = _RULES.get(key)
    if existing is not None and existing != rule:
        raise ValueError(f"badge rule {key!r} is already registered differently")
    _RULES[key] = rule
    return rule


def rules() -> list[BadgeRule]:
    return list(_RULES.values())


# ---- built-in rules ------------------------------------------------------------------------------

def posted(n: int):
    return (select(Post.author_id).where(Post.deleted.is_(False)).group_by(Post.author_id)
            .having(func.count(Post.id) >= n))


_EARLIER = aliased(Post, name="earlier_post")


def reactions_on_replies(n: int):
    """Authors whose replies (posts after their thread's first) got reactions from ``n`` distinct others."""
    is_reply = select(_EARLIER.id).where(_EARLIER.thread_id == Post.thread_id, _EARLIER.seq < Post.seq).exists()
    return (select(Post.author_id).join(Reaction, Reaction.post_id == Post.id)
            .where(Post.deleted.is_(False), Post.hidden.is_(False), Reaction.account_id != Post.author_id, is_reply)
            .group_by(Post.author_id).having(func.count(func.distinct(Reaction.account_id)) >= n))


#: The events wing's table, only the columns read here (no import of ``events``).
EVENT_ATTENDEES = table("event_attendees", column("account_id"), column("checked_in_at"), column("event_id"))


def events_attended(n: int):
    att = EVENT_ATTENDEES
    return (select(att.c.account_id).where(att.c.account_id.is_not(None), att.c.checked_in_at.is_not(None))
            .group_by(att.c.account_id).having(func.count(func.distinct(att.c.event_id)) >= n))


def in_community_days(n: int):
    cutoff = utcnow() - timedelta(days=n)
    joined = select(Membership.account_id).where(Membership.joined_at <= cutoff)
    wrote = select(Post.author_id).where(Post.created_at <= cutoff)
    return select(joined.union(wrote).subquery().c[0])


def register_builtin_rules() -> None:
    register_badge_rule("first_post", posted, name="First post", description="Wrote a first post.")
    register_badge_rule("well_received", reactions_on_replies, name="Well received",
                        description="Replies that got reactions from {n} distinct members.",
                        tiers={BadgeTier.bronze: 1, BadgeTier.silver: 10, BadgeTier.gold: 50})
    register_badge_rule("events_attended", events_attended, name="Event goer",
                        description="Checked in at {n} events.",
                        tiers={BadgeTier.bronze: 1, BadgeTier.silver: 5, BadgeTier.gold: 20})
    register_badge_rule("year_in_community", in_community_days, name="A year here",
                        description="In the community for a year.", tiers={BadgeTier.bronze: 365})


#: Platform badges granted by code, not by a rule: (key, tier, name, description).
CODE_BADGES = [("idea_shipped", BadgeTier.bronze, "Idea shipped", "An idea of theirs was shipped.")]
