"""A notification whose transaction commits after a later one's is still found by a resuming
client: ids are taken when rows are written, not when they commit (service.missed_clause).

Only PostgreSQL has two writers at once (SQLite commits in the order rows were written)."""

from __future__ import annotations

from sqlalchemy import insert

from community.models import Notification
from core.extensions import db, utcnow
from tests.helpers import TEST_DATABASE_URL
from tests.notifications.test_notifications import _inbox, _post, _thread

import pytest

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="concurrent writers need PostgreSQL (set TEST_DATABASE_URL)")


def test_a_notification_committed_late_is_resumed(app, world):
    member, moderator = world["member"], world["moderator"]
    thread_id, first = _thread(member, world["public"])
    with app.app_context():
        slow = db.engine.connect()  # a longer transaction: writes its notice first, commits last
        transaction = slow.begin()
        late = slow.execute(insert(Notification.__table__).values(
            recipient_id=member.id, kind="mention", actor_id=moderator.id, space_id=world["public"],
            thread_id=thread_id, post_id=first, count=1, created_at=utcnow()).returning(Notification.id)).scalar_one()
        try:
            reply = _post(moderator, thread_id, "quick", parent_id=first)  # committed at once, with a greater id
            seen = _inbox(member)
            assert [n["post_id"] for n in seen] == [reply] and seen[0]["id"] > late  # the client saw the reply
            transaction.commit()
        finally:
            slow.close()
            db.session.remove()
    resumed = _inbox(member, after=seen[0]["id"])
    assert [n["id"] for n in resumed] == [late]
