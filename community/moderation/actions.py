"""Moderating posts and threads: flags, hide and unhide, dismiss, staff delete, lock, pin, move.

Each action checks (space staff: admins, the brand's managers, the space's moderators and
managers), changes, appends one audit entry and, where members see the change, one event
to the space's log, all in one transaction; once it commits, the space event goes to the
space's room, the audit entry to the moderators' room, and a notice to the member
concerned (queued with ``core.outbox.on_commit``; the request or socket event commits).
A hidden post's body is scrubbed from the logged events, so neither live clients nor
resuming ones get it; listings leave it out for everyone but staff and its author.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import case, func, select, update

from community import access, space_log
from community.models import Appeal, Flag, FlagReason, Post, Space, SpaceEvent, Thread
from community.moderation.audit import audit, tell_action, tell_member, tell_moderators
from community.notifications import service as notifications
from community.schemas import PostOut, ThreadOut
from core.accounts import Account, TrustLevel
from core.errors import ApiError, conflict, forbidden
from core.extensions import db, utcnow

_POST_EVENT = PostOut(exclude=("reactions",))


def _scrub_bodies(post_ids: list[int], mark: str, *, space_id: int | None = None) -> None:
    """Remove posts' bodies from the events already logged (``mark``: hidden or moved)."""
    stmt = select(SpaceEvent).where(SpaceEvent.post_id.in_(post_ids))
    if space_id is not None:
        stmt = stmt.where(SpaceEvent.space_id == space_id)
    for event in db.session.scalars(stmt):
        post = event.data.get("post")
        if post is not None and post.get("body") is not None:
            event.data = {**event.data, "post": {**post, "body": None, mark: True}}


def _pending_flags(post: Post) -> list[Flag]:
    return list(db.session.scalars(select(Flag).where(Flag.post_id == post.id, Flag.resolved_at.is_(None))))


def _resolve_flags(post: Post, resolution: str) -> int:
    now = utcnow()
    flags = _pending_flags(post)
    for flag in flags:
        flag.resolved_at, flag.resolution = now, resolution
    return len(flags)


def _resolve_appeal(post: Post, resolution: str) -> None:
    appeal = db.session.scalar(select(Appeal).where(Appeal.post_id == post.id, Appeal.resolved_at.is_(None)))
    if appeal is not None:
        appeal.resolved_at, appeal.resolution = utcnow(), resolution


def _hide(post: Post, space: Space, actor: Account | None, reason: str):
    post.hidden, post.hidden_reason, post.hidden_at = True, reason, utcnow()
    post.hidden_by_id = actor.id if actor is not None else None
    _scrub_bodies([post.id], "hidden")
    notifications.forget_post(post.id)
    data = {"post_id": post.id, "thread_id": post.thread_id}
    space_log.record_event(space.id, "post_hidden", data, post_id=post.id)
    by = "moderator" if actor is not None else "flags"
    return audit(actor, "post_hidden", "post", post.id, space=space, reason=reason,
                 before={"hidden": False}, after={"hidden": True, "by": by})


def _unhide(post: Post, space: Space, actor: Account, reason: str, action: str = "post_unhidden"):
    before = {"hidden": True, "reason": post.hidden_reason}
    post.hidden, post.hidden_reason, post.hidden_at, post.hidden_by_id = False, None, None, None
    _resolve_appeal(post, "granted")
    data = {"post": _POST_EVENT.dump(post), "thread_id": post.thread_id}
    space_log.record_event(space.id, "post_unhidden", data, post_id=post.id)
    return audit(actor, action, "post", post.id, space=space, reason=reason, before=before, after={"hidden": False})


def _finish(entries: list, notify_account: int | None = None) -> None:
    """Once the transaction commits: the audit entries to moderators, a notice to the member
    (the space events were queued by ``space_log.record_event``)."""
    for entry in entries:
        tell_action(entry)
        if notify_account is not None:
            tell_member(notify_account, entry)


