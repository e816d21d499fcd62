"""The brand's record of a shipped idea: a ``co_creation`` touchpoint on its author's stakeholder record.

``purpose/people.py`` counts ``co_creation`` touchpoints as the person's co-creations, which is what the
relationship pyramid's top level reads (docs/relationships.md). One touchpoint per idea (source ``ideas``,
external id ``idea-shipped:<id>``), dated when it shipped, tagged with the space's purpose; taken away again
when a manager moves the idea from ``shipped`` to another status. An author without a record of the brand
gets one (kind ``member``, source ``ideas``), as events do for members who answer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core.extensions import db
from purpose import stakeholders
from purpose.models import Stakeholder, Touchpoint, TouchpointKind
from purpose.snapshots import people_changed

SOURCE = "ideas"


def _external_id(idea_id: int) -> str:
    return f"idea-shipped:{idea_id}"


def member_record(brand_id: int, account_id: int) -> Stakeholder:
    """The brand's stakeholder record of a member, made from this wing's source when there is none yet."""
    return stakeholders.member_record(brand_id, account_id, SOURCE)


def record_shipped(brand_id: int, purpose_id: int | None, idea_id: int, author_id: int, when: datetime) -> None:
    stakeholder = member_record(brand_id, author_id)
    if stakeholder.erased_at is not None or stakeholder.objected:
        return  # an objecting person is left out of analyses: nothing new is recorded about them
    external_id = _external_id(idea_id)
    touchpoint = db.session.scalar(select(Touchpoint).where(
        Touchpoint.brand_id == brand_id, Touchpoint.source == SOURCE, Touchpoint.external_id == external_id))
    if touchpoint is None:
        db.session.add(Touchpoint(brand_id=brand_id, stakeholder_id=stakeholder.id, kind=TouchpointKind.co_creation,
                                  occurred_at=when, purpose_id=purpose_id, source=SOURCE, external_id=external_id))
    else:
        touchpoint.occurred_at = when
    people_changed(brand_id)  # the author's pyramid level changes: snapshots of the brand are stale


def forget_shipped(brand_id: int, idea_id: int) -> None:
    gone = db.session.execute(db.delete(Touchpoint).where(
        Touchpoint.brand_id == brand_id, Touchpoint.source == SOURCE, Touchpoint.external_id == _external_id(idea_id)))
    if gone.rowcount:
        people_changed(brand_id)
