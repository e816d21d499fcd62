"""A report requested while Redis is down: the request is answered 202 and the report kept queued;
once Redis is back, a worker's sweeper sends its task (graph/sweeper.py), where before the
request failed with a 500 and the stored report waited for ever."""

from __future__ import annotations

from datetime import timedelta

import redis
from sqlalchemy import update

from core.extensions import db, utcnow
from graph.models import GraphReport, ReportStatus
from graph.sweeper import sweep
from tests.graph.test_reports_api import talk  # noqa: F401  (fixture)
from tests.graph.test_tasks import row
from tests.helpers import needs_redis

pytestmark = needs_redis


def test_a_report_requested_while_redis_is_down_is_kept_and_sent_once_redis_is_back(make_app, talk, own_redis):  # noqa: F811
    app = make_app(REDIS_URL=own_redis.url)
    analyst = talk["analyst"]
    analyst.client = app.test_client()  # requests go through the app that dispatches to Redis
    own_redis.kill()
    answer = analyst.post("/api/v1/reports", json={"brand_id": talk["brand"], "seed": 1})
    assert answer.status_code == 202, answer.get_json()
    report_id = answer.get_json()["id"]
    assert row(app, report_id).status is ReportStatus.queued

    own_redis.start()  # back, empty: the task never reached it
    queue = redis.Redis.from_url(own_redis.url)
    assert queue.llen("celery") == 0
    with app.app_context():  # a lease later, a worker's sweeper finds it
        lease = app.config["GRAPH_REPORT_LEASE_SECONDS"]
        db.session.execute(update(GraphReport).where(GraphReport.id == report_id)
                           .values(created_at=utcnow() - timedelta(seconds=lease + 1)))
        db.session.commit()
        assert sweep(lease) == [report_id]
    assert queue.llen("celery") == 1  # its task is on the broker for the next free worker
