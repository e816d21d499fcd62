"""Celery wiring, Flask's documented pattern: every task runs inside an app context.

With ``REDIS_URL`` set, Redis is the broker and result backend and separate workers run
the tasks (``celery -A worker:celery_app worker``, ``worker.py``). In embedded mode there is no broker:
tasks run in-process (``task_always_eager``) so the platform needs nothing else.
"""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask

from core.extensions import db


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                try:
                    return self.run(*args, **kwargs)
                finally:
                    db.session.remove()

    redis_url = app.config.get("REDIS_URL")
    settings = {
        "broker_url": redis_url or "memory://",
        "result_backend": redis_url or "cache+memory://",
        "task_always_eager": not redis_url,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "accept_content": ["json"],
        "broker_connection_retry_on_startup": True,
        # ``celery -A worker:celery_app beat``: periodic sweeps (docs/notifications.md, "Digests")
        "beat_schedule": {"notification-digests": {
            "task": "notifications.send_digests", "schedule": float(app.config.get("NOTIFICATION_DIGEST_INTERVAL_SECONDS", 900))},
            "notification-fanouts": {  # owed fan-outs whose task was lost (docs/notifications.md, "Writing")
                "task": "notifications.sweep_fanouts",
                "schedule": float(app.config.get("NOTIFICATION_FANOUT_RETRY_SECONDS", 60))},
            "event-reminders": {  # events/reminders.py (by task name: core imports no wing)
                "task": "events.send_reminders",
                "schedule": float(app.config.get("EVENT_REMINDER_INTERVAL_SECONDS", 900))}},
    }
    settings.update(app.config.get("CELERY", {}))
    celery = Celery(app.name, task_cls=FlaskTask)
    celery.config_from_object(settings)
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
