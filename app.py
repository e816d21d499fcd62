"""The application factory and the embedded-mode entry point (``python app.py``).

``create_app`` builds nothing at import time. Running this file serves the platform on
its embedded defaults: it migrates the SQLite database under ``instance/``, seeds a demo
brand when the database is empty, and prints the URL and the demo login on every start.
It serves with gevent's WSGI server (``core/embedded.py`` says why).
"""

from __future__ import annotations

if __name__ == "__main__":  # the embedded server runs gevent: patch before anything else is imported
    from core.embedded import patch_for_gevent

    patch_for_gevent()

import logging

from flask import Flask, redirect, send_from_directory
from swagger_ui_bundle import swagger_ui_path
from werkzeug.routing import IntegerConverter

from core import auth_api, webclient
from core.auth import init_auth
from core.celery_app import celery_init_app
from core.config import load_config
from core.errors import ProblemApi, register_error_handlers
from community.realtime.websocket import share_frames, without_websocket_extensions
from community.conversations.activity import init_activity
from community.conversations.direct import init_direct
from community.conversations.reading import init_reading
from community.realtime.listeners import init_realtime
from community.moderation.members import init_moderation_members
from community.notifications.service import init_notifications
from community.realtime.fanout import build_client_manager
from core.extensions import db, limiter, migrate, socketio
from core.outbox import CommitPerRequest
from events.privacy import init_events
from ideas.privacy import init_ideas
from graph.tasks import init_graph_tasks
from recognition.service import init_recognition, on_idea_shipped
from ideas.signals import idea_shipped
from purpose.stakeholders import init_stakeholders

MAX_ID = 2**31 - 1

#: How another process builds this app (core/offload.py); ``__name__`` is ``__main__`` when run as a script.
FACTORY = "app:create_app"


class IdConverter(IntegerConverter):
    """Path ids: 1 to 2**31-1; anything else does not match the route (a 404, never a 500)."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)


def create_app(config: dict | None = None) -> Flask:
    """Build the platform; ``config`` overrides environment and defaults (tests use it)."""
    app = CommitPerRequest(__name__, instance_relative_config=True)  # one commit per request (core/outbox.py)
    app.config.update(load_config(app.instance_path, config))
    app.extensions["factory"] = FACTORY
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    app.url_map.converters["id"] = IdConverter
    app.json.sort_keys = False

    db.init_app(app)
    migrate.init_app(app, db, directory=_migrations_dir())
    init_auth(app)
    limiter.init_app(app)
    socketio.init_app(
        app,
        client_manager=build_client_manager(app.config),  # Redis message queue when REDIS_URL is set
        cors_allowed_origins=app.config["CORS_ORIGINS_LIST"],
        manage_session=False,  # handlers never use the Flask session; skip copying it per event
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        # Hard cut-off well above SOCKETIO_MAX_PAYLOAD, which handlers refuse with a clear ack error.
        max_http_buffer_size=16 * app.config["SOCKETIO_MAX_PAYLOAD"],
        ping_interval=app.config["SOCKETIO_PING_INTERVAL"],
        ping_timeout=app.config["SOCKETIO_PING_TIMEOUT"],
    )
    if not app.config["SOCKETIO_WEBSOCKET_COMPRESSION"]:  # community/realtime/websocket.py says why
        app.wsgi_app = without_websocket_extensions(app.wsgi_app)
        share_frames(socketio.server.eio, app.config["SOCKETIO_DIRECT_WRITES"])  # plain frames: one serves every recipient
    init_realtime(app)
    init_stakeholders(app)
    init_activity()
    init_direct()
    init_reading()
    init_moderation_members()
    init_notifications()
    init_graph_tasks()
    init_events()
    init_recognition()
    init_ideas()
    idea_shipped.connect(on_idea_shipped, weak=False)  # two wings beside each other meet here: a shipped idea's badge
    with app.app_context():  # the OpenAPI document states this app's settings (core/validation.py's PageLimit)
        _register_api(app)
    app.register_blueprint(webclient.bp)  # the reference web client at /
    register_error_handlers(app)
    celery_init_app(app)
    _register_cli(app)
    return app


def _migrations_dir() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent / "migrations")


def _register_api(app: Flask) -> None:
    from community.conversations import direct_api, search_api, spaces_api as community_api, threads_api as conversation_api
    from community.moderation import api as moderation_api
    from community.moderation import me_api as moderation_me_api
    from community.moderation import review_api as moderation_review_api
    from events import api as events_api
    from ideas import api as ideas_api
    from community.notifications import api as notifications_api
    from graph import api as graph_api
    from purpose import api as purpose_api
    from purpose import people_api
    from recognition import api as recognition_api

    api = ProblemApi(app)
    api.register_converter(IdConverter, lambda _c: {"type": "integer", "minimum": 1, "maximum": MAX_ID})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    for blueprint in (auth_api.blp, purpose_api.blp, people_api.blp, community_api.blp, conversation_api.blp,
                      direct_api.blp, moderation_api.blp, moderation_review_api.blp, moderation_me_api.blp, search_api.blp,
                      notifications_api.blp, graph_api.blp, events_api.blp, recognition_api.blp, ideas_api.blp):
        api.register_blueprint(blueprint)

    @app.get("/api/v1/docs-assets/<path:filename>")
    def docs_assets(filename):
        """Swagger UI's files, served locally so the docs page works offline."""
        return send_from_directory(swagger_ui_path, filename)

    @app.get("/api/v1/docs/")
    def docs_with_slash():
        """The docs page's address as often typed; it lives without the slash."""
        return redirect("/api/v1/docs", code=308)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}


