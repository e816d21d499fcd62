"""Community actions: ``check_*`` validates and authorises, ``do_*`` changes (and never commits).

REST views and Socket.IO handlers only parse input and call these, so one path serves
every transport, and the transport's boundary commits once (core/outbox.py): several
actions can share one transaction (erasure does). Every visible change appends an event to
the space's log in the same transaction (``community.space_log.record_event``), which is
broadcast once the transaction commits; mention notices and access signals are queued the
same way with ``on_commit``.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from community import access, space_log
from community.conversations import mentions, reading
from community.notifications import service as notifications
from community.moderation import audit as moderation_audit, rules as moderation_rules
from community.models import Membership, Post, Reaction, Space, SpaceRole, Thread, Visibility
from community.schemas import PostOut, ThreadOut
from core import sql
from core.accounts import Account
from core.errors import ApiError, conflict, forbidden, not_found
from core.extensions import db, utcnow
from core.outbox import on_commit
from purpose.models import Purpose

def _flush_or_conflict(detail: str, type_: str = "conflict") -> None:
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise conflict(detail, type_) from None


# Spaces ---------------------------------------------------------------------------


def do_create_space(account: Account, purpose: Purpose, args: dict) -> Space:
    access.require_brand_manager(account, purpose.brand_id)
    if db.session.scalar(select(Space.id).where(Space.slug == args["slug"])) is not None:
        raise conflict("A space with this slug already exists.", "slug-taken")
    space = Space(purpose_id=purpose.id, **args)
    db.session.add(space)
    db.session.flush()
    db.session.add(Membership(space_id=space.id, account_id=account.id, role=SpaceRole.manager))
    _flush_or_conflict("A space with this slug already exists.", "slug-taken")
    return space


def do_join(account: Account, space: Space) -> Membership:
    """Join a visible space; joining twice returns the existing membership."""
    membership = access.membership_of(account, space)
    if membership is not None:
        return membership
    moderation_rules.require_not_banned(account, space)
    membership = Membership(space_id=space.id, account_id=account.id)
    db.session.add(membership)
    try:
        db.session.flush()
    except IntegrityError:  # joined concurrently from another tab
        db.session.rollback()
        membership = access.membership_of(account, space)
    return membership


def do_leave(account: Account, space: Space) -> None:
    membership = access.membership_of(account, space)
    if membership is None:
        raise conflict("You are not a member of this space.", "not-a-member")
    db.session.delete(membership)
    on_commit(access.space_access_lost.send, account.id, space_id=space.id, reason="left")


def _is_brand_staff(actor: Account, space: Space) -> bool:
    return actor.is_admin or access.is_brand_manager(actor, access.brand_of_space(space))


def do_set_member(actor: Account, space: Space, account_id: int, role: SpaceRole, reason: str = "") -> Membership:
    """Add an account to a space (private spaces grow this way) or change its role; staff only.

    Making a manager, and changing the role of a space's moderators and managers, needs a
    brand manager or an admin. Every change leaves an audit entry (``member_role_changed``).
    """
    access.require_staff(actor, space)
    if role is SpaceRole.manager and not _is_brand_staff(actor, space):
        raise forbidden("Only the brand's managers may make someone a space manager.")
    target = db.session.get(Account, account_id)
    if target is None:
        raise not_found("account")
    membership = access.membership_of(target, space)
    before = membership.role if membership is not None else None
    if before is role:
        return membership
    if before is not None and before is not SpaceRole.member and not _is_brand_staff(actor, space):
        raise forbidden("Only the brand's managers may change the role of a space's moderators or managers.")
    membership = membership or Membership(space_id=space.id, account_id=target.id)
    membership.role = role
    db.session.add(membership)
    entry = moderation_audit.audit(actor, "member_role_changed", "account", target.id, space=space, reason=reason,
                                   before={"role": before.value} if before else None, after={"role": role.value})
    _flush_or_conflict("The membership changed concurrently; retry.")
    on_commit(access.space_role_changed.send, target.id, space_id=space.id)
    moderation_audit.tell_action(entry)
    return membership


def do_remove_member(actor: Account, space: Space, account_id: int) -> None:
    """Remove an account from a space (staff); its open sockets stop receiving the space at once."""
    access.require_staff(actor, space)
    target = db.session.get(Account, account_id)
    membership = access.membership_of(target, space) if target is not None else None
    if membership is None:
        raise not_found("membership")
    if membership.role is not SpaceRole.member and not _is_brand_staff(actor, space):
        raise forbidden("Only the brand's managers may remove a space's moderators or managers.")
    db.session.delete(membership)
    on_commit(access.space_access_lost.send, account_id, space_id=space.id, reason="removed")


# Threads and posts ----------------------------------------------------------------

_POST_EVENT = PostOut(exclude=("reactions",))


_TOUCH_THREAD = (  # built once, as the rest of the post path's statements (core/sql.py)
    update(Thread.__table__)
    .where(Thread.__table__.c.id == bindparam("thread_id"))
    .values(last_activity_at=bindparam("at"))
)


def _insert_post(author: Account, thread: Thread, space: Space, body: str, parent_id: int | None,
                 client_msg_id: str | None = None) -> tuple[Post, list[int]]:
    """Add the post with the space's next sequence number; returns it and the accounts it mentions."""
    now = utcnow()
    post = sql.insert_loaded(Post, {
        "space_id": space.id, "thread_id": thread.id, "seq": space_log.next_space_seq(space.id), "author_id": author.id,
        "parent_id": parent_id, "body": body, "created_at": now, "client_msg_id": client_msg_id,
    })
    mentioned = mentions.store(post, space)
    sql.run(_TOUCH_THREAD, {"thread_id": thread.id, "at": now})
    sql.set_loaded(thread, last_activity_at=now)
    return post, mentioned


