"""What moderation enforces on every post path (REST and Socket.IO share these checks).

- a ban keeps an account out of a space (no joining, posting, reacting or live events);
- a mute, until its end, keeps an account from posting, editing and reacting there;
- slow mode lets a member post at most once per ``Space.slow_mode_seconds`` there;
- new-member limits: during their first ``NEW_MEMBER_HOURS`` in the space, a member of trust
  level 0 (``accounts.trust_level``, recognition/trust.py) posts at most ``NEW_MEMBER_POSTS_PER_HOUR``
  and no links (images are links); trust level basic (1) and above lifts these limits;
- hidden posts are seen only by space staff and their author, and a thread whose opening
  post is hidden leaves thread listings (unlisted, as Discourse does: its title may be the
  problem; a direct link still opens it); personal mutes and blocks
  leave the muted or blocked author's posts out of one member's listings.

Space staff (admins, the brand's managers, the space's moderators and managers) are exempt
from sanctions, slow mode and new-member limits.

Direct conversations (``Visibility.direct``) have no staff and no sanctions; instead nobody
reaches a person across a personal block (either way) or a suspended account, a one-to-one
takes no posts once the other person has left it, and accounts younger than
``NEW_MEMBER_HOURS`` send no links there unless their trust level is basic or above.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, case, exists, func, or_, select, true
from sqlalchemy.orm import aliased

from community import access
from community.models import (
    ConversationKind, DirectConversation, Membership, PersonalFilter, PersonalFilterKind, Post, Sanction, SanctionKind, Space,
    SpaceRole, Thread, Visibility,
)
from core import sql
from core.accounts import Account, AccountStatus, TrustLevel
from core.errors import TooSoon, conflict, forbidden
from core.extensions import db, utcnow
from purpose.models import BrandStaff, Purpose, StaffRole

LINK_PATTERN = re.compile(r"(?i)\b(?:https?://|www\.)\S|\b[a-z0-9-]+\.(?:com|net|org|io|ly|gg|co|xyz|info|biz)\b")


_IN_FORCE = select(*sql.columns(Sanction)).where(  # built once: every post runs it
    Sanction.account_id == bindparam("account_id"), Sanction.space_id == bindparam("space_id"),
    Sanction.lifted_at.is_(None), or_(Sanction.until.is_(None), Sanction.until > bindparam("now")),
)


def sanctions_in_force(account_id: int, space_id: int) -> dict[SanctionKind, Sanction]:
    """The account's mute and ban in force in the space now (per kind, the one ending last)."""
    params = {"account_id": account_id, "space_id": space_id, "now": utcnow()}
    rows = [sql.loaded(row, Sanction)[0] for row in sql.run(_IN_FORCE, params)]
    in_force: dict[SanctionKind, Sanction] = {}
    for sanction in rows:
        known = in_force.get(sanction.kind)
        if known is None or (known.until is not None and (sanction.until is None or sanction.until > known.until)):
            in_force[sanction.kind] = sanction
    return in_force


def _until_text(until: datetime | None) -> str:
    return "for good" if until is None else f"until {until.isoformat(timespec='seconds')}"


def _refuse_sanctioned(in_force: dict[SanctionKind, Sanction]) -> None:
    if SanctionKind.ban in in_force:
        raise forbidden(f"You are banned from this space {_until_text(in_force[SanctionKind.ban].until)}.", "banned")
    if SanctionKind.mute in in_force:
        raise forbidden(f"You are muted in this space {_until_text(in_force[SanctionKind.mute].until)}.", "muted")


def require_not_banned(account: Account, space: Space) -> None:
    """403 ``banned`` while a ban of the account from the space is in force."""
    ban = sanctions_in_force(account.id, space.id).get(SanctionKind.ban)
    if ban is not None:
        _refuse_sanctioned({SanctionKind.ban: ban})


def require_not_silenced(account: Account, space: Space) -> None:
    """403 ``banned`` or ``muted`` while a ban or mute is in force (staff are never sanctioned)."""
    in_force = sanctions_in_force(account.id, space.id)
    if in_force and not access.is_space_staff(account, space):
        _refuse_sanctioned(in_force)


def _last_post_at(account: Account, space: Space) -> datetime | None:
    return db.session.scalar(select(func.max(Post.created_at)).where(Post.space_id == space.id, Post.author_id == account.id))


