"""Register, log in, refresh, log out, suspension: what a member and an admin notice."""

from __future__ import annotations

from sqlalchemy import select

from core.accounts import Account
from core.extensions import db
from tests.helpers import PASSWORD, register


def _login(client, email, password=PASSWORD):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def test_register_returns_tokens_and_me_works(client):
    actor = register(client, "alice")
    me = actor.get("/api/v1/me")
    assert me.status_code == 200
    assert me.get_json()["handle"] == "alice"
    assert me.get_json()["role"] == "member"
    assert "password" not in me.get_json() and "password_hash" not in me.get_json()


def test_password_is_stored_as_argon2id_hash(app, client):
    actor = register(client, "bob")
    with app.app_context():
        stored = db.session.get(Account, actor.id).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_email_is_normalised_and_unique(client):
    register(client, "carol")
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "  CAROL@Example.COM ", "handle": "carol2", "display_name": "C", "password": PASSWORD},
    )
    assert response.status_code == 409
    assert response.get_json()["type"] == "account-exists"
    assert _login(client, "Carol@EXAMPLE.com").status_code == 200


def test_handle_is_unique_case_insensitively(client):
    register(client, "dave")
    response = client.post(
        "/api/v1/auth/register", json={"email": "d2@example.com", "handle": "DAVE", "display_name": "D", "password": PASSWORD}
    )
    assert response.status_code == 409


def test_register_validation_errors_name_each_field(client):
    response = client.post("/api/v1/auth/register", json={"email": "not-an-email", "handle": "x", "password": "short"})
    body = response.get_json()
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert body["type"] == "validation-error"
    assert set(body["errors"]) >= {"email", "handle", "password", "display_name"}


