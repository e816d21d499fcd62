"""Actions on ideas: submit, vote, unvote, set the status. They never commit (core/outbox.py).

- Submitting goes through ``community.conversations.service.do_create_thread``: the idea's title is the
  thread's, its body the opening post, so membership, sanctions, slow mode, new-member limits, sequence
  numbers, the live ``thread_created`` event, mentions and notifications all apply as to any thread.
- One vote per member: the unique key (idea, account) decides, with ``INSERT ... ON CONFLICT DO NOTHING``;
  only the insert that stored a row adds one to ``ideas.votes`` (``UPDATE ... SET votes = votes + 1``, an
  atomic increment under the row's lock), and only a delete that removed one takes one away. Concurrent
  votes therefore never double count, on PostgreSQL as on SQLite (one writer at a time).
- A status change locks the idea's row (``SELECT ... FOR UPDATE``), writes the history row, tells the
  author and every voter (kind ``idea_status``) in the same transaction, records the author's
  ``co_creation`` touchpoint when it ships, and sends ``idea_shipped`` after the commit the first time.
"""

from __future__ import annotations

from sqlalchemy import Integer, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from community.access import brand_of_space, can_see, is_brand_manager, require_member
from community.conversations import service as conversations
from community.models import Post, Space, Thread, Visibility
from community.moderation import rules as moderation_rules
from community.notifications import service as notifications
from community.notifications.kinds import register_kind
from core.accounts import Account
from core.errors import ApiError, conflict, not_found
from core.extensions import db, utcnow
from core.outbox import on_commit
from ideas import records
from ideas.models import CLOSED, Idea, IdeaStatus, IdeaStatusChange, IdeaVote
from ideas.signals import idea_shipped
from purpose.access import require_brand_manager

#: Told to the author and every voter when an idea's status changes (docs/notifications.md); registered
#: by ``init_ideas``.
IDEA_STATUS = "idea_status"


def status_summary(n: dict) -> str:
    """The notice's line in e-mails: "An idea you follow is now planned"."""
    to = (n.get("data") or {}).get("to")
    return f"An idea you follow is now {to.replace('_', ' ')}" if to else "An idea you follow changed its status"


def register_notification_kind() -> None:
    register_kind(IDEA_STATUS, status_summary, email="mentions_replies")


# ---- seeing ----------------------------------------------------------------------------------------

def visible_idea(account: Account, idea_id: int, *, lock: bool = False) -> tuple[Idea, Space]:
    """The idea and the space its thread is in now, or 404 when either does not exist or the space is hidden
    from ``account``. The thread's space decides (not ``ideas.space_id``, where it was submitted): a thread the
    moderators moved into a private space takes its idea along, body and all."""
    stmt = (select(Idea, Space).join(Thread, Thread.id == Idea.thread_id).join(Space, Space.id == Thread.space_id)
            .where(Idea.id == idea_id))
    if lock:
        stmt = stmt.with_for_update(of=Idea.__table__).execution_options(populate_existing=True)
    row = db.session.execute(stmt).first()
    if row is None:
        raise not_found("idea")
    idea, space = row
    if space.visibility is Visibility.direct or not can_see(account, space):
        raise not_found("idea")
    return idea, space


def in_space(space: Space):
    """The ideas whose threads are in ``space`` now (for listings)."""
    return select(Idea).join(Thread, Thread.id == Idea.thread_id).where(Thread.space_id == space.id)


def can_manage(account: Account, space: Space) -> bool:
    return account.is_admin or is_brand_manager(account, brand_of_space(space))


def my_vote(account: Account, idea_id: int) -> bool:
    return db.session.scalar(select(IdeaVote.id).where(IdeaVote.idea_id == idea_id,
                                                       IdeaVote.account_id == account.id)) is not None


def history(idea_id: int) -> list[IdeaStatusChange]:
    return list(db.session.scalars(select(IdeaStatusChange).where(IdeaStatusChange.idea_id == idea_id)
                                   .order_by(IdeaStatusChange.id)))


def opening_post(idea: Idea) -> Post | None:
    return db.session.get(Post, idea.post_id) if idea.post_id else None


# ---- submitting ------------------------------------------------------------------------------------

def do_submit(account: Account, space: Space, title: str, body: str) -> Idea:
    """A member's idea: a thread of the space (through the one thread path) and the idea row naming it."""
    thread = conversations.do_create_thread(account, space, title, body)
    post_id = db.session.scalar(select(Post.id).where(Post.thread_id == thread.id).order_by(Post.seq).limit(1))
    idea = Idea(space_id=space.id, thread_id=thread.id, post_id=post_id, author_id=account.id, title=title,
                status=IdeaStatus.new, votes=0, created_at=thread.created_at)
    db.session.add(idea)
    db.session.flush()
    return idea


# ---- votes -----------------------------------------------------------------------------------------

def _insert(table):
    return (postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)


def _reload(idea: Idea) -> Idea:
    return db.session.scalar(select(Idea).where(Idea.id == idea.id).execution_options(populate_existing=True))


