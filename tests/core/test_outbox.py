"""Effects after commit (core/outbox.py): run once the change is durable, never for one that was rolled back.

What a user notices: nobody is told of a change that did not happen, and an erasure that
fails half way erases nothing (it is one transaction now, not one commit per part).
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from community.models import Post
from core.accounts import Account
from core.extensions import db
from core.outbox import on_commit, pending_effects
from purpose.privacy import account_erasing


def test_effects_run_after_the_commit_in_order_and_see_the_change(app, make_actor):
    actor = make_actor()
    seen = []
    with app.app_context():
        account = db.session.get(Account, actor.id)
        account.display_name = "Renamed"
        on_commit(lambda: seen.append(("first", db.session.scalar(select(Account.display_name).where(Account.id == actor.id)))))
        on_commit(seen.append, "second")
        assert seen == [] and pending_effects() == 2  # queued, not run, while the transaction is open
        db.session.commit()
    assert seen == [("first", "Renamed"), "second"]


def test_a_rollback_drops_what_was_queued(app):
    seen = []
    with app.app_context():
        on_commit(seen.append, "never")
        db.session.rollback()
        db.session.commit()
    with app.app_context():  # a request that ends without committing (an error) drops its effects too
        on_commit(seen.append, "never either")
    with app.app_context():
        db.session.commit()
    assert seen == []


def test_a_failing_effect_is_logged_and_the_others_still_run(app, caplog):
    seen = []

    def broken():
        raise ConnectionError("Redis is down")

    with app.app_context(), caplog.at_level(logging.ERROR, logger="core.outbox"):
        on_commit(broken)
        on_commit(seen.append, "after")
        db.session.commit()  # the change is durable: a failed notice does not undo it, nor raise here
    assert seen == ["after"]
    assert "broken" in caplog.text and "Redis is down" in caplog.text


def _fail_half_way(account_id: int) -> None:
    raise RuntimeError("a part of the platform failed during erasure")


@pytest.fixture
def failing_erasure():
    account_erasing.connect(_fail_half_way)
    yield
    account_erasing.disconnect(_fail_half_way)


def test_an_erasure_that_fails_half_way_erases_nothing(world, client, failing_erasure):
    member = world["member"]
    thread = member.post(f"/api/v1/spaces/{world['public']}/threads", json={"title": "Mine", "body": "my words"}).get_json()
    answer = member.delete("/api/v1/me", json={"password": "correct horse battery staple"})
    assert answer.status_code == 500
    assert member.get("/api/v1/me").status_code == 200  # still signed in: the account is as it was
    posts = member.get(f"/api/v1/threads/{thread['id']}/posts").get_json()["items"]
    assert [p["body"] for p in posts] == ["my words"] and not posts[0]["deleted"]
    with client.application.app_context():
        assert db.session.scalar(select(Post.deleted).where(Post.id == posts[0]["id"])) is False
