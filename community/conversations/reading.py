"""Read positions in threads, and the unread counts that ``tracking`` and ``watching`` imply.

As Discourse does it: for a thread a member tracks or watches (its effective level,
``service.thread_level``), clients show how many posts are new since the member last read it.
The position is the highest post id read (``ThreadReadPosition``), moved forward by
``POST /threads/{id}/read`` and by the member's own posts, never back. A post id rather than a
sequence number because a moved thread's posts take new numbers in the target space.

What counts as unread (``unread_posts_clause``) is shared with direct conversations' unread
counts (``direct.decorate``), which keep their position as ``Membership.read_seq``:
posts by others, not deleted, not hidden, not by an author the reader muted or blocked.

Nothing here commits: the request's boundary does (core/outbox.py).
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import case, func, null, select
from sqlalchemy.dialects import postgresql, sqlite

from community.models import NotificationLevel, Post, Space, Thread, ThreadReadPosition, Visibility
from community.moderation import rules as moderation_rules
from community.notifications import service
from core import sql
from core.accounts import Account
from core.errors import ApiError, conflict
from core.extensions import db, utcnow

R = ThreadReadPosition.__table__

#: The levels whose threads carry an unread count (null at the others).
COUNTED = (NotificationLevel.tracking.value, NotificationLevel.watching.value)


def unread_posts_clause(viewer: Account):
    """SQL over ``Post``: a post that counts as unread for ``viewer`` once it is past their position
    (every column it reads is in the index ``ix_posts_thread_unread``)."""
    return ((Post.author_id != viewer.id) & Post.deleted.is_(False) & Post.hidden.is_(False)
            & Post.author_id.not_in(moderation_rules.filtered_out_authors(viewer)))


def _unread_after(viewer: Account, position):
    """SQL: how many posts of the outer query's ``Thread`` after ``position`` are unread for ``viewer``."""
    return (select(func.count()).select_from(Post)
            .where(Post.thread_id == Thread.id, Post.id > position, unread_posts_clause(viewer))
            .correlate_except(Post).scalar_subquery())


def decorate(threads: list[Thread], viewer: Account) -> list[Thread]:
    """Each thread's ``read_post_id`` (None: nothing read) and ``unread`` (None unless the viewer
    tracks or watches it), for a whole page in one query. A direct conversation's thread has
    neither: its unread count is the conversation's (``direct.decorate``)."""
    if not threads:
        return threads
    position = func.coalesce(R.c.post_id, 0)
    followed = (service.thread_level_clause(viewer.id, Thread.id, Thread.space_id).in_(COUNTED)
                & (Space.visibility != Visibility.direct))
    rows = db.session.execute(
        select(Thread.id, R.c.post_id, case((followed, _unread_after(viewer, position)), else_=null()))
        .join(Space, Space.id == Thread.space_id)
        .outerjoin(R, (R.c.thread_id == Thread.id) & (R.c.account_id == viewer.id))
        .where(Thread.id.in_([t.id for t in threads])))
    found = {thread_id: (read, unread) for thread_id, read, unread in rows}
    for thread in threads:
        thread.read_post_id, thread.unread = found.get(thread.id, (None, None))
    return threads


@cache
def _advance(dialect: str):
    """``INSERT ... ON CONFLICT DO UPDATE`` that moves a position forward only (built once per dialect)."""
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(R)
    return stmt.on_conflict_do_update(
        index_elements=[R.c.thread_id, R.c.account_id],
        set_={"post_id": stmt.excluded.post_id, "updated_at": stmt.excluded.updated_at},
        where=R.c.post_id < stmt.excluded.post_id)


def advance(account_id: int, thread_id: int, post_id: int) -> None:
    """Move the account's position in the thread to ``post_id`` unless it is already there or past it:
    one statement, so two tabs marking at once can only move it forward."""
    stmt = _advance(db.session.get_bind().dialect.name)
    sql.run(stmt, {"thread_id": thread_id, "account_id": account_id, "post_id": post_id, "updated_at": utcnow()})


def mark_read(account: Account, thread: Thread, space: Space, post_id: int | None = None) -> Thread:
    """The thread is read up to ``post_id`` (a post of this thread, else 422), or up to its latest post;
    the position never moves back. Returns the thread decorated (``decorate``). A direct conversation
    is marked read as a conversation (``direct.do_mark_read``): 409."""
    if space.visibility is Visibility.direct:
        raise conflict("Mark a conversation read with POST /conversations/{id}/read.", "conversation-thread")
    if post_id is None:
        post_id = db.session.scalar(select(func.max(Post.id)).where(Post.thread_id == thread.id))
    elif db.session.scalar(select(Post.thread_id).where(Post.id == post_id)) != thread.id:
        raise ApiError(422, "The post is not in this thread.", errors={"post_id": ["Not in this thread."]})
    if post_id is not None:
        advance(account.id, thread.id, post_id)
    return decorate([thread], account)[0]


# The member's rights over their data ------------------------------------------------------


def export_read_positions(account_id: int) -> tuple[str, list]:
    """For the account's own export: how far it has read each thread."""
    rows = db.session.execute(select(R.c.thread_id, R.c.post_id, R.c.updated_at)
                              .where(R.c.account_id == account_id).order_by(R.c.thread_id))
    return "thread_read_positions", [{"thread_id": t, "post_id": p, "updated_at": at.isoformat()} for t, p, at in rows]


def erase_read_positions(account_id: int) -> None:
    """Before an account is erased: its read positions go."""
    db.session.execute(db.delete(ThreadReadPosition).where(ThreadReadPosition.account_id == account_id))


def init_reading() -> None:
    """Called by ``create_app``: exports and erasure reach read positions (idempotent)."""
    from purpose.privacy import account_erasing, register_export_source

    account_erasing.connect(erase_read_positions)
    register_export_source(account_source=export_read_positions)