def do_vote(account: Account, idea_id: int) -> Idea:
    """Vote for an idea (members of its space); voting twice is not an error and counts once."""
    idea, space = visible_idea(account, idea_id)
    require_member(account, space)
    moderation_rules.require_not_silenced(account, space)
    if idea.status in CLOSED:
        raise conflict(f"The idea is {idea.status.value}; it takes no more votes.", "idea-closed")
    stored = db.session.execute(_insert(IdeaVote.__table__).values(
        idea_id=idea.id, account_id=account.id, created_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["idea_id", "account_id"]).returning(IdeaVote.__table__.c.id)).first()
    if stored is not None:  # RETURNING, not rowcount: a driver may count the row ON CONFLICT skipped
        counted = db.session.execute(update(Idea).where(Idea.id == idea.id, Idea.status.not_in(CLOSED))
                                     .values(votes=Idea.votes + 1).execution_options(synchronize_session=False)).rowcount
        if not counted:  # closed meanwhile (the status change held the row): the request rolls back, vote and all
            raise conflict("The idea was closed meanwhile; it takes no more votes.", "idea-closed")
    return _reload(idea)


def do_unvote(account: Account, idea_id: int) -> Idea:
    """Take one's vote back (also on a closed idea); taking back a vote never given is not an error."""
    idea, _space = visible_idea(account, idea_id)
    removed = db.session.execute(db.delete(IdeaVote).where(IdeaVote.idea_id == idea.id,
                                                           IdeaVote.account_id == account.id)).rowcount
    if removed:
        db.session.execute(update(Idea).where(Idea.id == idea.id).values(votes=Idea.votes - 1)
                           .execution_options(synchronize_session=False))
    return _reload(idea)


def remove_votes_of(account_id: int) -> None:
    """Erasure: the account's votes go, each idea's count one lower (set-based, in the erasure's transaction)."""
    voted = select(IdeaVote.idea_id).where(IdeaVote.account_id == account_id)
    db.session.execute(update(Idea).where(Idea.id.in_(voted)).values(votes=Idea.votes - 1)
                       .execution_options(synchronize_session=False))
    db.session.execute(db.delete(IdeaVote).where(IdeaVote.account_id == account_id))


# ---- statuses --------------------------------------------------------------------------------------

def do_set_status(account: Account, idea_id: int, status: IdeaStatus, reason: str) -> Idea:
    """Set an idea's status with a public reason (the brand's managers and admins)."""
    idea, space = visible_idea(account, idea_id, lock=True)
    brand_id = brand_of_space(space)
    require_brand_manager(account, brand_id)
    if status is IdeaStatus.new:
        raise ApiError(422, "An idea cannot be set back to new.", errors={"status": ["Not new."]})
    if status is idea.status:
        raise conflict(f"The idea is {status.value} already.", "same-status")
    now, before = utcnow(), idea.status
    db.session.add(IdeaStatusChange(idea_id=idea.id, changed_by=account.id, from_status=before, to_status=status,
                                    reason=reason, created_at=now))
    idea.status, idea.status_changed_at = status, now
    first_ship = status is IdeaStatus.shipped and idea.shipped_at is None
    if first_ship:
        idea.shipped_at = now
    if idea.author_id is not None:
        if status is IdeaStatus.shipped:
            records.record_shipped(brand_id, space.purpose_id, idea.id, idea.author_id, now)
        elif before is IdeaStatus.shipped:
            records.forget_shipped(brand_id, idea.id)
    db.session.flush()
    _tell(idea, space, account, before, status, reason)
    if first_ship and idea.author_id is not None:
        on_commit(idea_shipped.send, brand_id, account_id=idea.author_id, idea_id=idea.id)
    return idea


def _tell(idea: Idea, space: Space, actor: Account, before: IdeaStatus, after: IdeaStatus, reason: str) -> None:
    """The author and every voter, each once, in one ``INSERT ... SELECT`` (``notifications.service.notify_each``,
    with ``notify``'s rules: not the actor, not who muted or blocked them or the space, not who can no longer see
    the space)."""
    voters = select(IdeaVote.account_id.label("account_id")).where(IdeaVote.idea_id == idea.id)
    recipients = voters.union_all(select(literal(idea.author_id, Integer()).label("account_id"))) if idea.author_id else voters
    data = {"idea_id": idea.id, "title": idea.title, "from": before.value, "to": after.value, "reason": reason}
    notifications.notify_each(recipients, IDEA_STATUS, actor=actor, space=space, thread_id=idea.thread_id, data=data)


# ---- erasure ---------------------------------------------------------------------------------------

ERASED_TITLE = "Erased idea"


def forget_author(account_id: int) -> None:
    """Erasure: the account's ideas stay (others' votes and comments keep their place) but lose their author
    and their title, on the idea and on its thread; the opening post is deleted by the community's own
    erasure (the one delete path), so the idea's body goes with it."""
    threads = select(Idea.thread_id).where(Idea.author_id == account_id)
    db.session.execute(update(Thread).where(Thread.id.in_(threads)).values(title=ERASED_TITLE)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Idea).where(Idea.author_id == account_id).values(author_id=None, title=ERASED_TITLE)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(IdeaStatusChange).where(IdeaStatusChange.changed_by == account_id).values(changed_by=None)
                       .execution_options(synchronize_session=False))