# Flags ------------------------------------------------------------------------------


def do_flag(account: Account, post: Post, space: Space, reason: FlagReason, text: str | None) -> Flag:
    """A member flags someone else's post, once; enough distinct flaggers hide it pending review: their
    flags' weight reaches ``FLAG_HIDE_THRESHOLD``, a regular's (trust level 3) weighing ``FLAG_WEIGHT_REGULAR``."""
    access.require_member(account, space)
    if post.author_id == account.id:
        raise forbidden("You cannot flag your own post.", "own-post")
    if post.deleted:
        raise conflict("This post was deleted.", "post-deleted")
    if db.session.scalar(select(Flag.id).where(Flag.post_id == post.id, Flag.flagger_id == account.id)) is not None:
        raise conflict("You already flagged this post.", "already-flagged")
    flag = Flag(post_id=post.id, space_id=space.id, flagger_id=account.id, reason=reason, text=text or None)
    db.session.add(flag)
    db.session.flush()  # a concurrent duplicate fails here: the app answers 409
    # One flagger at a time decides on hiding (PostgreSQL row lock; SQLite has one writer anyway).
    already_hidden = db.session.scalar(select(Post.hidden).where(Post.id == post.id).with_for_update())
    regular = case((Account.trust_level >= TrustLevel.regular, current_app.config["FLAG_WEIGHT_REGULAR"]), else_=1)
    pending, weight = db.session.execute(  # one flag per member and post (the unique key): flags are flaggers
        select(func.count(), func.coalesce(func.sum(regular), 0)).select_from(Flag)
        .join(Account, Account.id == Flag.flagger_id).where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
    ).one()
    threshold = current_app.config["FLAG_HIDE_THRESHOLD"]
    entries = []
    if weight >= threshold and not already_hidden:
        entries = [_hide(post, space, None, f"Hidden pending review: flagged by {pending} members.")]
    _finish(entries, notify_account=post.author_id)
    tell_moderators(space.id, "flag_added", {"post_id": post.id, "flag_count": pending, "hidden": post.hidden})
    return flag


def do_dismiss_flags(actor: Account, post: Post, space: Space, reason: str) -> Post:
    """Staff find nothing wrong: pending flags are dismissed; a post the flags hid is shown again."""
    access.require_staff(actor, space)
    count = _resolve_flags(post, "dismissed")
    if not count:
        raise conflict("This post has no pending flags.", "no-pending-flags")
    entries = [audit(actor, "flags_dismissed", "post", post.id, space=space, reason=reason,
                     before={"pending_flags": count}, after={"pending_flags": 0})]
    if post.hidden and post.hidden_by_id is None:  # hidden by the threshold, pending this review
        entries.append(_unhide(post, space, actor, reason))
    _finish(entries)
    return post


# Posts ------------------------------------------------------------------------------


def do_hide(actor: Account, post: Post, space: Space, reason: str) -> Post:
    access.require_staff(actor, space)
    if post.hidden and post.hidden_by_id is not None:
        raise conflict("This post is already hidden.", "already-hidden")
    if post.hidden:  # hidden by the flags: a moderator confirms it, with their reason
        post.hidden = False
    _resolve_flags(post, "actioned")
    entry = _hide(post, space, actor, reason)
    _finish([entry], notify_account=post.author_id)
    return post


def do_unhide(actor: Account, post: Post, space: Space, reason: str) -> Post:
    access.require_staff(actor, space)
    if not post.hidden:
        raise conflict("This post is not hidden.", "not-hidden")
    _resolve_flags(post, "dismissed")
    entry = _unhide(post, space, actor, reason)
    _finish([entry], notify_account=post.author_id)
    return post


