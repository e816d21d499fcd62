"""Configuration: embedded defaults, environment overrides, and refusing unsafe production settings."""

from __future__ import annotations

import pytest

from core.config import DEFAULT_SECRET, NO_REDIS_IN_PRODUCTION, ConfigError, load_config


def test_embedded_defaults_use_sqlite_in_instance_and_no_redis(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PLATFORM_ENV"):
        monkeypatch.delenv(name, raising=False)
    cfg = load_config(str(tmp_path))
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/platform.db"
    assert cfg["REDIS_URL"] is None and cfg["RATELIMIT_STORAGE_URI"] == "memory://"
    assert len(cfg["SECRET_KEY"]) >= 32
    # The generated secret is kept, so tokens survive a restart.
    assert load_config(str(tmp_path))["SECRET_KEY"] == cfg["SECRET_KEY"]
    assert "*" not in cfg["CORS_ORIGINS_LIST"]


def test_environment_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db:5432/app")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("ACCESS_TOKEN_MINUTES", "5")
    cfg = load_config(str(tmp_path))
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db:5432/app"
    assert cfg["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/0"
    assert cfg["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds() == 300


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("On", True), ("true", True), ("0", False), ("no", False), ("", False)])
def test_on_off_settings_from_the_environment(tmp_path, monkeypatch, value, expected):
    monkeypatch.delenv("SOCKETIO_WEBSOCKET_COMPRESSION", raising=False)
    assert load_config(str(tmp_path))["SOCKETIO_WEBSOCKET_COMPRESSION"] is False  # off unless asked for
    monkeypatch.setenv("SOCKETIO_WEBSOCKET_COMPRESSION", value)
    assert load_config(str(tmp_path))["SOCKETIO_WEBSOCKET_COMPRESSION"] is expected


@pytest.mark.parametrize(("name", "value", "message"), [
    ("SOCKETIO_WEBSOCKET_COMPRESSION", "maybe", "SOCKETIO_WEBSOCKET_COMPRESSION must be one of"),
    ("PAGE_LIMIT_MAX", "lots", "PAGE_LIMIT_MAX must be a whole number, not 'lots'"),
])
def test_a_setting_of_the_wrong_kind_refuses_to_start_naming_it(tmp_path, monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_config(str(tmp_path))


@pytest.mark.parametrize("secret", [None, DEFAULT_SECRET, "short"])
def test_production_refuses_default_or_weak_secret(tmp_path, monkeypatch, secret):
    monkeypatch.setenv("PLATFORM_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/app")
    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(str(tmp_path))


def test_production_starts_with_a_real_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("PLATFORM_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/app")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    assert load_config(str(tmp_path))["SECRET_KEY"] == "x" * 48
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("redis_url", [None, "redis://cache:6379/0"])
def test_production_without_redis_warns_its_operator(tmp_path, monkeypatch, caplog, redis_url):
    monkeypatch.setenv("PLATFORM_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/app")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    if redis_url:
        monkeypatch.setenv("REDIS_URL", redis_url)
    else:
        monkeypatch.delenv("REDIS_URL", raising=False)
    load_config(str(tmp_path))
    warned = [r for r in caplog.records if r.levelname == "WARNING" and r.getMessage() == NO_REDIS_IN_PRODUCTION]
    assert len(warned) == (0 if redis_url else 1)


def test_email_hash_key_from_the_environment(tmp_path, monkeypatch):
    import hashlib
    import hmac

    from flask import Flask

    from core.validation import normalise_email
    from purpose.stakeholders import email_hash

    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.delenv("EMAIL_HASH_KEY", raising=False)
    assert load_config(str(tmp_path))["EMAIL_HASH_KEY"] is None  # unset: SECRET_KEY keys the hash
    monkeypatch.setenv("EMAIL_HASH_KEY", "k" * 40)
    cfg = load_config(str(tmp_path))
    assert cfg["EMAIL_HASH_KEY"] == "k" * 40
    app = Flask(__name__)
    app.config.update(cfg)
    with app.app_context():
        expected = hmac.new(b"k" * 40, normalise_email("Ada@Example.com").encode(), hashlib.sha256).hexdigest()
        assert email_hash("Ada@Example.com") == expected


@pytest.mark.parametrize(("page_limit_max", "admitted", "refused"), [(None, 200, 201), (500, 500, 501)])
def test_page_limit_max_bounds_the_limit_and_its_document(make_app, page_limit_max, admitted, refused):
    from tests.helpers import register

    app = make_app() if page_limit_max is None else make_app(PAGE_LIMIT_MAX=page_limit_max)
    member = register(app.test_client())
    assert member.get(f"/api/v1/spaces?limit={admitted}").status_code == 200
    response = member.get(f"/api/v1/spaces?limit={refused}")
    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()["errors"]) == {"limit"}
    spec = member.get("/api/v1/openapi.json").get_json()
    (limit,) = (p for p in spec["paths"]["/api/v1/spaces"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, admitted)
