"""Accounts over REST: register, log in, refresh, log out, me; admin role changes.

Suspension is a moderation action with a reason and an audit entry: community/moderation/api.py."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask_jwt_extended import get_jwt, jwt_required
from flask_limiter.util import get_remote_address
from marshmallow import validate

from core import accounts, passwords
from core.accounts import Account, AccountStatus, GlobalRole
from core.auth import (BEARER, authenticated, current_account, current_session, issue_tokens, limit_password_checks,
                       password_check_identity, require_admin)
from core.errors import ApiBlueprint, not_found
from core.extensions import db, limiter
from core.passwords import NewPassword
from core.validation import EmailAddress, Handle, SafeText, StrictSchema, Tags

blp = ApiBlueprint("accounts", __name__, url_prefix="/api/v1", description="Accounts and tokens")


class RegisterArgs(StrictSchema):
    email = EmailAddress(required=True)
    handle = Handle(required=True, metadata={"description": "Used in @mentions; 3-30 of a-z, 0-9, _."})
    display_name = SafeText(required=True, validate=validate.Length(min=1, max=80))
    password = NewPassword(required=True)


class LoginArgs(StrictSchema):
    email = EmailAddress(required=True)
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(max=256))


class AccountOut(ma.Schema):
    id = ma.fields.Integer()
    handle = ma.fields.String()
    display_name = ma.fields.String()
    role = ma.fields.Enum(GlobalRole)
    status = ma.fields.Enum(AccountStatus)
    created_at = ma.fields.DateTime()


class MeOut(AccountOut):
    email = ma.fields.String()
    interests = ma.fields.List(ma.fields.String(), metadata={"description": "Stated goals and causes."})


class MeArgs(StrictSchema):
    display_name = SafeText(validate=validate.Length(max=80))
    interests = Tags(load_default=ma.missing, metadata={"description": "Goals (life purposes) and causes (societal purposes) you care about; "
                                              "they count towards your alignment with a brand's purposes."})


class TokensOut(ma.Schema):
    access_token = ma.fields.String()
    refresh_token = ma.fields.String()
    token_type = ma.fields.String()
    account = ma.fields.Nested(MeOut)


class RoleArgs(StrictSchema):
    role = ma.fields.Enum(GlobalRole, required=True)


def _tokens_for(account: Account) -> dict:
    return {**issue_tokens(account, accounts.start_session(account)), "account": account}


@blp.route("/auth/register", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTER"], key_func=lambda: f"register:{get_remote_address()}")
@blp.arguments(RegisterArgs)
@blp.response(201, TokensOut)
def register(args):
    """Create a member account and log it in."""
    return _tokens_for(accounts.register_account(**args))


@blp.route("/auth/login", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], key_func=lambda: f"login:{get_remote_address()}")
@limit_password_checks
@blp.arguments(LoginArgs)
@blp.response(200, TokensOut)
def login(args):
    """Exchange email and password for an access token (short-lived) and a refresh token."""
    return _tokens_for(accounts.authenticate(args["email"], args["password"]))


@blp.route("/auth/refresh", methods=["POST"])
@jwt_required(refresh=True)
@blp.response(200, TokensOut)
@blp.doc(security=BEARER, description="Send the refresh token as the bearer token.")
def refresh():
    """Rotate the refresh token and get a new access token; the old refresh token stops working.

    Presenting a refresh token that is no longer current (used before, or by a concurrent
    refresh that won) ends the whole session: 401 ``token-revoked``."""
    presented = get_jwt()["jti"]
    return {**issue_tokens(current_account(), current_session(), replacing=presented), "account": current_account()}


@blp.route("/auth/logout", methods=["POST"])
@authenticated
@blp.response(204)
def logout():
    """Revoke this login session: its access and refresh tokens are refused from now on."""
    accounts.revoke_session(current_session())


@blp.route("/me", methods=["GET"])
@authenticated
@blp.response(200, MeOut)
def me():
    """The account of the access token."""
    return current_account()


@blp.route("/me", methods=["PATCH"])
@authenticated
@blp.arguments(MeArgs)
@blp.response(200, MeOut)
def update_me(args):
    """Change your display name or state your goals and causes."""
    return accounts.update_profile(current_account(), **args)


class PasswordChangeArgs(StrictSchema):
    current_password = ma.fields.String(required=True, load_only=True, validate=validate.Length(max=256))
    new_password = NewPassword(required=True)


class ResetRequestArgs(StrictSchema):
    email = EmailAddress(required=True)


class ResetConfirmArgs(StrictSchema):
    token = ma.fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=1000),
                             metadata={"description": "The token of the e-mailed link (after `#token=`)."})
    new_password = NewPassword(required=True)


@blp.route("/me/password", methods=["POST"])
@authenticated
@limit_password_checks
@blp.arguments(PasswordChangeArgs)
@blp.response(204)
def change_password(args):
    """Change your password (the current one is required); your other login sessions end, this one stays."""
    passwords.change_password(current_account(), current_session(), args["current_password"], args["new_password"])


@blp.route("/auth/password-reset", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_PASSWORD_RESET"], key_func=lambda: f"reset:{get_remote_address()}")
@limiter.limit(lambda: current_app.config["RATELIMIT_PASSWORD_RESET"], key_func=lambda: f"reset:{password_check_identity()}")
@blp.arguments(ResetRequestArgs)
@blp.response(202)
def request_password_reset(args):
    """E-mail a password-reset link; answered 202 whether or not the address has an account."""
    passwords.request_reset(args["email"])


@blp.route("/auth/password-reset/confirm", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], key_func=lambda: f"reset-confirm:{get_remote_address()}")
@blp.arguments(ResetConfirmArgs)
@blp.response(204)
def confirm_password_reset(args):
    """Set a new password with the e-mailed link's token; every login session of the account ends."""
    passwords.confirm_reset(args["token"], args["new_password"])


def _account_or_404(account_id: int) -> Account:
    account = db.session.get(Account, account_id)
    if account is None:
        raise not_found("account")
    return account


@blp.route("/accounts/<id:account_id>/role", methods=["PUT"])
@require_admin
@blp.arguments(RoleArgs)
@blp.response(200, AccountOut)
def change_role(args, account_id):
    """Set an account's global role: member, analyst or admin (admin)."""
    return accounts.set_role(_account_or_404(account_id), args["role"])

