"""Password rules, password change, reset by e-mail over a real SMTP server, bidi controls in names."""

from __future__ import annotations

import logging
import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from core.config import ConfigError
from core.mail import SmtpServer, parse_smtp_url
from tests.helpers import PASSWORD, register

API = "/api/v1"
NEW_PASSWORD = "a different long passphrase"


def _login(client, email, password=PASSWORD):
    return client.post(f"{API}/auth/login", json={"email": email, "password": password})


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _register(client, password, display_name="Pat"):
    return client.post(f"{API}/auth/register", json={"email": "pat@example.com", "handle": "pat",
                                                     "display_name": display_name, "password": password})


@pytest.mark.parametrize("password, problem", [
    ("nine char", "At least 10 characters."),
    ("x" * 257, "At most 256 characters."),
    ("qwertyuiop", "common"),  # on the shipped list
    ("QwertyUIOP", "common"),  # compared case-insensitively
    ("1234567890", "common"),
])
def test_weak_passwords_are_refused(client, password, problem):
    response = _register(client, password)
    assert response.status_code == 422
    assert problem in response.get_json()["errors"]["password"][0]


@pytest.mark.parametrize("password", ["ten chars!", "y" * 256, "пароль-из-слов", "tidewater ocean walks"])
def test_long_unicode_and_uncommon_passwords_are_accepted(client, password):
    assert _register(client, password).status_code == 201
    assert _login(client, "pat@example.com", password).status_code == 200


def test_change_password_ends_the_other_sessions_and_keeps_this_one(client):
    actor = register(client, "chan")
    other = _login(client, actor.email).get_json()
    wrong = actor.post(f"{API}/me/password", json={"current_password": "not my password", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 403 and wrong.get_json()["type"] == "password-mismatch"
    common = actor.post(f"{API}/me/password", json={"current_password": PASSWORD, "new_password": "password1234"})
    assert common.status_code == 422 and "new_password" in common.get_json()["errors"]
    assert actor.post(f"{API}/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}).status_code == 204
    assert actor.get(f"{API}/me").status_code == 200  # this session stays
    assert client.get(f"{API}/me", headers=_bearer(other["access_token"])).get_json()["type"] == "token-revoked"
    assert client.post(f"{API}/auth/refresh", headers=_bearer(other["refresh_token"])).status_code == 401
    assert _login(client, actor.email).status_code == 401
    assert _login(client, actor.email, NEW_PASSWORD).status_code == 200


def _reset_token(smtp, to: str) -> str:
    recipients, message = smtp.next()
    assert recipients == [to] and message["To"] == to and message["Subject"] == "Reset your password"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    assert message.get_body(("html",)) is not None
    return re.search(r"/reset-password#token=(\S+)", text).group(1)


def test_reset_by_email_sets_a_new_password_once_and_ends_every_session(make_app, smtp):
    app = make_app(SMTP_URL=smtp.url, MAIL_FROM="Tidewater <no-reply@tidewater.example>")
    client = app.test_client()
    actor, bystander = register(client, "rhea"), register(client, "rhea_friend")
    unknown = client.post(f"{API}/auth/password-reset", json={"email": "nobody@example.com"})
    known = client.post(f"{API}/auth/password-reset", json={"email": "RHEA@example.com"})
    assert unknown.status_code == known.status_code == 202 and unknown.data == known.data
    token = _reset_token(smtp, actor.email)
    assert client.post(f"{API}/auth/password-reset", json={"email": bystander.email}).status_code == 202
    _reset_token(smtp, bystander.email)
    assert smtp.empty()  # the unknown address got nothing
    assert actor.get(f"{API}/me").status_code == 200  # asking changes nothing yet
    weak = client.post(f"{API}/auth/password-reset/confirm", json={"token": token, "new_password": "qwertyuiop"})
    assert weak.status_code == 422
    done = client.post(f"{API}/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD})
    assert done.status_code == 204
    assert actor.get(f"{API}/me").get_json()["type"] == "token-revoked"
    assert _login(client, actor.email).status_code == 401 and _login(client, actor.email, NEW_PASSWORD).status_code == 200
    again = client.post(f"{API}/auth/password-reset/confirm", json={"token": token, "new_password": "yet another passphrase"})
    assert again.status_code == 400 and again.get_json()["type"] == "invalid-reset-token"
    assert _login(client, bystander.email).status_code == 200


def test_forged_and_expired_reset_tokens_are_refused(app):
    client = app.test_client()
    actor = register(client, "tess")
    with app.app_context():
        from core.accounts import Account
        from core.extensions import db
        from core.passwords import _fingerprint, reset_token

        account = db.session.get(Account, actor.id)
        fresh = reset_token(account)

        class Earlier(TimestampSigner):
            def get_timestamp(self):
                return int(time.time()) - 31 * 60  # signed 31 minutes ago; links live 30

        expired = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="password-reset", signer=Earlier).dumps(
            {"account": account.id, "password": _fingerprint(account.password_hash)})
    forged = URLSafeTimedSerializer("another secret", salt="password-reset").dumps({"account": actor.id, "password": "x"})
    for token in (expired, forged, fresh[:-2] + "xx", "garbage"):
        response = client.post(f"{API}/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD})
        assert response.status_code == 400 and response.get_json()["type"] == "invalid-reset-token", token
    assert client.post(f"{API}/auth/password-reset/confirm", json={"token": fresh, "new_password": NEW_PASSWORD}).status_code == 204


def test_reset_requests_are_rate_limited_per_address_and_email(make_app):
    app = make_app(RATELIMIT_PASSWORD_RESET="2/hour")
    client = app.test_client()
    codes = [client.post(f"{API}/auth/password-reset", json={"email": "ask@example.com"}).status_code for _ in range(3)]
    assert codes == [202, 202, 429]


def test_without_smtp_url_the_mail_is_logged(client, caplog):
    register(client, "logan")
    with caplog.at_level(logging.WARNING, logger="core.mail"):
        assert client.post(f"{API}/auth/password-reset", json={"email": "logan@example.com"}).status_code == 202
    assert "SMTP_URL is not set" in caplog.text and "reset-password#token=" in caplog.text


def test_smtp_url_settings():
    assert parse_smtp_url("smtp://mail.example:2525") == SmtpServer("mail.example", 2525, "plain")
    assert parse_smtp_url("smtp://u%40x:p%3Aw@mail.example?starttls=1") == SmtpServer("mail.example", 587, "starttls", "u@x", "p:w")
    assert parse_smtp_url("smtps://mail.example") == SmtpServer("mail.example", 465, "ssl")
    with pytest.raises(ConfigError):
        parse_smtp_url("http://mail.example")


@pytest.mark.parametrize("control", ["\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c"])
def test_bidirectional_controls_are_refused_in_single_line_text(client, control):
    actor = register(client, f"bidi_{ord(control):x}")
    response = actor.patch(f"{API}/me", json={"display_name": f"admin{control}gnp.exe"})
    assert response.status_code == 422 and "bidirectional" in response.get_json()["errors"]["display_name"][0]
    assert _register(client, PASSWORD, display_name=f"Pat{control}").status_code == 422
    assert actor.patch(f"{API}/me", json={"display_name": "Plain Pat"}).status_code == 200
