"""Accounts, password hashing and login sessions.

A login session is a row: every access and refresh token carries its id (``sid``), so
revoking the row (logout) or suspending the account refuses the token on the very next
request. Refresh tokens rotate: each refresh issues a new one and remembers its ``jti``;
presenting an older refresh token again means it was stolen, and the session is revoked.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from blinker import Namespace
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import JSON, ForeignKey, String, bindparam, false as sa_false, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from core import sql
from core.cooperative import off_the_loop
from core.errors import ApiError, conflict
from core.outbox import on_commit
from core.extensions import db, string_enum, utcnow


#: Sent after a commit that revokes access: ``sender`` is the account id, with ``session_id``
#: (one login session, or None for all of the account's) and ``reason``. The real-time layer
#: listens and disconnects the affected sockets at once; core imports no domain package.
access_revoked = Namespace().signal("access-revoked")
#: Sent after a new account is committed (``sender`` is the Account): the brand side links
#: the known stakeholders with the same email and records their conversion.
account_registered = Namespace().signal("account-registered")


class GlobalRole(str, enum.Enum):
    member = "member"
    analyst = "analyst"
    admin = "admin"


class AccountStatus(str, enum.Enum):
    active = "active"
    suspended = "suspended"


class TrustLevel(enum.IntEnum):
    """Discourse-style trust levels (``accounts.trust_level``); recognition/trust.py computes them."""

    new = 0
    basic = 1  # lifts the new-member limits on links; may invite event guests
    member = 2
    regular = 3


class Account(db.Model):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    handle: Mapped[str] = mapped_column(String(30), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[GlobalRole] = mapped_column(
        string_enum(GlobalRole), default=GlobalRole.member
    )
    status: Mapped[AccountStatus] = mapped_column(
        string_enum(AccountStatus), default=AccountStatus.active
    )
    #: Goals (life purposes) and causes (societal purposes) the person states, as tags.
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Discourse-style trust level: 0 new, 1 basic, 2 member, 3 regular. Computed from activity by the
    #: recognition job (``recognition/trust.py``) unless ``trust_level_locked`` (set by an admin);
    #: read per request and per socket event like the role, so a change applies at once.
    trust_level: Mapped[int] = mapped_column(default=0, server_default="0")
    trust_level_locked: Mapped[bool] = mapped_column(default=False, server_default=sa_false())

    @property
    def is_admin(self) -> bool:
        return self.role is GlobalRole.admin

    @property
    def is_active(self) -> bool:
        return self.status is AccountStatus.active


class LoginSession(db.Model):
    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    refresh_jti: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"], parallelism=cfg["ARGON2_PARALLELISM"]
    )


def hash_password(password: str) -> str:
    """Argon2id, a memory-hard KDF with a per-password salt; computed off the event loop."""
    return off_the_loop(_hasher().hash, password)


def password_matches(hasher: PasswordHasher, stored: str, password: str) -> bool:
    """Whether ``password`` is the one ``stored`` was hashed from; verified off the event loop
    (argon2 takes tens to hundreds of milliseconds and releases the GIL meanwhile)."""
    try:
        return off_the_loop(hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash(time_cost: int, memory_cost: int, parallelism: int) -> str:
    """A hash of a random password at these costs, computed once per process: an unknown email
    is verified against it, so that a login costs one verification whether the email is known or not."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism).hash(uuid.uuid4().hex)