def test_wrong_password_and_unknown_email_look_the_same(client):
    register(client, "erin")
    wrong = _login(client, "erin@example.com", "wrong password!")
    unknown = _login(client, "nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_missing_and_garbage_tokens_are_401(client):
    assert client.get("/api/v1/me").status_code == 401
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401
    assert response.get_json()["type"] == "invalid-token"


def test_refresh_token_cannot_be_used_as_access_token(client):
    actor = register(client, "fay")
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {actor.refresh_token}"})
    assert response.status_code == 401


def test_refresh_rotates_and_reuse_revokes_the_session(client):
    actor = register(client, "gus")
    first = client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {actor.refresh_token}"})
    assert first.status_code == 200
    new = first.get_json()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {new['access_token']}"}).status_code == 200
    # The old refresh token comes back: someone copied it. The whole session ends.
    replay = client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {actor.refresh_token}"})
    assert replay.status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {new['access_token']}"}).status_code == 401
    again = client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {new['refresh_token']}"})
    assert again.status_code == 401


def test_logout_revokes_access_and_refresh_at_once(client):
    actor = register(client, "hana")
    other_session = _login(client, "hana@example.com").get_json()
    assert actor.post("/api/v1/auth/logout").status_code == 204
    assert actor.get("/api/v1/me").get_json()["type"] == "token-revoked"
    assert client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {actor.refresh_token}"}).status_code == 401
    # Logging out ends one session, not the account's other devices.
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {other_session['access_token']}"}).status_code == 200


def test_suspension_revokes_every_token_and_blocks_login(client, admin):
    victim = register(client, "ivo")
    second = _login(client, "ivo@example.com").get_json()
    assert admin.post(f"/api/v1/accounts/{victim.id}/suspend", json={"reason": "Spam wave"}).get_json()["status"] == "suspended"
    assert victim.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {second['access_token']}"}).status_code == 401
    blocked = _login(client, "ivo@example.com")
    assert blocked.status_code == 403 and blocked.get_json()["type"] == "account-suspended"
    admin.post(f"/api/v1/accounts/{victim.id}/reinstate", json={"reason": "Appeal upheld"})
    assert _login(client, "ivo@example.com").status_code == 200
    # Reinstating does not revive the old tokens.
    assert victim.get("/api/v1/me").status_code == 401


def test_only_admins_suspend_or_change_roles(client, make_actor):
    member, analyst, target = make_actor(), make_actor("analyst"), make_actor()
    for actor in (member, analyst):
        assert actor.post(f"/api/v1/accounts/{target.id}/suspend", json={"reason": "No"}).status_code == 403
        assert actor.put(f"/api/v1/accounts/{target.id}/role", json={"role": "admin"}).status_code == 403
    assert target.get("/api/v1/me").status_code == 200


def test_admin_changes_role_and_unknown_account_is_404(admin, make_actor, app):
    target = make_actor()
    response = admin.put(f"/api/v1/accounts/{target.id}/role", json={"role": "analyst"})
    assert response.status_code == 200 and response.get_json()["role"] == "analyst"
    assert admin.put("/api/v1/accounts/999999/role", json={"role": "analyst"}).status_code == 404
    assert admin.put(f"/api/v1/accounts/{target.id}/role", json={"role": "emperor"}).status_code == 422


def test_login_is_rate_limited_with_retry_after(make_app):
    app = make_app(RATELIMIT_LOGIN="3/minute")
    client = app.test_client()
    statuses = [_login(client, "x@example.com", "whatever-pass").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    limited = _login(client, "x@example.com")
    assert limited.mimetype == "application/problem+json"
    assert limited.get_json()["type"] == "rate-limited"
    assert 0 < int(limited.headers["Retry-After"]) <= 60


def test_registration_is_rate_limited(make_app):
    app = make_app(RATELIMIT_REGISTER="2/minute")
    client = app.test_client()
    register(client, "reg_1")
    register(client, "reg_2")
    third = client.post(
        "/api/v1/auth/register", json={"email": "r3@example.com", "handle": "r3_x", "display_name": "R", "password": PASSWORD}
    )
    assert third.status_code == 429
    with app.app_context():
        assert db.session.scalar(select(Account).where(Account.handle == "r3_x")) is None


def test_writes_are_rate_limited_per_account(make_app):
    app = make_app(RATELIMIT_WRITE="2/minute")
    client = app.test_client()
    first, second = register(client, "wri_1"), register(client, "wri_2")
    codes = [first.post("/api/v1/spaces/1/join").status_code for _ in range(3)]
    assert codes[:2] == [404, 404] and codes[2] == 429
    # Another account has its own budget.
    assert second.post("/api/v1/spaces/1/join").status_code == 404


def _count_argon2(monkeypatch) -> dict:
    """Count argon2 hashes and verifications (the real ones still run), and which hashes were verified."""
    from argon2 import PasswordHasher

    work = {"hash": 0, "verify": 0, "verified": []}
    real_hash, real_verify = PasswordHasher.hash, PasswordHasher.verify

    def counted_hash(self, password, **kwargs):
        work["hash"] += 1
        return real_hash(self, password, **kwargs)

    def counted_verify(self, stored, password):
        work["verify"] += 1
        work["verified"].append(stored)
        return real_verify(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "hash", counted_hash)
    monkeypatch.setattr(PasswordHasher, "verify", counted_verify)
    return work


def test_unknown_email_costs_what_a_wrong_password_costs(app, client, monkeypatch):
    """No timing: the same argon2 work on both paths, against a dummy hash made once per process."""
    register(client, "kim")
    work = _count_argon2(monkeypatch)
    assert [_login(client, "nobody@example.com").status_code for _ in range(3)] == [401] * 3
    unknown = {"hash": work["hash"], "verify": work["verify"], "verified": set(work["verified"])}
    work.update(hash=0, verify=0, verified=[])
    assert [_login(client, "kim@example.com", "wrong password!").status_code for _ in range(3)] == [401] * 3
    assert (unknown["hash"], unknown["verify"]) == (work["hash"], work["verify"]) == (0, 3)
    assert len(unknown["verified"]) == 1  # one dummy hash, not one per attempt
    with app.app_context():
        from core.accounts import _hasher

        stored = db.session.scalar(select(Account.password_hash).where(Account.handle == "kim"))
        # Made at the configured cost, as a real account's is: verifying it takes as long.
        assert not _hasher().check_needs_rehash(unknown["verified"].pop())
        assert not _hasher().check_needs_rehash(stored)


def test_password_checks_are_limited_per_account(make_app):
    """A stolen access token cannot guess the password through DELETE /me faster than the budget,
    nor get a fresh budget at the login form; other accounts and writes keep theirs."""
    app = make_app(RATELIMIT_PASSWORD="3/minute")
    client = app.test_client()
    victim, other = register(client, "pw_victim"), register(client, "pw_other")
    guesses = [victim.delete("/api/v1/me", json={"password": f"guess number {i}"}) for i in range(4)]
    assert [g.status_code for g in guesses] == [403, 403, 403, 429]
    assert guesses[3].get_json()["type"] == "rate-limited" and int(guesses[3].headers["Retry-After"]) > 0
    assert _login(client, victim.email).status_code == 429  # one budget for the account, the login form included
    assert victim.get("/api/v1/me").status_code == 200  # nothing else of the account is limited
    assert _login(client, other.email).status_code == 200
    assert other.delete("/api/v1/me", json={"password": "not the password"}).status_code == 403
