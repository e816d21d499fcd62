"""Mentions: ``@handle`` in a post's body, stored for accounts that can see the space, and a
``mention`` notice to each newly mentioned account's sockets once the post commits."""

from __future__ import annotations

import re

from sqlalchemy import select

from community import access, space_log
from community.models import Mention, PersonalFilter, Post, Space
from core.accounts import Account
from core.extensions import db, socketio
from core.outbox import on_commit

#: Socket.IO event sent to a mentioned account's own room (docs/realtime.md).
MENTION_EVENT = "mention"
MENTION_PATTERN = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{3,30})(?!\w)")
MAX_MENTIONS = 20


def mentioned_handles(body: str) -> list[str]:
    """Distinct ``@handles`` in a body, lower-cased, in order of first appearance, at most 20."""
    seen: dict[str, None] = {}
    for match in MENTION_PATTERN.finditer(body):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)[:MAX_MENTIONS]


def store(post: Post, space: Space, *, replace: bool = False) -> list[int]:
    """Record the body's mentions of accounts that can see the space; returns the accounts
    mentioned now that were not before (for :func:`notify`)."""
    handles = mentioned_handles(post.body)
    before: set[int] = set()
    if replace:
        before = set(db.session.scalars(db.delete(Mention).where(Mention.post_id == post.id).returning(Mention.account_id)))
    if not handles:
        return []
    added = []
    for account in db.session.scalars(select(Account).where(Account.handle.in_(handles))):
        if access.can_see(account, space):
            db.session.add(Mention(post_id=post.id, account_id=account.id))
            if account.id not in before:
                added.append(account.id)
    return added


def notify(post: Post, author: Account, mentioned: list[int]) -> None:
    """Once the transaction commits: a ``mention`` event to each newly mentioned account's
    sockets, except the author and anyone who muted or blocked the author."""
    mentioned = [a for a in mentioned if a != author.id]
    if not mentioned:
        return
    filtering = set(db.session.scalars(select(PersonalFilter.owner_id).where(
        PersonalFilter.owner_id.in_(mentioned), PersonalFilter.target_id == author.id)))
    notice = {"space_id": post.space_id, "thread_id": post.thread_id, "post_id": post.id, "seq": post.seq,
              "by": {"id": author.id, "handle": author.handle, "display_name": author.display_name}}
    for account_id in mentioned:
        if account_id not in filtering:
            on_commit(socketio.emit, MENTION_EVENT, notice, to=space_log.account_room(account_id))