def _check_slow_mode(account: Account, space: Space, now: datetime) -> None:
    last = _last_post_at(account, space)
    if last is None:
        return
    wait = space.slow_mode_seconds - (now - last).total_seconds()
    if wait > 0:
        raise TooSoon(f"Slow mode: one post per {space.slow_mode_seconds} s in this space.", "slow-mode", wait)


def _check_new_member(account: Account, space: Space, body: str | None, now: datetime) -> None:
    cfg = current_app.config
    if account.trust_level >= TrustLevel.basic:  # read with the account on this request or socket event
        return
    membership = access.membership_of(account, space)
    if membership is None or now - membership.joined_at >= timedelta(hours=cfg["NEW_MEMBER_HOURS"]):
        return
    if body and LINK_PATTERN.search(body):
        raise forbidden(f"New members may not post links during their first {cfg['NEW_MEMBER_HOURS']} hours here.", "new-member-links")
    hour_ago = now - timedelta(hours=1)
    recent = list(db.session.scalars(
        select(Post.created_at).where(Post.space_id == space.id, Post.author_id == account.id, Post.created_at > hour_ago)
        .order_by(Post.created_at)
    ))
    limit = cfg["NEW_MEMBER_POSTS_PER_HOUR"]
    if len(recent) >= limit:
        wait = (recent[-limit] + timedelta(hours=1) - now).total_seconds()
        raise TooSoon(f"New members post at most {limit} times an hour here.", "new-member-limit", wait)


def check_can_post(account: Account, space: Space, body: str | None = None) -> None:
    """Everything moderation enforces on a new post or thread by a member (after ``require_member``).

    One query in the usual case (no sanction, no slow mode, no new-member limits): only
    when there is something to enforce does it ask whether the account is staff (exempt).
    """
    if space.visibility is Visibility.direct:
        _check_direct_post(account, space, body)
        return
    in_force = sanctions_in_force(account.id, space.id)
    if not (in_force or space.slow_mode_seconds or space.new_member_limits):
        return
    if access.is_space_staff(account, space):
        return
    _refuse_sanctioned(in_force)
    now = utcnow()
    if space.slow_mode_seconds:
        _check_slow_mode(account, space, now)
    if space.new_member_limits:
        _check_new_member(account, space, body, now)


def check_reply_allowed(account: Account, parent: Post) -> None:
    """403 ``blocked`` when the parent's author has blocked the replying account."""
    blocked = db.session.scalar(select(PersonalFilter.id).where(
        PersonalFilter.owner_id == parent.author_id, PersonalFilter.target_id == account.id,
        PersonalFilter.kind == PersonalFilterKind.block,
    ))
    if blocked is not None:
        raise forbidden("The author of this post has blocked you.", "blocked")


# Direct conversations -----------------------------------------------------------------


def is_new_account(account: Account, now: datetime | None = None) -> bool:
    """Younger than ``NEW_MEMBER_HOURS`` and still at trust level 0: new-member limits apply to its
    direct conversations."""
    if account.trust_level >= TrustLevel.basic:
        return False
    age = (now or utcnow()) - account.created_at
    return age < timedelta(hours=current_app.config["NEW_MEMBER_HOURS"])


def blocked_either_way(account_id: int, others: list[int]) -> set[int]:
    """Those of ``others`` who blocked ``account_id`` or whom it blocked (one query)."""
    if not others:
        return set()
    rows = db.session.execute(select(PersonalFilter.owner_id, PersonalFilter.target_id).where(
        PersonalFilter.kind == PersonalFilterKind.block,
        or_((PersonalFilter.owner_id == account_id) & PersonalFilter.target_id.in_(others),
            (PersonalFilter.target_id == account_id) & PersonalFilter.owner_id.in_(others)),
    ))
    return {target if owner == account_id else owner for owner, target in rows}


def require_reachable(account: Account, others: list[Account]) -> None:
    """403 when ``account`` may not start (or widen) a conversation with ``others``: a suspended
    account (``account-suspended``), a personal block either way (``blocked``)."""
    for other in others:
        if not other.is_active:
            raise forbidden(f"@{other.handle}'s account is suspended; it cannot be messaged.", "account-suspended")
    blocked = blocked_either_way(account.id, [o.id for o in others])
    if blocked:
        handles = ", ".join(f"@{o.handle}" for o in others if o.id in blocked)
        raise forbidden(f"You cannot message {handles}: one of you has blocked the other.", "blocked")


_OTHER = case((DirectConversation.pair_low_id == bindparam("account_id"), DirectConversation.pair_high_id),
              else_=DirectConversation.pair_low_id)
