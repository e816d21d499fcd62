"""The registry of notification kinds: the built-in ones, and any another wing registers
(badges, events, ideas) from its ``init_*``.

A kind says which e-mail setting includes it (``email``: ``"mentions_replies"``, ``"all"`` or
``None`` for never by e-mail), whether the recipient's levels, personal mutes and blocks and
the visibility of the space apply (``personal``: False for notices that concern the
recipient's own standing, such as moderation outcomes), and a one-line summary for e-mails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Kind:
    name: str
    summary: Callable[[dict], str]
    email: str | None = "all"
    personal: bool = True


_KINDS: dict[str, Kind] = {}


def register_kind(name: str, summary: Callable[[dict], str], *, email: str | None = "all", personal: bool = True) -> Kind:
    """Add a kind (idempotent for the same definition); refuses a name taken by another definition."""
    kind = Kind(name, summary, email, personal)
    existing = _KINDS.get(name)
    if existing is not None and existing != kind:
        raise ValueError(f"notification kind {name!r} is already registered differently")
    if len(name) > 40:
        raise ValueError("a kind's name has at most 40 characters")
    _KINDS[name] = kind
    return kind


def kind(name: str) -> Kind:
    return _KINDS[name]


def kinds() -> dict[str, Kind]:
    return dict(_KINDS)


def _by(n: dict) -> str:
    return n.get("actor_handle") and f"@{n['actor_handle']}" or "Someone"


MENTION = register_kind("mention", lambda n: f"{_by(n)} mentioned you", email="mentions_replies")
REPLY = register_kind("reply", lambda n: f"{_by(n)} replied to your post", email="mentions_replies")
REACTION = register_kind("reaction", lambda n: f"{_by(n)} and others reacted to your post" if n.get("count", 1) > 1
                         else f"{_by(n)} reacted to your post", email=None)
NEW_THREAD = register_kind("new_thread", lambda n: f"{_by(n)} started a thread in a space you follow")
WATCHED_POST = register_kind("watched_post", lambda n: f"{_by(n)} posted in a thread you watch")
DIRECT_MESSAGE = register_kind("direct_message", lambda n: f"{_by(n)} sent you a message", email="mentions_replies")
MODERATION = register_kind("moderation", lambda n: f"Moderation: {(n.get('data') or {}).get('action', 'update')}",
                           email=None, personal=False)