def do_remove_post(actor: Account, post: Post, space: Space, reason: str) -> Post:
    """Staff delete: soft, like an author's delete (replies keep their place); the body is gone."""
    access.require_staff(actor, space)
    if post.deleted:
        raise conflict("This post was deleted.", "post-deleted")
    post.deleted = True
    _resolve_flags(post, "actioned")
    space_log.scrub_post(post.id)
    notifications.forget_post(post.id)
    data = {"post_id": post.id, "thread_id": post.thread_id, "by_staff": True}
    space_log.record_event(space.id, "post_deleted", data, post_id=post.id)
    entry = audit(actor, "post_deleted", "post", post.id, space=space, reason=reason,
                  before={"deleted": False}, after={"deleted": True})
    _finish([entry], notify_account=post.author_id)
    return post


# Threads ----------------------------------------------------------------------------

_THREAD_STATES = {
    ("locked", True): "thread_locked", ("locked", False): "thread_unlocked",
    ("pinned", True): "thread_pinned", ("pinned", False): "thread_unpinned",
}


def do_set_thread_state(actor: Account, thread: Thread, space: Space, attr: str, value: bool, reason: str) -> Thread:
    """Lock or unlock (``locked``), pin or unpin (``pinned``) a thread."""
    access.require_staff(actor, space)
    action = _THREAD_STATES[(attr, value)]
    if getattr(thread, attr) == value:
        word = action.removeprefix("thread_")
        raise conflict(f"The thread is already {word}.", f"already-{word}")
    setattr(thread, attr, value)
    space_log.record_event(space.id, action, {"thread": ThreadOut().dump(thread)})
    entry = audit(actor, action, "thread", thread.id, space=space, reason=reason, before={attr: not value}, after={attr: value})
    _finish([entry], notify_account=thread.author_id)
    return thread


def _move_target(actor: Account, space: Space, target_id: int) -> Space:
    """The target space of a move, once the actor may move threads between the two spaces."""
    access.require_staff(actor, space)
    if target_id == space.id:
        raise ApiError(422, "The thread is already in this space.", errors={"space_id": ["Same space."]})
    target = db.session.get(Space, target_id)
    if target is None or not access.can_see(actor, target):  # one answer: no probing for private spaces
        raise ApiError(422, "No such space.", errors={"space_id": ["Unknown space."]})
    if access.brand_of_space(target) != access.brand_of_space(space):
        raise ApiError(422, "Threads move only between spaces of the same brand.", type_="different-brand",
                       errors={"space_id": ["Another brand's space."]})
    access.require_staff(actor, target)
    return target


def do_move_thread(actor: Account, thread: Thread, space: Space, target_id: int, reason: str) -> Thread:
    """Move a thread and its posts to another space of the same brand (staff of both).

    The posts take new numbers in the target space's sequence, in their order; the source
    space's logged events lose their bodies (the target may be private). Both spaces get a
    ``thread_moved`` event.
    """
    target = _move_target(actor, space, target_id)
    space_log.lock_spaces(space.id, target.id)  # both numberings below, in one lock order
    posts = list(db.session.scalars(select(Post).where(Post.thread_id == thread.id).order_by(Post.seq)))
    for post in posts:
        post.seq = space_log.next_space_seq(target.id)
        post.space_id = target.id
    post_ids = [p.id for p in posts]
    db.session.execute(update(Flag).where(Flag.post_id.in_(post_ids)).values(space_id=target.id))
    notifications.move_thread(thread.id, target.id)
    _scrub_bodies(post_ids, "moved", space_id=space.id)
    thread.space_id = target.id
    moved = {"thread_id": thread.id, "from_space_id": space.id, "to_space_id": target.id}
    space_log.record_event(space.id, "thread_moved", moved)
    space_log.record_event(target.id, "thread_moved", {**moved, "thread": ThreadOut().dump(thread)})
    entry = audit(actor, "thread_moved", "thread", thread.id, space=space, reason=reason,
                  before={"space_id": space.id}, after={"space_id": target.id})
    _finish([entry], notify_account=thread.author_id)
    tell_action(entry, space_id=target.id)  # a move concerns the moderators of both spaces
    return thread