_BLOCK_EITHER_WAY = exists().where(PersonalFilter.kind == PersonalFilterKind.block, or_(
    (PersonalFilter.owner_id == bindparam("account_id")) & (PersonalFilter.target_id == _OTHER),
    (PersonalFilter.owner_id == _OTHER) & (PersonalFilter.target_id == bindparam("account_id")),
))
_DIRECT_POST = select(  # built once, one round trip per message: the conversation's kind and its other person
    DirectConversation.kind,
    exists().where(Membership.space_id == DirectConversation.space_id, Membership.account_id == _OTHER),
    _BLOCK_EITHER_WAY,
    select(Account.status).where(Account.id == _OTHER).scalar_subquery(),
).where(DirectConversation.space_id == bindparam("space_id"))


def _check_direct_post(account: Account, space: Space, body: str | None) -> None:
    if body and LINK_PATTERN.search(body) and is_new_account(account):
        hours = current_app.config["NEW_MEMBER_HOURS"]
        raise forbidden(f"New accounts may not send links during their first {hours} hours.", "new-member-links")
    row = sql.run(_DIRECT_POST, {"account_id": account.id, "space_id": space.id}).first()
    if row is None or row[0] != ConversationKind.pair:  # a group: blocks filter what each one reads
        return
    _kind, other_there, blocked, other_status = row
    if not other_there:
        raise conflict("The other person has left this conversation; start it again to invite them back.", "participant-left")
    if blocked:
        raise forbidden("You cannot message this person: one of you has blocked the other.", "blocked")
    if other_status != AccountStatus.active:
        raise forbidden("This account is suspended; it cannot be messaged.", "account-suspended")


# Visibility of posts -----------------------------------------------------------------


def filtered_out_authors(account: Account):
    """Accounts whose posts ``account`` muted or blocked for itself (a subquery)."""
    return select(PersonalFilter.target_id).where(PersonalFilter.owner_id == account.id)


def _is_staff_clause(account: Account, space):
    """"``account`` is staff of ``space``" in SQL, so listings spend no extra round trips on it.

    ``space`` is a Space, or the ``Space`` entity itself for a query over the spaces it joins."""
    if account.is_admin:
        return true()
    # ``space`` may be the ``Space`` entity of the outer query (search over every space): correlate to it.
    brand = select(Purpose.brand_id).where(Purpose.id == space.purpose_id).correlate_except(Purpose).scalar_subquery()
    manages = exists().where(BrandStaff.account_id == account.id, BrandStaff.brand_id == brand,
                             BrandStaff.role == StaffRole.manager)
    moderates = exists().where(  # two comparisons, not IN (a list): search prebuilds this (core/sql.py)
        Membership.space_id == space.id, Membership.account_id == account.id,
        or_(Membership.role == SpaceRole.moderator, Membership.role == SpaceRole.manager),
    )
    return or_(manages, moderates)


def visible_posts_clause(account: Account, space: Space):
    """WHERE clause for listings: no hidden posts (except for staff and their author), no
    posts by authors the viewer muted or blocked."""
    not_filtered = Post.author_id.not_in(filtered_out_authors(account))
    return not_filtered & or_(Post.hidden.is_(False), Post.author_id == account.id, _is_staff_clause(account, space))


_OPENING, _EARLIER = aliased(Post, name="opening_post"), aliased(Post, name="earlier_post")  # made once: aliased() is slow
# (aliases, as the outer query may select posts too: search)


def _opening_post_hidden():
    """"The thread's opening post (its lowest seq) is hidden", correlated to ``Thread``."""
    opening, earlier = _OPENING, _EARLIER
    # Correlated to the outer ``Thread`` explicitly: nested two levels down, auto-correlation left
    # ``threads`` in this subquery's FROM, so it took the lowest seq of every thread in the
    # database and only the oldest thread could ever be unlisted.
    first_seq = (select(func.min(earlier.seq)).where(earlier.thread_id == Thread.id)
                 .correlate_except(earlier).scalar_subquery())
    return (exists().where(opening.thread_id == Thread.id, opening.seq == first_seq, opening.hidden.is_(True))
            .correlate_except(opening))


def visible_threads_clause(account: Account, space: Space):
    """WHERE clause for thread listings: a thread whose opening post is hidden is left out,
    except for staff and the thread's author."""
    return or_(~_opening_post_hidden(), Thread.author_id == account.id, _is_staff_clause(account, space))

