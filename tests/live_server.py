"""The app a live test server runs, built from ``LIVE_SERVER_CONFIG`` (JSON).

Live tests serve it the way production does, with gunicorn's gevent worker:
``gunicorn -k gevent -w 1 --worker-connections 1000 'tests.live_server:build()'``.
"""

from __future__ import annotations

import json
import os

from app import create_app


def build():
    return create_app(json.loads(os.environ["LIVE_SERVER_CONFIG"]))
