"""What a newcomer sees from ``./run.sh``: each step said, the demo login on every start, no
development-server warnings, the icon and the docs page, and graph reports that run in the
background without Redis, also those a stopped process left queued.

``run.sh`` runs from a copy of the project (links to its code) in a temporary directory, so its
``instance/`` is fresh. The copy's ``.venv`` sees this test run's packages through a ``.pth``
file, so nothing is downloaded and the shared ``.venv`` is never touched.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
import requests

from tests.embedded import EmbeddedServer, embedded_env
from tests.live import ROOT, free_port

LINKED = ("app.py", "core", "community", "purpose", "graph", "migrations", "web", "requirements.txt", "run.sh")
DEMO_LOGIN = "Demo login: admin@demo.example / demo-password-2026"
REPORT_DONE = 60  # seconds a report of the demo community may take on a busy machine

pytestmark = pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")),
                                reason="the embedded mode is SQLite only: runs in the SQLite pass")


@pytest.fixture
def project(tmp_path) -> Path:
    """A checkout-like directory: the project's code linked, and a ``.venv`` with this run's packages."""
    for name in LINKED:
        (tmp_path / name).symlink_to(ROOT / name)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / ".venv")], check=True,
                   env={**os.environ, "PYTHONPATH": ""})
    packages = Path(sysconfig.get_paths()["purelib"])
    (site,) = (tmp_path / ".venv" / "lib").glob("python3*/site-packages")
    (site / "this-test-run.pth").write_text(f"import site; site.addsitedir({str(packages)!r})\n")
    return tmp_path


def start(project: Path, port: int) -> EmbeddedServer:
    return EmbeddedServer(["./run.sh"], project, embedded_env(PORT=str(port)))


def requirements_hash(project: Path) -> str:
    return hashlib.sha256((project / "requirements.txt").read_bytes()).hexdigest()


def report_when_finished(url: str, token: str, report_id: int) -> dict:
    deadline = time.monotonic() + REPORT_DONE
    while time.monotonic() < deadline:
        report = requests.get(f"{url}/api/v1/reports/{report_id}", headers={"Authorization": f"Bearer {token}"},
                              timeout=10).json()
        if report["status"] not in ("queued", "running"):
            return report
        time.sleep(0.1)  # polling the report's status with a deadline, as a client does
    raise AssertionError(f"report {report_id} still {report['status']} after {REPORT_DONE} s")


def demo_admin_token(url: str) -> str:
    login = {"email": "admin@demo.example", "password": "demo-password-2026"}
    response = requests.post(f"{url}/api/v1/auth/login", json=login, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def request_report(url: str, token: str) -> int:
    response = requests.post(f"{url}/api/v1/reports", json={"brand_id": 1},
                             headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def leave_a_queued_report(project: Path, like_report: int) -> int:
    """A report as a process stopped right after accepting it leaves it: queued, never started."""
    with sqlite3.connect(project / "instance" / "platform.db") as conn:
        cursor = conn.execute(
            "INSERT INTO graph_reports (brand_id, requested_by, params, version, status, stage, percent, created_at,"
            " attempts) SELECT brand_id, requested_by, params, version, 'queued', 'queued', 0, created_at, 0"
            " FROM graph_reports WHERE id = ?", (like_report,))
        return cursor.lastrowid


def test_first_start_installs_seeds_and_serves_without_warnings(project):
    (project / ".venv" / "requirements.sha256").write_text("an older requirements.txt\n")
    server = start(project, free_port())
    try:
        server.wait_for(DEMO_LOGIN)
        assert "==> requirements.txt changed: updating dependencies in .venv" in server.output
        assert "Seeded the demo community" in server.output
        assert requests.get(server.url + "/favicon.ico", timeout=10).headers["Content-Type"] == "image/vnd.microsoft.icon"
        docs = requests.get(server.url + "/api/v1/docs/", timeout=10)
        assert docs.status_code == 200 and "swagger-ui" in docs.text
        token = demo_admin_token(server.url)
        report = report_when_finished(server.url, token, request_report(server.url, token))
        assert report["status"] == "done", report
    finally:
        server.stop()
    assert (project / ".venv" / "requirements.sha256").read_text().strip() == requirements_hash(project)
    assert "development server" not in server.output.lower()
    assert "Traceback" not in server.output
    assert server.lines[-1] == "Stopped."


def test_later_starts_skip_the_install_and_still_show_the_demo_login(project):
    (project / ".venv" / "requirements.sha256").write_text(requirements_hash(project) + "\n")
    port = free_port()
    first = start(project, port)
    first.wait_for(DEMO_LOGIN)
    token = demo_admin_token(first.url)
    finished = report_when_finished(first.url, token, request_report(first.url, token))
    first.stop()
    left = leave_a_queued_report(project, finished["id"])

    again = start(project, port)
    try:
        again.wait_for(DEMO_LOGIN)
        assert "==> dependencies up to date" in again.output
        assert "Seeded" not in again.output
        assert requests.get(again.url + "/favicon.ico", timeout=10).status_code == 200
        assert report_when_finished(again.url, token, left)["status"] == "done"  # resumed at start-up
    finally:
        again.stop()
    assert "development server" not in again.output.lower()
