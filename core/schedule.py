"""Sweeps on a timer where there is no Celery beat (embedded mode): one background task each.

With ``REDIS_URL`` Celery beat queues the same sweeps (core/celery_app.py's ``beat_schedule``);
every sweep is safe to run twice at once, so nothing here coordinates processes.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from core.extensions import db, socketio

log = logging.getLogger(__name__)


def every(app, setting: str, sweep: Callable[[], Any], what: str) -> None:
    """Run ``sweep()`` in an app context now and then every ``app.config[setting]`` seconds, on a
    background task of this process; a failure is logged (``what`` names it) and the next run retries."""
    socketio.start_background_task(_loop, app, setting, sweep, what)


def _loop(app, setting: str, sweep: Callable[[], Any], what: str) -> None:
    while True:
        with app.app_context():
            try:
                sweep()
            except Exception:
                log.exception("%s failed; the next run retries", what)
            finally:
                db.session.remove()
        socketio.sleep(app.config[setting])