def dummy_hash() -> str:
    """The process's dummy hash for the app's current argon2 costs (see ``_dummy_hash``)."""
    cfg = current_app.config
    return _dummy_hash(cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"], cfg["ARGON2_PARALLELISM"])


def register_account(*, email: str, handle: str, display_name: str, password: str) -> Account:
    """Create a member account; 409 when the email or handle is taken (also under a race).

    The password is hashed first, outside any transaction, and whether or not the email is taken."""
    password_hash = hash_password(password)
    taken = db.session.scalar(select(Account.email, Account.handle).where((Account.email == email) | (Account.handle == handle)))
    if taken is not None:
        raise conflict("An account with this email or handle already exists.", "account-exists")
    account = Account(email=email, handle=handle, display_name=display_name, password_hash=password_hash)
    db.session.add(account)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise conflict("An account with this email or handle already exists.", "account-exists") from None
    account_registered.send(account)
    return account


def check_password(account: Account, password: str) -> bool:
    """Whether ``password`` is the account's (one argon2 verification, off the event loop)."""
    return password_matches(_hasher(), account.password_hash, password)


def authenticate(email: str, password: str) -> Account:
    """The account for these credentials, or 401; the same work is done for unknown emails."""
    hasher = _hasher()
    account = db.session.scalar(select(Account).where(Account.email == email))
    db.session.commit()  # no transaction (nor pooled connection) held while argon2 runs
    stored = account.password_hash if account else dummy_hash()
    if not password_matches(hasher, stored, password) or account is None:
        raise ApiError(401, "Email or password is wrong.", type_="invalid-credentials")
    if not account.is_active:
        raise ApiError(403, "This account is suspended.", type_="account-suspended")
    if hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    return account


def start_session(account: Account) -> LoginSession:
    session = LoginSession(account_id=account.id)
    db.session.add(session)
    db.session.flush()
    return session


_LIVE_SESSION = (  # built once: every request and every Socket.IO event runs it
    select(*sql.columns(LoginSession, Account))
    .join(Account, Account.id == LoginSession.account_id)
    .where(LoginSession.id == bindparam("session_id"), LoginSession.revoked_at.is_(None))
)


def find_live_session(session_id: str) -> tuple[LoginSession, Account] | None:
    """The session and its account, when neither is revoked nor suspended."""
    row = sql.run(_LIVE_SESSION, {"session_id": session_id}).first()
    if row is None:
        return None
    session, account = sql.loaded(row, LoginSession, Account)
    return (session, account) if account.is_active else None


def rotate_refresh_jti(session: LoginSession, presented: str, new: str) -> bool:
    """Make ``new`` the session's refresh jti if ``presented`` still is and the session is live
    (one conditional UPDATE: of two concurrent rotations, one wins); whether it did."""
    won = db.session.execute(
        db.update(LoginSession)
        .where(LoginSession.id == session.id, LoginSession.refresh_jti == presented, LoginSession.revoked_at.is_(None))
        .values(refresh_jti=new)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if won:
        set_committed_value(session, "refresh_jti", new)
    return won


def revoke_session(session: LoginSession, reason: str = "logged_out") -> None:
    session.revoked_at = utcnow()
    db.session.commit()
    access_revoked.send(session.account_id, session_id=session.id, reason=reason)


def revoke_all_sessions(account_id: int) -> int:
    """Revoke every live session of an account (suspension, password change); returns how many."""
    result = db.session.execute(
        db.update(LoginSession)
        .where(LoginSession.account_id == account_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount


def set_status(account: Account, status: AccountStatus) -> Account:
    account.status = status
    if status is AccountStatus.suspended:
        revoke_all_sessions(account.id)
        on_commit(access_revoked.send, account.id, session_id=None, reason="suspended")
    return account


def anonymise_account(account: Account) -> None:
    """Erase the account's personal data for good: no email, handle or name left, no way to sign in.

    The row stays (posts and threads keep an author id) as "Erased member".
    """
    account.email = f"erased-{account.id}@erased.invalid"
    account.handle = f"erased_{account.id}"
    account.display_name = "Erased member"
    account.password_hash = hash_password(uuid.uuid4().hex)  # random and forgotten: nobody can sign in
    account.interests = []
    account.status = AccountStatus.suspended
    revoke_all_sessions(account.id)
    on_commit(access_revoked.send, account.id, session_id=None, reason="erased")


def update_profile(account: Account, **changes) -> Account:
    """Set the given profile fields (display name, interests)."""
    for name, value in changes.items():
        setattr(account, name, value)
    return account


def set_role(account: Account, role: GlobalRole) -> Account:
    account.role = role
    return account
