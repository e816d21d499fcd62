"""The reference web client (``web/``): its page at ``/``, its files under ``/client/``, and the
site icon at ``/favicon.ico``.

Plain files, no build step, nothing fetched from another host: the Content-Security-Policy
sent with every file lets the page load scripts, styles and images from this origin only
and connect back only to it (REST and Socket.IO), so the page works offline and a
stray external URL fails loudly in the browser instead of leaking requests.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

WEB_DIR = Path(__file__).resolve().parent.parent / "web"

#: Same-origin only; ``blob:`` images are the report pictures the client fetches with its token.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

bp = Blueprint("webclient", __name__)


def _secured(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-cache"  # revalidate: a new release is picked up at once
    return response


@bp.get("/")
def index():
    """The single page of the reference client."""
    return _secured(send_from_directory(WEB_DIR, "index.html"))


@bp.get("/client/<path:filename>")
def client_file(filename: str):
    """The client's scripts, styles and vendored library (a path outside ``web/`` is a 404)."""
    return _secured(send_from_directory(WEB_DIR, filename))


@bp.get("/favicon.ico")
def favicon():
    """The icon browsers ask for on every page of this origin (the API docs page too)."""
    return _secured(send_from_directory(WEB_DIR, "favicon.ico", mimetype="image/vnd.microsoft.icon"))
