"""Two refreshes with one refresh token at the same moment, against a live server (SQLite or PostgreSQL).

Rotation is one conditional UPDATE on the session's current refresh jti: exactly one of the
two wins; the other presented a token that is no longer current, which is reuse, so the
whole session ends (docs/api.md, "Authentication")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
import requests

from tests.helpers import PASSWORD, base_config
from tests.live import ROOT, WAIT, LiveServer, free_port


class ThreadedServer(LiveServer):
    """The platform served by native threads (gunicorn's gthread worker), as ``python app.py``
    serves the embedded mode: there two requests really run at once, on SQLite too."""

    def __init__(self, config: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {**config, "PORT": self.port, "SOCKETIO_ASYNC_MODE": "threading"}
        env = {**os.environ, "LIVE_SERVER_CONFIG": json.dumps(config), "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "8", "-w", "1",
                   "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", "tests.live_server:build()"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
        self._wait_until_serving()
        self.http = requests.Session()


@pytest.fixture(params=["gevent", "threads"])
def server(request, live, make_app, database_url):
    logins = {"RATELIMIT_PASSWORD": "1000/minute"}  # the test logs the same account in once per round
    if request.param == "gevent":
        yield live(**logins)
        return
    threaded = ThreadedServer({**base_config(database_url), **logins})
    yield threaded
    threaded.stop()


def _refresh_together(server, refresh_token: str, count: int = 2) -> list:
    """``count`` refreshes with the same token, released at once from their own connections."""
    start, answers = threading.Barrier(count), [None] * count

    def refresh(i):
        with requests.Session() as http:
            http.get(server.url + "/healthz", timeout=WAIT)  # connected before the race starts
            start.wait(timeout=WAIT)
            answers[i] = http.post(server.url + "/api/v1/auth/refresh", timeout=WAIT,
                                   headers={"Authorization": f"Bearer {refresh_token}"})

    threads = [threading.Thread(target=refresh, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * WAIT)
    return answers


def test_two_simultaneous_refreshes_leave_no_two_live_token_pairs(server):
    person = server.register("racer")
    for _ in range(8):  # rounds, each a fresh session racing itself: a lost race shows within a few
        answers = _refresh_together(server, person["refresh"])
        assert sorted(a.status_code for a in answers) == [200, 401], [a.text for a in answers]
        loser = next(a for a in answers if a.status_code == 401)
        assert loser.json()["type"] == "token-revoked"
        winner = next(a for a in answers if a.status_code == 200).json()
        # The loser's presentation counts as reuse: the winner's new pair is dead too.
        assert server.api("GET", "/me", winner["access_token"]).status_code == 401
        assert server.api("POST", "/auth/refresh", winner["refresh_token"]).status_code == 401
        assert server.api("GET", "/me", person["token"]).status_code == 401
        login = server.api("POST", "/auth/login", json={"email": "racer@example.com", "password": PASSWORD})
        assert login.status_code == 200
        person = {"token": login.json()["access_token"], "refresh": login.json()["refresh_token"]}
