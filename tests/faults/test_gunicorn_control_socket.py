"""A server process takes no control socket: gunicorn's default path is one per user, and the
platform runs several gunicorn processes per host (gunicorn.conf.py says why it is off).

Run with the fault suite, once, in ./test.sh's PostgreSQL + Redis pass.
"""

from __future__ import annotations

from gunicorn.config import _get_default_control_socket
from gunicorn.ctl.client import ControlClient, ControlClientError

from tests.helpers import needs_redis

pytestmark = needs_redis


def _pid_behind(path: str) -> int | None:
    """The pid of the gunicorn master that answers on the control socket at ``path``, if any."""
    try:
        with ControlClient(path, timeout=5) as control:
            return control.send_command("show stats").get("pid")
    except (OSError, ControlClientError):
        return None


def test_a_server_process_does_not_take_the_shared_control_socket(live):
    server = live()
    assert _pid_behind(_get_default_control_socket()) != server.process.pid