def do_create_thread(account: Account, space: Space, title: str, body: str) -> Thread:
    access.require_member(account, space)
    moderation_rules.check_can_post(account, space, f"{title}\n{body}")
    thread = Thread(space_id=space.id, title=title, author_id=account.id)
    db.session.add(thread)
    db.session.flush()
    post, mentioned = _insert_post(account, thread, space, body, None)
    data = {"thread": ThreadOut().dump(thread), "post": _POST_EVENT.dump(post)}
    space_log.record_event(space.id, "thread_created", data, seq=post.seq, post_id=post.id)
    notifications.notify_post(post, thread, space, account, mentioned, new_thread=True)
    mentions.notify(post, account, mentioned)
    _read_own(account, thread, space, post)
    return thread


def _read_own(account: Account, thread: Thread, space: Space, post: Post) -> None:
    """Posting reads the thread up to your post (reading.py); a direct conversation keeps its
    position as its participants' ``read_seq`` instead."""
    if space.visibility is not Visibility.direct:
        reading.advance(account.id, thread.id, post.id)


def check_post(account: Account, thread: Thread, space: Space, parent_id: int | None, body: str | None = None) -> None:
    access.require_member(account, space)
    if thread.locked:
        raise forbidden("This thread is locked.", "thread-locked")
    if parent_id is not None:
        parent = db.session.get(Post, parent_id)
        if parent is None or parent.thread_id != thread.id:
            raise ApiError(422, "The parent post is not in this thread.", errors={"parent_id": ["Not in this thread."]})
        moderation_rules.check_reply_allowed(account, parent)
    moderation_rules.check_can_post(account, space, body)


def _sent_before(account: Account, thread: Thread, client_msg_id: str | None, body: str,
                 parent_id: int | None) -> Post | None:
    """The post this key already made, for an idempotent resend; 409 if the key made another post:
    in another thread, or (while that post is as it was sent: not edited, not deleted) with
    another body or parent. An edited or deleted post no longer shows what was sent, so a resend
    then gets the post as it is."""
    if client_msg_id is None:
        return None
    post = db.session.scalar(select(Post).where(Post.author_id == account.id, Post.client_msg_id == client_msg_id))
    if post is not None and post.thread_id != thread.id:
        raise conflict("This client_msg_id was already used for a post in another thread.", "client-msg-id-reused")
    as_sent = post is not None and post.edited_at is None and not post.deleted
    if as_sent and (post.body, post.parent_id) != (body, parent_id):
        raise conflict("This client_msg_id was already used for a different post.", "client-msg-id-reused")
    return post


