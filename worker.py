"""Celery worker entry point: ``celery -A worker:celery_app worker``.

Kept apart from ``app.py`` so that importing the application module builds nothing;
a worker process builds one app (from the environment) and serves its Celery instance.
"""

from app import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
