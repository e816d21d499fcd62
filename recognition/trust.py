"""Trust levels in the spirit of Discourse's: 0 new, 1 basic, 2 member, 3 regular.

Computed from activity by the same job that grants badges (``recompute_trust_levels``): days since the
account was made, posts written, distinct other members who reacted to them, and flags upheld
against them (flags on their posts that staff resolved ``actioned``). The thresholds are settings
(``TRUST_*`` in core/config.py, README's table). A level is stored on the account
(``accounts.trust_level``); an admin may set and lock it (``trust_level_locked``), and the job leaves a
locked level alone. Levels may go down as well as up (flags upheld later).

What a level allows (read from the account row on every request and socket event, like the role):
- links (and images, which are links) in posts: level 0 is held to the new-member limits (the
  existing time-based rule: spaces with new-member limits during the first ``NEW_MEMBER_HOURS``,
  direct conversations for accounts younger than that); basic and above are free of them
  (``community/moderation/rules.py``);
- inviting guests to events needs basic (``events/guests.py``);
- a regular's flag weighs ``FLAG_WEIGHT_REGULAR`` (2) towards ``FLAG_HIDE_THRESHOLD``, everyone
  else's 1 (``community/moderation/actions.py``, docs/moderation.md).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from community.models import Flag, Post, Reaction
from core.accounts import Account, AccountStatus
from core.extensions import db, utcnow

NEW, BASIC, MEMBER, REGULAR = 0, 1, 2, 3
NAMES = {NEW: "new", BASIC: "basic", MEMBER: "member", REGULAR: "regular"}
_LEVELS = ((REGULAR, "REGULAR"), (MEMBER, "MEMBER"), (BASIC, "BASIC"))


def level_for(cfg, days: float, posts: int, reactors: int, upheld: int) -> int:
    """The level these facts earn under the ``TRUST_*`` settings."""
    for level, name in _LEVELS:
        if (days >= cfg[f"TRUST_{name}_DAYS"] and posts >= cfg[f"TRUST_{name}_POSTS"]
                and reactors >= cfg.get(f"TRUST_{name}_REACTORS", 0) and upheld <= cfg[f"TRUST_{name}_MAX_FLAGS_UPHELD"]):
            return level
    return NEW


def _counts(stmt) -> dict[int, int]:
    return dict(db.session.execute(stmt).all())


def recompute_trust_levels() -> dict[int, int]:
    """Set every unlocked active account's computed level; returns {account id: new level} for changes.

    Four grouped queries over the whole community (no per-account round trips), then one UPDATE per
    level that changed. Never commits."""
    cfg, now = current_app.config, utcnow()
    posts = _counts(select(Post.author_id, func.count(Post.id)).where(Post.deleted.is_(False)).group_by(Post.author_id))
    reactors = _counts(select(Post.author_id, func.count(func.distinct(Reaction.account_id)))
                       .join(Reaction, Reaction.post_id == Post.id)
                       .where(Reaction.account_id != Post.author_id).group_by(Post.author_id))
    upheld = _counts(select(Post.author_id, func.count(func.distinct(Flag.post_id))).join(Flag, Flag.post_id == Post.id)
                     .where(Flag.resolution == "actioned").group_by(Post.author_id))
    accounts = db.session.execute(select(Account.id, Account.created_at, Account.trust_level).where(
        Account.trust_level_locked.is_(False), Account.status == AccountStatus.active)).all()
    changed: dict[int, int] = {}
    for account_id, created_at, current in accounts:
        if created_at.tzinfo is None:  # SQLite hands back naive UTC
            created_at = created_at.replace(tzinfo=now.tzinfo)
        days = (now - created_at) / timedelta(days=1)
        level = level_for(cfg, days, posts.get(account_id, 0), reactors.get(account_id, 0), upheld.get(account_id, 0))
        if level != current:
            changed[account_id] = level
    by_level: dict[int, list[int]] = {}
    for account_id, level in changed.items():
        by_level.setdefault(level, []).append(account_id)
    for level, ids in by_level.items():
        db.session.execute(update(Account).where(Account.id.in_(ids), Account.trust_level_locked.is_(False))
                           .values(trust_level=level).execution_options(synchronize_session=False))
    return changed


def set_trust_level(account: Account, level: int, locked: bool) -> Account:
    """An admin sets the level and whether the job may change it (never commits)."""
    account.trust_level = level
    account.trust_level_locked = locked
    return account
