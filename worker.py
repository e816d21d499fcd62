"""Celery worker entry point: ``celery -A worker:celery_app worker``.

Kept apart from ``app.py`` so that importing the application module builds nothing;
a worker process builds one app (from the environment) and serves its Celery instance.
Once the worker is ready its report sweeper starts (graph/sweeper.py): a killed worker's
report is taken over when its lease lapses, not when the broker redelivers the task.
"""

from celery.signals import worker_ready

from app import create_app
from graph.sweeper import start_sweeper
from recognition.service import start_schedule as start_recognition_schedule

flask_app = create_app()
celery_app = flask_app.extensions["celery"]


@worker_ready.connect(weak=False)
def _sweep_reports(**_) -> None:
    start_sweeper(flask_app)
    start_recognition_schedule(flask_app)  # queues recognition.run every RECOGNITION_INTERVAL_SECONDS