def _register_cli(app: Flask) -> None:
    from community.notifications.digest import send_digests_command
    from community.notifications.fanout import run_fanouts_command
    from community.notifications.mail import send_notification_emails_command
    from community.space_log import prune_events_command
    from devtools.cli import seed_demo_command
    from devtools.evaluate import evaluate_ranking_command
    from purpose.imports_cli import import_stakeholders_command, import_touchpoints_command
    from recognition.service import grant_badges_command
    from events.reminders import send_reminders_command  # its import registers the Celery task in workers too

    for command in (seed_demo_command, prune_events_command, import_stakeholders_command, import_touchpoints_command,
                    evaluate_ranking_command, send_notification_emails_command, grant_badges_command,
                    send_digests_command, run_fanouts_command, send_reminders_command):
        app.cli.add_command(command)


def main() -> None:
    """Embedded mode: migrate, seed when empty, serve on 127.0.0.1 and print the URL and login."""
    from flask_migrate import upgrade

    from devtools.demo import seed_demo_if_empty
    from core.embedded import embedded_async_mode, serve

    app = create_app({"SOCKETIO_ASYNC_MODE": embedded_async_mode()})
    with app.app_context():
        upgrade()
        seed_demo_if_empty()
        login = _demo_login()
    if not app.config["REDIS_URL"]:  # no worker: reports a stopped process left are run here
        from graph.tasks import resume_embedded

        resume_embedded(app)
        from community.notifications.digest import run_embedded

        run_embedded(app)  # digests on a timer (with a worker: Celery beat's schedule)
        from community.notifications import fanout

        fanout.run_embedded(app)  # owed fan-outs an earlier process left, then a sweep on a timer
        from events.reminders import run_embedded as run_event_reminders

        run_event_reminders(app)  # event reminders on a timer (with a worker: Celery beat's schedule)
    from recognition.service import start_schedule

    start_schedule(app)  # badges and trust levels every RECOGNITION_INTERVAL_SECONDS (a Celery task with REDIS_URL)
    serve(app, lambda url: _announce(url, login))


def _demo_login() -> str | None:
    """The demo admin's login while that account exists (the demo seeded it), else None."""
    from sqlalchemy import select

    from devtools.demo import DEMO_ADMIN_EMAIL, DEMO_PASSWORD
    from core.accounts import Account

    seeded = db.session.scalar(select(Account.id).where(Account.email == DEMO_ADMIN_EMAIL))
    return f"{DEMO_ADMIN_EMAIL} / {DEMO_PASSWORD}" if seeded else None


def _announce(url: str, login: str | None) -> None:
    print(f"Brand community platform running at {url}  (API docs: {url}/api/v1/docs)", flush=True)
    if login:
        print(f"Demo login: {login}  (every demo account shares this password)", flush=True)
    print("Press Ctrl-C to stop.", flush=True)


if __name__ == "__main__":
    main()
