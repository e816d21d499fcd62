"""The brand's people as plain data: stream stakeholders, touchpoints and community activity into
``relationship.Person`` values, then compute each person's relationship profile.

This is where the stored touchpoints meet the pure metrics of ``purpose.relationship`` and
``purpose.clv``. Rows are streamed as tuples (no ORM object per row). People who objected or
were erased are never loaded, so no later analysis can include them.

Community activity (posts, recognition by others, interactions in a purpose's spaces) lives
in the community layer, which this layer may not import: it registers an activity source
at start-up (``register_activity_source``), the same inversion the registration signal uses.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import select

from core.accounts import Account
from core.extensions import db
from core.rows import json_list, plain_rows, utc
from purpose.models import Purpose, Stakeholder, StakeholderKind, Touchpoint, TouchpointKind
from purpose.relationship import Person


@dataclass
class Activity:
    """What one account did in the community of a brand (or of one purpose's spaces)."""

    posts: int = 0
    recognitions_received: int = 0  # replies, reactions and mentions by others; badges (recognition/)
    #: Posts and reactions given, per purpose of the space: what purpose alignment counts.
    interactions: Counter = field(default_factory=Counter)
    times: list[datetime] = field(default_factory=list)  # when they posted or reacted


#: ``source(brand_id, purpose_id) -> {account_id: Activity}``; registered by the community layer.
ActivitySource = Callable[[int, "int | None"], dict[int, Activity]]
_activity_sources: list[ActivitySource] = []


def register_activity_source(source: ActivitySource) -> None:
    if source not in _activity_sources:
        _activity_sources.append(source)


@dataclass(frozen=True)
class Known:
    """The stakeholder row's facts a profile shows beside the metrics (no contact data)."""

    id: int
    kind: str
    account_id: int | None
    source: str
    contact_preference: str | None
    created_at: datetime
    converted_at: datetime | None
    converted_from: str | None
    external_id: str | None = None  # the id in the brand's own system: how staff find the person there
    display_name: str | None = None  # the name the brand knows them by (staff only)

    @classmethod
    def of(cls, stakeholder: Stakeholder) -> "Known":
        """From a loaded ``Stakeholder`` (a profile read from a snapshot shows the live row's facts)."""

        def value(enum):
            return None if enum is None else enum.value

        return cls(stakeholder.id, stakeholder.kind.value, stakeholder.account_id, stakeholder.source,
                   value(stakeholder.contact_preference), stakeholder.created_at, stakeholder.converted_at,
                   value(stakeholder.converted_from), stakeholder.external_id, stakeholder.display_name)


@dataclass
class _Facts:
    purchases: list = field(default_factory=list)
    contacts: list = field(default_factory=list)
    tie: bool = False
    support: int = 0
    referrals: int = 0
    events: Counter = field(default_factory=Counter)  # event attendances per purpose (None: untagged)
    co_creations: int = 0  # ideas or feedback the brand took up (``co_creation`` touchpoints)


_STAKEHOLDER_COLUMNS = (
    Stakeholder.id, Stakeholder.kind, Stakeholder.account_id, Stakeholder.source, Stakeholder.contact_preference,
    Stakeholder.created_at, Stakeholder.converted_at, Stakeholder.converted_from, Stakeholder.external_id,
    Stakeholder.display_name,
)


def analysable(stmt, brand_id: int):
    """Restrict a stakeholder query to the brand's people that may be analysed."""
    return stmt.where(Stakeholder.brand_id == brand_id, Stakeholder.objected.is_(False), Stakeholder.erased_at.is_(None))


_MEMBER = StakeholderKind.member.value
_PURCHASE, _SUPPORT, _EVENT = TouchpointKind.purchase.name, TouchpointKind.support.name, TouchpointKind.event.name
_CO_CREATION = TouchpointKind.co_creation.name
_TIES = {TouchpointKind.subscription.name, TouchpointKind.contract.name}
_REFERRALS = {TouchpointKind.referral.name, TouchpointKind.invitation.name}


def _touchpoint_facts(brand_id: int, purpose_id: int | None, as_of: datetime) -> dict[int, _Facts]:
    stmt = select(Touchpoint.stakeholder_id, Touchpoint.kind, Touchpoint.occurred_at, Touchpoint.amount,
                  Touchpoint.purpose_id).where(
        Touchpoint.brand_id == brand_id, Touchpoint.occurred_at <= as_of
    )
    if purpose_id is not None:
        stmt = stmt.where(Touchpoint.purpose_id == purpose_id)
    facts: dict[int, _Facts] = defaultdict(_Facts)
    for stakeholder_id, kind, occurred_at, amount, tp_purpose in plain_rows(stmt):  # kinds as stored names
        f = facts[stakeholder_id]
        occurred_at = utc(occurred_at)
        f.contacts.append(occurred_at)
        if kind == _PURCHASE:
            f.purchases.append((occurred_at, float(amount or 0.0)))
        elif kind in _TIES:
            f.tie = True
        elif kind == _SUPPORT:
            f.support += 1
        elif kind in _REFERRALS:
            f.referrals += 1
        elif kind == _EVENT:
            f.events[tp_purpose] += 1
        elif kind == _CO_CREATION:
            f.co_creations += 1
    return facts


def _activity(brand_id: int, purpose_id: int | None) -> dict[int, Activity]:
    merged: dict[int, Activity] = {}
    for source in _activity_sources:
        for account_id, activity in source(brand_id, purpose_id).items():
            known = merged.get(account_id)
            if known is None:
                merged[account_id] = activity
                continue
            # several sources (community content, recognition's badges) add up for one account
            known.posts += activity.posts
            known.recognitions_received += activity.recognitions_received
            known.interactions.update(activity.interactions)
            known.times.extend(activity.times)
    return merged


@dataclass
class People:
    """Everyone in scope: plain ``Person`` values with their stakeholder facts and stated interests."""

    known: dict[int, Known]
    persons: dict[int, Person]
    interests: dict[int, list[str]]  # stated goals and causes: the account's and what the brand recorded
    interactions: dict[int, Counter]  # per purpose: posts, reactions and events, for purpose alignment
    purpose_tags: dict[int, list[str]]  # the brand's purposes and their tags
    #: The brand's purposes each person declared as their own (imports): full declared alignment with them.
    declared_purposes: dict[int, frozenset[int]] = field(default_factory=dict)


def load_people(brand_id: int, *, as_of: datetime, purpose_id: int | None = None) -> People:
    """Stream the brand's analysable people (one purpose's, when given) into plain data.

    In a purpose's scope only touchpoints tagged with that purpose and activity in its spaces
    count, and only people with some of either are included.
    """
    facts = _touchpoint_facts(brand_id, purpose_id, as_of)
    activity = _activity(brand_id, purpose_id)
    stmt = analysable(select(*_STAKEHOLDER_COLUMNS, Account.interests, Stakeholder.interests, Stakeholder.purpose_ids)
                      .outerjoin(Account, Account.id == Stakeholder.account_id), brand_id)
    known, persons, interests, interactions, declared = {}, {}, {}, {}, {}
    # Plain driver tuples; enum columns are stored as their names, which equal their values here.
    for (sid, kind, account_id, source, preference, created_at, converted_at, converted_from, external_id, name,
         stated, recorded, purposes) in plain_rows(stmt):
        f = facts.get(sid) or _Facts()
        act = activity.get(account_id) if account_id else None
        purposes = frozenset(int(p) for p in json_list(purposes) or ())  # a stored JSON null reads as None
        if sid not in facts and act is None and (utc(created_at) > as_of or (purpose_id is not None and purpose_id not in purposes)):
            continue  # as of an earlier time, not known yet; or nothing in the purpose (neither done nor declared)
        k = Known(sid, kind, account_id, source, preference, utc(created_at), utc(converted_at), converted_from,
                  external_id, name)
        known[sid] = k
        persons[sid] = _person(k, f, act)
        interests[sid] = (json_list(stated) if account_id else []) + (json_list(recorded) or [])
        if purposes:
            declared[sid] = purposes
        interactions[sid] = f.events + (act.interactions if act else Counter())
    tags_stmt = select(Purpose.id, Purpose.tags).where(Purpose.brand_id == brand_id)
    purpose_tags = {pid: list(tags or []) for pid, tags in db.session.execute(tags_stmt)}
    return People(known, persons, interests, interactions, purpose_tags, declared)


def _person(k: Known, f: _Facts, act: Activity | None) -> Person:
    contacts = f.contacts + (act.times if act else [])
    first = min(k.created_at, min(f.contacts)) if f.contacts else k.created_at  # the first touchpoint may predate the row
    return Person(
        id=k.id,
        is_member=k.kind == _MEMBER,
        purchases=tuple(sorted(f.purchases)),
        contacts=tuple(sorted(contacts)),
        first_seen=first,
        has_structural_tie=f.tie,
        support_resolved=f.support,
        recognitions_received=act.recognitions_received if act else 0,
        posts=act.posts if act else 0,
        co_creations=f.co_creations,
        referrals=f.referrals,
        declared_style=k.contact_preference,
    )
