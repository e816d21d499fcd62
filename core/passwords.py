"""Password rules, password changes and resets by e-mail.

Rules (NIST SP 800-63B, section 5.1.1.2): at least ``MIN_LENGTH`` characters (NIST asks for 8;
the platform keeps the 10 it always had), at most ``MAX_LENGTH`` (NIST: accept at least 64), any
Unicode, no composition rules, and never one on the list of common passwords shipped in
``core/data/common-passwords.txt`` (compared case-insensitively).

A reset link carries a token signed with ``SECRET_KEY`` (itsdangerous, timestamped): the
account's id and a fingerprint of its current password hash. It works for
``PASSWORD_RESET_MINUTES``, and only once: setting the new password changes the hash, so the
fingerprint no longer matches, for this link and every other one sent before.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache
from pathlib import Path

import marshmallow as ma
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from core import mail
from core.accounts import Account, LoginSession, access_revoked, check_password, hash_password
from core.errors import ApiError
from core.extensions import db, utcnow

MIN_LENGTH = 10
MAX_LENGTH = 256
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
_RESET_SALT = "password-reset"


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased (read once per process)."""
    return frozenset(line.strip() for line in COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines() if line.strip())


class NewPassword(ma.fields.String):
    """A password being chosen: length within the rules and not a common password."""

    default_error_messages = {
        "too_short": f"At least {MIN_LENGTH} characters.",
        "too_long": f"At most {MAX_LENGTH} characters.",
        "common": "This password is on a list of common (breached) passwords; choose another.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("load_only", True)
        kwargs.setdefault("metadata", {"description": f"{MIN_LENGTH}-{MAX_LENGTH} characters, not a common password.",
                                       "minLength": MIN_LENGTH, "maxLength": MAX_LENGTH})
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        password = super()._deserialize(value, attr, data, **kwargs)
        if len(password) < MIN_LENGTH:
            raise self.make_error("too_short")
        if len(password) > MAX_LENGTH:
            raise self.make_error("too_long")
        if password.lower() in common_passwords():
            raise self.make_error("common")
        return password


def _end_sessions(account_id: int, *, keep: str | None, reason: str) -> None:
    """Revoke the account's live sessions but ``keep`` (commits); their sockets are cut off."""
    live = LoginSession.account_id == account_id, LoginSession.revoked_at.is_(None), LoginSession.id != (keep or "")
    ended = list(db.session.scalars(select(LoginSession.id).where(*live)))
    db.session.execute(db.update(LoginSession).where(*live).values(revoked_at=utcnow()))
    db.session.commit()
    for session_id in ended:
        access_revoked.send(account_id, session_id=session_id, reason=reason)


def change_password(account: Account, session: LoginSession, current: str, new: str) -> None:
    """Set a new password after checking the current one (403 ``password-mismatch``); every
    other login session of the account ends, this one stays."""
    db.session.commit()  # no transaction held while argon2 runs
    if not check_password(account, current):
        raise ApiError(403, "The current password is wrong; nothing was changed.", type_="password-mismatch")
    account.password_hash = hash_password(new)
    _end_sessions(account.id, keep=session.id, reason="password_changed")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_RESET_SALT)


def _fingerprint(password_hash: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def reset_token(account: Account) -> str:
    return _serializer().dumps({"account": account.id, "password": _fingerprint(account.password_hash)})


def request_reset(email: str) -> None:
    """E-mail a reset link when ``email`` is an active account's; nothing otherwise (the caller
    answers the same either way). The mail goes out after the read transaction has ended."""
    account = db.session.scalar(select(Account).where(Account.email == email))
    db.session.commit()
    if account is None or not account.is_active:
        return
    cfg = current_app.config
    link = f"{cfg['PUBLIC_URL']}/reset-password#token={reset_token(account)}"
    text = (f"Hello {account.display_name},\n\nSomeone (we hope you) asked to reset the password of your account "
            f"@{account.handle}. To choose a new password, open this link within {cfg['PASSWORD_RESET_MINUTES']} "
            f"minutes:\n\n{link}\n\nIt works once. If you did not ask, ignore this e-mail: your password stays as it is.\n")
    mail.send_later(to=account.email, subject="Reset your password", text=text)


def _invalid_link() -> ApiError:
    return ApiError(400, "This reset link is invalid, expired or already used; ask for a new one.", type_="invalid-reset-token")


def confirm_reset(token: str, new: str) -> Account:
    """Set a new password from a reset token and end every session of the account; 400
    ``invalid-reset-token`` when the token is forged, expired, already used or its account suspended."""
    max_age = current_app.config["PASSWORD_RESET_MINUTES"] * 60
    try:
        claims = _serializer().loads(token, max_age=max_age)
        account = db.session.get(Account, int(claims["account"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        account = None
    if account is None or not account.is_active or not hmac.compare_digest(claims["password"], _fingerprint(account.password_hash)):
        raise _invalid_link()
    db.session.commit()  # no transaction held while argon2 runs
    used = account.password_hash
    changed = db.session.execute(  # conditional: of two uses of one link at once, one sets the password
        db.update(Account).where(Account.id == account.id, Account.password_hash == used)
        .values(password_hash=hash_password(new)).execution_options(synchronize_session="fetch")
    ).rowcount
    if not changed:
        db.session.rollback()
        raise _invalid_link()
    _end_sessions(account.id, keep=None, reason="password_reset")
    return account
