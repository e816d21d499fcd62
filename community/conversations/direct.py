"""Direct conversations: one-to-one and small groups, built on the spaces' real-time core.

A conversation is a space of visibility ``direct`` with no purpose, one thread, and its
participants as memberships; ``DirectConversation`` records its kind and, for a one-to-one,
the canonical pair (lower account id, higher), unique, so two people have one conversation
however often (and however concurrently) either of them starts it. Posting, sequence
numbers, resume, idempotent client ids and typing are therefore the spaces' own
(``service.do_create_post``, ``community/realtime/``); ``community.access`` keeps staff out
(participants only), and ``community.moderation.rules`` refuses posts across a block.

Same shape as ``service``: actions check, change and never commit; what others should hear
goes out once the transaction commits (``on_commit``): a ``conversation`` notice to the
added person's own room, ``participant_added`` / ``participant_left`` events in the
conversation's log.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from community import access, space_log
from community.conversations import reading, service
from community.models import ConversationKind, DirectConversation, Membership, Post, Space, Thread, Visibility
from community.moderation import rules as moderation_rules
from core import sql
from core.accounts import Account
from core.errors import ApiError, TooSoon, conflict, not_found
from core.extensions import db, socketio, utcnow
from core.outbox import on_commit
from purpose.privacy import account_erasing, register_export_source

#: Socket.IO event sent to an account's own room when someone starts a conversation with it
#: or adds it to one (docs/realtime.md).
CONVERSATION_EVENT = "conversation"


def _who(account: Account) -> dict:
    return {"id": account.id, "handle": account.handle, "display_name": account.display_name}


# Finding people and conversations ---------------------------------------------------------


def resolve_people(account: Account, handles: list[str], account_ids: list[int]) -> list[Account]:
    """The accounts named by handle or id, without ``account`` itself; 422 for any unknown one."""
    found: dict[int, Account] = {}
    errors: dict[str, list[str]] = {}
    if handles:
        by_handle = {a.handle: a for a in db.session.scalars(select(Account).where(Account.handle.in_(handles)))}
        unknown = [h for h in handles if h not in by_handle]
        if unknown:
            errors["handles"] = [f"No account @{h}." for h in unknown]
        found.update({a.id: a for a in by_handle.values()})
    if account_ids:
        by_id = {a.id: a for a in db.session.scalars(select(Account).where(Account.id.in_(account_ids)))}
        unknown_ids = [i for i in account_ids if i not in by_id]
        if unknown_ids:
            errors["account_ids"] = [f"No account {i}." for i in unknown_ids]
        found.update(by_id)
    if errors:
        raise ApiError(422, "Some of the people named do not exist.", type_="unknown-participant", errors=errors)
    others = [a for a in found.values() if a.id != account.id]
    if not others:
        raise ApiError(422, "Name at least one other person.", errors={"handles": ["Nobody but you."]})
    return sorted(others, key=lambda a: a.id)


_CONVERSATION_OF = (  # built once, one round trip on every message: as the post path's (core/sql.py)
    select(*sql.columns(DirectConversation, Space, Thread, Membership))
    .join(Space, Space.id == DirectConversation.space_id)
    .outerjoin(Thread, Thread.id == DirectConversation.thread_id)
    .outerjoin(Membership, (Membership.space_id == DirectConversation.space_id)
               & (Membership.account_id == bindparam("account_id")))
    .where(DirectConversation.space_id == bindparam("space_id"))
)


def conversation_of(account: Account, conversation_id: int) -> DirectConversation:
    """A conversation ``account`` takes part in, or 404 (also to admins and brand staff)."""
    row = sql.run(_CONVERSATION_OF, {"account_id": account.id, "space_id": conversation_id}).first()
    if row is None:
        raise not_found("conversation")
    conversation, space, thread, membership = sql.loaded(row, DirectConversation, Space, Thread, Membership)
    sql.set_loaded(conversation, space=space, thread=thread)  # read in this row: no lazy load later
    access.remember_membership(account, space, membership)
    if membership is None:
        raise not_found("conversation")
    return conversation


def _pair_of(a: int, b: int) -> DirectConversation | None:
    low, high = min(a, b), max(a, b)
    return db.session.scalar(select(DirectConversation).where(
        DirectConversation.pair_low_id == low, DirectConversation.pair_high_id == high))


def participants(space_id: int) -> list[Membership]:
    return list(db.session.scalars(select(Membership).where(Membership.space_id == space_id).order_by(Membership.id)))


# Starting, adding, leaving ---------------------------------------------------------------


def _check_size(count: int) -> None:
    limit = current_app.config["DIRECT_MAX_PARTICIPANTS"]
    if count > limit:
        raise ApiError(422, f"A conversation has at most {limit} participants.", type_="too-many-participants",
                       errors={"handles": [f"At most {limit} people, you included."]})


def _check_new_account_starts(account: Account) -> None:
    """Anti-spam: an account in its first ``NEW_MEMBER_HOURS`` starts at most
    ``DIRECT_NEW_ACCOUNT_STARTS_PER_HOUR`` conversations an hour (429 ``new-member-limit``)."""
    now = utcnow()
    if not moderation_rules.is_new_account(account, now):
        return
    limit = current_app.config["DIRECT_NEW_ACCOUNT_STARTS_PER_HOUR"]
    recent = list(db.session.scalars(select(DirectConversation.created_at).where(
        DirectConversation.created_by_id == account.id, DirectConversation.created_at > now - timedelta(hours=1),
    ).order_by(DirectConversation.created_at)))
    if len(recent) >= limit:
        wait = (recent[-limit] + timedelta(hours=1) - now).total_seconds()
        raise TooSoon(f"New accounts start at most {limit} conversations an hour.", "new-member-limit", wait)


def _add_members(conversation: DirectConversation, people: list[Account], by: Account, *, announce: bool) -> list[Account]:
    """Memberships for those of ``people`` not in yet; their own rooms hear of it after the commit."""
    present = {m.account_id for m in participants(conversation.space_id)}
    added = [p for p in people if p.id not in present]
    for person in added:
        db.session.add(Membership(space_id=conversation.space_id, account_id=person.id))
    db.session.flush()
    if added and announce:
        data = {"conversation_id": conversation.space_id, "accounts": [_who(p) for p in added], "by": _who(by)}
        space_log.record_event(conversation.space_id, "participant_added", data)
    for person in added:
        if person.id != by.id:
            notice = {"kind": "added" if announce else "started", "conversation_id": conversation.space_id, "by": _who(by)}
            on_commit(socketio.emit, CONVERSATION_EVENT, notice, to=space_log.account_room(person.id))
    return added


def _create(account: Account, others: list[Account], kind: ConversationKind, title: str | None) -> DirectConversation:
    space = Space(purpose_id=None, name=title or "", slug=f"direct-{uuid.uuid4().hex}", visibility=Visibility.direct)
    db.session.add(space)
    db.session.flush()
    thread = Thread(space_id=space.id, title=title or "", author_id=account.id)
    db.session.add(thread)
    db.session.flush()
    pair = (others[0].id, account.id) if kind is ConversationKind.pair else (None, None)
    conversation = DirectConversation(
        space_id=space.id, kind=kind, thread_id=thread.id, created_by_id=account.id,
        pair_low_id=min(pair) if pair[0] else None, pair_high_id=max(pair) if pair[0] else None,
    )
    db.session.add(conversation)
    db.session.flush()  # a one-to-one started at the same moment elsewhere fails here (the pair key)
    _add_members(conversation, [account, *others], account, announce=False)
    return conversation


def do_start(account: Account, others: list[Account], *, group: bool = False, title: str | None = None
             ) -> tuple[DirectConversation, bool]:
    """Start a conversation with ``others`` (reachable: no block either way, not suspended);
    returns it and whether it is new.

    With one other person and not ``group``, it is their one-to-one: an existing one is reused
    (and whoever had left it is back in), never duplicated, even when both start it at once.
    """
    _check_size(len(others) + 1)
    moderation_rules.require_reachable(account, others)
    if group or len(others) > 1:
        _check_new_account_starts(account)
        return _create(account, others, ConversationKind.group, title), True
    existing = _pair_of(account.id, others[0].id)
    if existing is None:
        _check_new_account_starts(account)
        try:
            return _create(account, others, ConversationKind.pair, None), True
        except IntegrityError:  # the other person (or another tab) started it just now: theirs is ours
            db.session.rollback()
            existing = _pair_of(account.id, others[0].id)
            if existing is None:
                raise
    _add_members(existing, [account, *others], account, announce=True)
    return existing, False


def do_add_participants(actor: Account, conversation: DirectConversation, people: list[Account]) -> DirectConversation:
    """Add people to a group conversation (any participant; they must be reachable by the adder)."""
    if conversation.kind is not ConversationKind.group:
        raise conflict("A one-to-one conversation takes no more people; start a group instead.", "not-a-group")
    present = {m.account_id for m in participants(conversation.space_id)}
    new = [p for p in people if p.id not in present]
    if not new:  # all of them are in already
        return conversation
    _check_size(len(present) + len(new))
    moderation_rules.require_reachable(actor, new)
    _add_members(conversation, new, actor, announce=True)
    return conversation


def do_leave(account: Account, conversation: DirectConversation) -> None:
    """Leave: no more messages reach you, your sockets leave its room at once. Your messages stay.
    A one-to-one you left comes back when either of you starts it again."""
    membership = access.membership_of(account, conversation.space)
    db.session.delete(membership)
    data = {"conversation_id": conversation.space_id, "account": _who(account)}
    space_log.record_event(conversation.space_id, "participant_left", data)
    on_commit(access.space_access_lost.send, account.id, space_id=conversation.space_id, reason="left")


def do_post(account: Account, conversation: DirectConversation, body: str, parent_id: int | None = None,
            client_msg_id: str | None = None) -> tuple[Post, bool]:
    """A message: the spaces' one post path (sequence, idempotent ``client_msg_id``, broadcast)."""
    thread = conversation.thread
    return service.do_create_post(account, thread, conversation.space, body, parent_id, client_msg_id)


