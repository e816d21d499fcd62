"""Ideas in exports and erasure (``purpose.privacy``'s registries and signals), wired by ``init_ideas``.

- Exports (``GET /me/export``, and a member's ``GET /stakeholders/{id}/export`` for the brand's spaces) gain
  ``ideas``: the person's ideas (title, status, votes, the idea's thread; the body is the opening post, in the
  ``community`` section's posts) and their votes.
- Erasing an account (``account_erasing``, in the erasure's transaction) deletes its votes, each idea's count
  one lower, and keeps its ideas without author or title (others' votes, comments and the status history keep
  their place); the community's erasure deletes the opening posts through the one delete path, so the bodies
  go too. The brand's ``co_creation`` touchpoints go with the brand's record (``purpose.privacy.erase_person``).
"""

from __future__ import annotations

from sqlalchemy import select

from community.models import Space
from core.extensions import db
from ideas import service
from ideas.models import Idea, IdeaVote
from purpose.models import Purpose, Stakeholder
from purpose.privacy import account_erasing, register_export_source


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return getattr(value, "value", value)


def _of_brand(stmt, column, brand_id: int | None):
    if brand_id is None:
        return stmt
    spaces = select(Space.id).join(Purpose, Purpose.id == Space.purpose_id).where(Purpose.brand_id == brand_id)
    return stmt.where(column.in_(spaces))


def _record(account_id: int, brand_id: int | None = None) -> dict:
    ideas = db.session.scalars(_of_brand(select(Idea).where(Idea.author_id == account_id), Idea.space_id, brand_id)
                               .order_by(Idea.id))
    votes = db.session.execute(_of_brand(
        select(IdeaVote.idea_id, Idea.title, IdeaVote.created_at).join(Idea, Idea.id == IdeaVote.idea_id)
        .where(IdeaVote.account_id == account_id), Idea.space_id, brand_id).order_by(IdeaVote.id))
    return {"ideas": [{f: _plain(getattr(i, f)) for f in ("id", "space_id", "thread_id", "post_id", "title", "status",
                                                          "votes", "created_at", "shipped_at")} for i in ideas],
            "votes": [{"idea_id": i, "title": t, "voted_at": _plain(at)} for i, t, at in votes]}


def export_ideas(stakeholder: Stakeholder) -> tuple[str, dict]:
    if stakeholder.account_id is None:
        return "ideas", {}
    return "ideas", _record(stakeholder.account_id, stakeholder.brand_id)


def export_account_ideas(account_id: int) -> tuple[str, dict]:
    return "ideas", _record(account_id)


def erase_account_ideas(account_id: int) -> None:
    service.remove_votes_of(account_id)
    service.forget_author(account_id)


def init_ideas() -> None:
    """Called by ``create_app``: the ``idea_status`` notification kind, exports and erasure (idempotent)."""
    service.register_notification_kind()
    register_export_source(export_ideas, account_source=export_account_ideas)
    account_erasing.connect(erase_account_ideas)
