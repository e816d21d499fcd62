"""Moderating people and spaces: mutes and bans, suspension, slow mode and new-member limits,
appeals, and each member's own mutes and blocks.

Same shape as ``community.moderation.actions``: check, change with one audit entry; once the
request or socket event commits, the moderators' room and the member concerned are told.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from community import access, space_log
from community.models import Appeal, Flag, PersonalFilter, PersonalFilterKind, Post, Sanction, SanctionKind, Space
from community.moderation.audit import audit, tell_action, tell_member, tell_moderators
from core import accounts
from core.accounts import Account, AccountStatus
from core.errors import ApiError, conflict, forbidden, not_found
from core.extensions import db, utcnow
from core.outbox import on_commit
from purpose.privacy import account_erasing, register_export_source


def _account(account_id: int) -> Account:
    target = db.session.get(Account, account_id)
    if target is None:
        raise not_found("account")
    return target


# Mutes and bans in a space -------------------------------------------------------------


def _active(space: Space, account_id: int, kind: SanctionKind) -> list[Sanction]:
    now = utcnow()
    return list(db.session.scalars(select(Sanction).where(
        Sanction.space_id == space.id, Sanction.account_id == account_id, Sanction.kind == kind,
        Sanction.lifted_at.is_(None), or_(Sanction.until.is_(None), Sanction.until > now),
    )))


def do_sanction(actor: Account, space: Space, account_id: int, kind: SanctionKind, until: datetime | None, reason: str) -> Sanction:
    """Mute (until a time) or ban (until a time, or for good) an account in a space; replaces the one in force.

    A ban also ends the account's membership and cuts its open sockets off the space at once.
    """
    access.require_staff(actor, space)
    target = _account(account_id)
    if access.is_space_staff(target, space):
        raise forbidden("Space staff cannot be muted or banned; change their role first.", "target-is-staff")
    now = utcnow()
    if until is not None and until <= now:
        raise ApiError(422, "The end must be in the future.", errors={"until": ["Must be in the future."]})
    for old in _active(space, target.id, kind):
        old.lifted_at = now
    sanction = Sanction(space_id=space.id, account_id=target.id, kind=kind, until=until, reason=reason, created_by_id=actor.id)
    db.session.add(sanction)
    before = None
    membership = access.membership_of(target, space) if kind is SanctionKind.ban else None
    if membership is not None:
        before = {"role": membership.role.value}
        db.session.delete(membership)
    action = "member_muted" if kind is SanctionKind.mute else "member_banned"
    entry = audit(actor, action, "account", target.id, space=space, reason=reason, before=before,
                  after={"until": until.isoformat() if until else None})
    if kind is SanctionKind.ban:
        on_commit(access.space_access_lost.send, target.id, space_id=space.id, reason="banned")
    tell_action(entry)
    tell_member(target.id, entry)
    return sanction


def do_lift_sanction(actor: Account, space: Space, account_id: int, kind: SanctionKind, reason: str) -> None:
    access.require_staff(actor, space)
    target = _account(account_id)
    active = _active(space, target.id, kind)
    if not active:
        raise not_found(kind.value)
    now = utcnow()
    for sanction in active:
        sanction.lifted_at = now
    entry = audit(actor, f"{kind.value}_lifted", "account", target.id, space=space, reason=reason,
                  before={"until": max((s.until.isoformat() if s.until else "") for s in active) or None}, after=None)
    tell_action(entry)
    tell_member(target.id, entry)


def active_sanctions_query(space: Space):
    now = utcnow()
    return select(Sanction).where(
        Sanction.space_id == space.id, Sanction.lifted_at.is_(None), or_(Sanction.until.is_(None), Sanction.until > now)
    )


# Accounts (admins) ---------------------------------------------------------------------


def do_set_suspension(actor: Account, account_id: int, suspended: bool, reason: str) -> Account:
    """Suspend (or reinstate) an account, audited: its tokens are refused and its sockets closed at once."""
    if not actor.is_admin:
        raise forbidden("Only platform admins may suspend accounts.")
    target = _account(account_id)
    status = AccountStatus.suspended if suspended else AccountStatus.active
    if target.status is status:
        raise conflict(f"The account is already {status.value}.", f"already-{status.value}")
    if target.id == actor.id:
        raise forbidden("You cannot suspend yourself.")
    audit(actor, "account_suspended" if suspended else "account_reinstated", "account", target.id,
          reason=reason, before={"status": target.status.value}, after={"status": status.value})
    accounts.set_status(target, status)  # once committed with the entry, its sockets disconnect (access_revoked)
    return target


# Space settings ----------------------------------------------------------------------

SETTINGS = ("slow_mode_seconds", "new_member_limits")


def do_update_settings(actor: Account, space: Space, changes: dict, reason: str) -> Space:
    """Slow mode and new-member limits; members see the change as a ``space_settings_changed`` event."""
    access.require_staff(actor, space)
    changes = {k: v for k, v in changes.items() if k in SETTINGS}
    if not changes:
        raise ApiError(422, "Give slow_mode_seconds or new_member_limits.", errors={"_schema": ["Nothing to change."]})
    before = {k: getattr(space, k) for k in changes}
    for name, value in changes.items():
        setattr(space, name, value)
    data = {"space_id": space.id, **{k: getattr(space, k) for k in SETTINGS}}
    space_log.record_event(space.id, "space_settings_changed", data)
    entry = audit(actor, "space_settings_changed", "space", space.id, space=space, reason=reason, before=before, after=changes)
    tell_action(entry)
    return space


# Appeals -----------------------------------------------------------------------------


def _appeal_of(post: Post) -> Appeal | None:
    return db.session.scalar(select(Appeal).where(Appeal.post_id == post.id))


def post_moderation(account: Account, post: Post, space: Space) -> dict:
    """Why a post is hidden, and its appeal: for its author and staff."""
    is_author = post.author_id == account.id
    if not is_author and not access.is_space_staff(account, space):
        raise forbidden("Only the author and the space's staff see this.", "not-the-author")
    appeal = _appeal_of(post)
    by = None if not post.hidden else ("moderator" if post.hidden_by_id is not None else "flags")
    return {
        "post_id": post.id, "hidden": post.hidden, "hidden_reason": post.hidden_reason, "hidden_at": post.hidden_at,
        "hidden_by": by, "deleted": post.deleted, "appeal": appeal,
        "can_appeal": is_author and post.hidden and appeal is None,
    }


def do_appeal(account: Account, post: Post, space: Space, text: str) -> Appeal:
    """The author appeals the hiding of their post, once; the appeal joins the review queue."""
    if post.author_id != account.id:
        raise forbidden("Only the author may appeal.", "not-the-author")
    if not post.hidden:
        raise conflict("This post is not hidden.", "not-hidden")
    if _appeal_of(post) is not None:
        raise conflict("You already appealed for this post.", "already-appealed")
    appeal = Appeal(post_id=post.id, account_id=account.id, text=text)
    db.session.add(appeal)
    try:
        db.session.flush()
    except IntegrityError:  # the same appeal from two tabs at once
        db.session.rollback()
        raise conflict("You already appealed for this post.", "already-appealed") from None
    tell_moderators(space.id, "appeal_added", {"post_id": post.id, "appeal_id": appeal.id})
    return appeal


def do_deny_appeal(actor: Account, post: Post, space: Space, reason: str) -> Appeal:
    access.require_staff(actor, space)
    appeal = _appeal_of(post)
    if appeal is None or appeal.resolved_at is not None:
        raise conflict("This post has no pending appeal.", "no-pending-appeal")
    appeal.resolved_at, appeal.resolution = utcnow(), "denied"
    entry = audit(actor, "appeal_denied", "post", post.id, space=space, reason=reason,
                  before={"appeal": "pending"}, after={"appeal": "denied"})
    tell_action(entry)
    tell_member(post.author_id, entry)
    return appeal


# Personal mutes and blocks -------------------------------------------------------------


def do_personal_filter(owner: Account, target_id: int, kind: PersonalFilterKind) -> tuple[PersonalFilter, bool]:
    """Mute or block another member for yourself; returns it and whether it is new."""
    if target_id == owner.id:
        raise ApiError(422, f"You cannot {kind.value} yourself.", errors={"account_id": ["That is you."]})
    _account(target_id)
    lookup = select(PersonalFilter).where(
        PersonalFilter.owner_id == owner.id, PersonalFilter.target_id == target_id, PersonalFilter.kind == kind
    )
    existing = db.session.scalar(lookup)
    if existing is not None:
        return existing, False
    entry = PersonalFilter(owner_id=owner.id, target_id=target_id, kind=kind)
    db.session.add(entry)
    try:
        db.session.flush()
    except IntegrityError:  # from two tabs at once
        db.session.rollback()
        return db.session.scalar(lookup), False
    return entry, True


def do_remove_personal_filter(owner: Account, target_id: int, kind: PersonalFilterKind) -> None:
    db.session.execute(db.delete(PersonalFilter).where(
        PersonalFilter.owner_id == owner.id, PersonalFilter.target_id == target_id, PersonalFilter.kind == kind
    ))


# The member's rights over their data ---------------------------------------------------


def export_moderation_data(account_id: int) -> tuple[str, dict]:
    """For the account's own export: its flags, appeals, personal mutes and blocks, and sanctions."""
    def rows(stmt, fields):
        return [{f: _plain(getattr(row, f)) for f in fields} for row in db.session.scalars(stmt)]

    return "moderation", {
        "flags": rows(select(Flag).where(Flag.flagger_id == account_id).order_by(Flag.id),
                      ("post_id", "reason", "text", "created_at", "resolution")),
        "appeals": rows(select(Appeal).where(Appeal.account_id == account_id).order_by(Appeal.id),
                        ("post_id", "text", "created_at", "resolution")),
        "mutes_and_blocks": rows(select(PersonalFilter).where(PersonalFilter.owner_id == account_id).order_by(PersonalFilter.id),
                                 ("kind", "target_id", "created_at")),
        "sanctions": rows(select(Sanction).where(Sanction.account_id == account_id).order_by(Sanction.id),
                          ("space_id", "kind", "until", "reason", "created_at", "lifted_at")),
    }


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else getattr(value, "value", value)


def erase_moderation_data(account_id: int) -> None:
    """Before an account is erased: the texts of its flags (its words) go, the flags stay so the
    review queue still counts them; its appeals (its posts are deleted anyway) and its personal
    mutes and blocks, both ways, go. Sanctions and the audit log stay: they record what staff
    did, and the log is append-only; the account itself is anonymised."""
    for stmt in (
        db.update(Flag).where(Flag.flagger_id == account_id).values(text=None),
        db.delete(Appeal).where(Appeal.account_id == account_id),
        db.delete(PersonalFilter).where(or_(PersonalFilter.owner_id == account_id, PersonalFilter.target_id == account_id)),
    ):
        db.session.execute(stmt)


def init_moderation_members() -> None:
    """Called by ``create_app``: erasure and exports reach moderation data (idempotent)."""
    account_erasing.connect(erase_moderation_data)
    register_export_source(account_source=export_moderation_data)