def do_mark_read(account: Account, conversation: DirectConversation, seq: int | None) -> Membership:
    """Everything up to ``seq`` (default: the latest) is read; the position never moves back."""
    membership = access.membership_of(account, conversation.space)
    last = db.session.scalar(select(Space.last_seq).where(Space.id == conversation.space_id))
    target = last if seq is None else min(seq, last)
    membership.read_seq = max(membership.read_seq, target)
    return membership


# Reading ------------------------------------------------------------------------------


def mine_query(account: Account):
    """The conversations ``account`` takes part in (for ``keyset_page``, newest activity first)."""
    return (select(DirectConversation)
            .join(Membership, (Membership.space_id == DirectConversation.space_id) & (Membership.account_id == account.id))
            .join(Thread, Thread.id == DirectConversation.thread_id))


def decorate(conversations: list[DirectConversation], viewer: Account) -> list[DirectConversation]:
    """Participants, the viewer's read position, the last sequence number and the unread count:
    four queries for a whole page."""
    ids = [c.space_id for c in conversations]
    if not ids:
        return conversations
    people: dict[int, list] = {i: [] for i in ids}
    for membership in db.session.scalars(select(Membership).where(Membership.space_id.in_(ids)).order_by(Membership.id)):
        people[membership.space_id].append(membership.account)
    read = dict(db.session.execute(select(Membership.space_id, Membership.read_seq).where(
        Membership.space_id.in_(ids), Membership.account_id == viewer.id)).all())
    # Read, not taken from the loaded spaces: a message posted in this transaction numbered it in SQL.
    last = dict(db.session.execute(select(Space.id, Space.last_seq).where(Space.id.in_(ids))).all())
    unread = dict(db.session.execute(
        select(Post.space_id, func.count()).join(
            Membership, (Membership.space_id == Post.space_id) & (Membership.account_id == viewer.id))
        .where(Post.space_id.in_(ids), Post.seq > Membership.read_seq, reading.unread_posts_clause(viewer))
        .group_by(Post.space_id)).all())
    for conversation in conversations:
        conversation.participants = people[conversation.space_id]
        conversation.read_seq = read.get(conversation.space_id, 0)
        conversation.last_seq = last[conversation.space_id]
        conversation.unread_count = unread.get(conversation.space_id, 0)
    return conversations