def do_create_post(account: Account, thread: Thread, space: Space, body: str, parent_id: int | None,
                   client_msg_id: str | None = None) -> tuple[Post, bool]:
    """Store a post (or a reply) and broadcast it; returns it and whether it is new.

    A resend with the same ``client_msg_id`` (after a timeout, twice at once, from two
    tabs) returns the first post and stores nothing new.
    """
    try:
        check_post(account, thread, space, parent_id, body)
    except ApiError:  # e.g. locked since the first send: a resend still gets the first post
        existing = _sent_before(account, thread, client_msg_id, body, parent_id)
        if existing is None:
            raise
        return existing, False
    try:  # a resend is caught by the unique key, which saves a lookup on every first send
        post, mentioned = _insert_post(account, thread, space, body, parent_id, client_msg_id)
        data = {"post": _POST_EVENT.dump(post)}
        space_log.record_event(space.id, "post_created", data, seq=post.seq, post_id=post.id)
    except IntegrityError:  # this key was stored before, or just now from another tab
        db.session.rollback()
        existing = _sent_before(account, thread, client_msg_id, body, parent_id)
        if existing is None:
            raise
        return existing, False
    notifications.notify_post(post, thread, space, account, mentioned, new_thread=False)
    mentions.notify(post, account, mentioned)
    _read_own(account, thread, space, post)
    return post, True


def _require_author(account: Account, post: Post) -> None:
    if post.author_id != account.id:
        raise forbidden("Only the author may change this post.", "not-the-author")


def do_edit_post(account: Account, post: Post, thread: Thread, space: Space, body: str) -> Post:
    _require_author(account, post)
    if post.deleted:
        raise conflict("This post was deleted.", "post-deleted")
    if post.hidden:  # an edit would broadcast a hidden body to the whole space
        raise conflict("This post is hidden by the moderators; it cannot be edited.", "post-hidden")
    moderation_rules.require_not_silenced(account, space)
    if thread.locked:
        raise forbidden("This thread is locked.", "thread-locked")
    post.body = body
    post.edited_at = utcnow()
    added = mentions.store(post, space, replace=True)
    space_log.record_event(space.id, "post_edited", {"post": _POST_EVENT.dump(post)}, post_id=post.id)
    notifications.notify_mentions(post, space, account, added)
    mentions.notify(post, account, added)
    return post


def do_delete_post(account: Account, post: Post) -> None:
    """Soft-delete: the post keeps its place (and replies) but its body is no longer served or replayed."""
    _require_author(account, post)
    if post.deleted:
        return
    post.deleted = True
    space_log.scrub_post(post.id)
    notifications.forget_post(post.id)
    data = {"post_id": post.id, "thread_id": post.thread_id}
    space_log.record_event(post.space_id, "post_deleted", data, post_id=post.id)


# Reactions ------------------------------------------------------------------------


def _reaction_event(kind: str, post: Post, account: Account, emoji: str):
    count = db.session.scalar(
        select(func.count()).select_from(Reaction).where(Reaction.post_id == post.id, Reaction.emoji == emoji)
    )
    data = {"post_id": post.id, "thread_id": post.thread_id, "emoji": emoji, "account_id": account.id, "count": count}
    return space_log.record_event(post.space_id, kind, data, post_id=post.id)


def do_react(account: Account, post: Post, space: Space, emoji: str) -> tuple[Reaction, bool]:
    """Add a reaction; returns it and whether it is new (reacting twice is not an error)."""
    access.require_member(account, space)
    moderation_rules.require_not_silenced(account, space)
    if post.deleted:
        raise conflict("This post was deleted.", "post-deleted")
    lookup = select(Reaction).where(Reaction.post_id == post.id, Reaction.account_id == account.id, Reaction.emoji == emoji)
    existing = db.session.scalar(lookup)
    if existing is not None:
        return existing, False
    reaction = Reaction(post_id=post.id, account_id=account.id, emoji=emoji)
    db.session.add(reaction)
    try:
        db.session.flush()
    except IntegrityError:  # the same reaction from a second tab at the same moment
        db.session.rollback()
        return db.session.scalar(lookup), False
    _reaction_event("reaction_added", post, account, emoji)
    notifications.notify_reaction(post, space, account, emoji)
    return reaction, True


def do_unreact(account: Account, post: Post, emoji: str) -> None:
    removed = db.session.execute(
        db.delete(Reaction).where(Reaction.post_id == post.id, Reaction.account_id == account.id, Reaction.emoji == emoji)
    ).rowcount
    if removed:
        _reaction_event("reaction_removed", post, account, emoji)
