"""The curl walk-through in docs/api.md, run as written against the embedded server on a fresh
demo database: only the port in its base URL is changed."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.embedded import CHEAP_HASHING, EmbeddedServer, embedded_env
from tests.live import ROOT, free_port

API_DOC = ROOT / "docs" / "api.md"

pytestmark = pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")),
                                reason="the embedded mode is SQLite only: runs in the SQLite pass")


def walkthrough_script() -> str:
    """The shell blocks of the "Walk-through with curl" section, in order."""
    text = API_DOC.read_text()
    section = text.split("## Walk-through with curl", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    assert blocks, "docs/api.md has no bash block in its walk-through"
    return "\n".join(blocks)


@pytest.fixture
def demo_server(tmp_path):
    port = free_port()
    env = embedded_env(DATABASE_URL=f"sqlite:///{tmp_path / 'platform.db'}", PORT=str(port),
                       SECRET_KEY="walkthrough-secret-long-enough-for-hs256-signing", **CHEAP_HASHING)
    server = EmbeddedServer([sys.executable, "app.py"], ROOT, env)
    yield server
    server.stop()


def test_the_curl_walkthrough_works_verbatim_on_a_fresh_demo(demo_server):
    script = walkthrough_script()
    assert "127.0.0.1:5000" in script
    script = script.replace("127.0.0.1:5000", demo_server.url.removeprefix("http://"))

    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONIOENCODING": "utf-8"})

    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.stdout.splitlines() == [
        "sam",  # registered
        "Ocean Clean-up",  # the demo's societal space
        "member",  # joined
        "Saturday clean-up",  # the new thread leads the list
        "🌊",  # reacted to the reply
        "Who is coming? @demo_admin",  # first page: the opening post
        "Me! I'll bring gloves.",  # next page: the reply
        "401",  # logged out: the token is refused
    ]