# The participant's rights over their data ---------------------------------------------------


def _direct_spaces():
    return select(Space.id).where(Space.visibility == Visibility.direct)


def export_conversations(account_id: int) -> tuple[str, list]:
    """For the account's own export: each conversation it is or was in, with the messages it
    wrote there (the others' messages are theirs)."""
    mine = select(Post).where(Post.author_id == account_id, Post.space_id.in_(_direct_spaces())).order_by(Post.id)
    messages: dict[int, list] = {}
    for post in db.session.scalars(mine):
        messages.setdefault(post.space_id, []).append({
            "id": post.id, "seq": post.seq, "body": None if post.deleted else post.body, "created_at": post.created_at.isoformat(),
            "edited_at": post.edited_at.isoformat() if post.edited_at else None, "deleted": post.deleted,
        })
    member_of = set(db.session.scalars(select(Membership.space_id).where(
        Membership.account_id == account_id, Membership.space_id.in_(_direct_spaces()))))
    out = []
    ids = sorted(member_of | set(messages))
    for conversation in db.session.scalars(select(DirectConversation).where(DirectConversation.space_id.in_(ids))
                                           .order_by(DirectConversation.space_id)):
        out.append({"id": conversation.space_id, "kind": conversation.kind.value, "title": conversation.space.name or None,
                    "participant": conversation.space_id in member_of, "messages": messages.get(conversation.space_id, [])})
    return "conversations", out


def erase_direct_messages(account_id: int) -> None:
    """Before an account is erased: its messages' texts go from the database too (the community
    side deletes them through the post path, so participants see them go); others' stay."""
    db.session.execute(db.update(Post).where(Post.author_id == account_id, Post.space_id.in_(_direct_spaces()))
                       .values(body="").execution_options(synchronize_session="fetch"))


def init_direct() -> None:
    """Called by ``create_app``: exports and erasure reach direct conversations (idempotent)."""
    register_export_source(account_source=export_conversations)
    account_erasing.connect(erase_direct_messages)
