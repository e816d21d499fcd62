"""Web Push through a real HTTP push endpoint in the test: the fake browser's keys decrypt what
the platform sent (RFC 8291 aes128gcm, VAPID-signed), settings and quiet hours decide, and a
410 from the push service removes the subscription."""

from __future__ import annotations

import base64
import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from core.extensions import utcnow
from tests.live import WAIT, free_port
from tests.notifications.test_notifications import _level, _post, _thread


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class PushService:
    """A tiny push service: keeps each POST (path, headers, body); answers 410 for paths in ``gone``."""

    def __init__(self):
        self.received: queue.Queue = queue.Queue()
        self.gone: set[str] = set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.put((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(410 if self.path in outer.gone else 201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next(self):
        return self.received.get(timeout=WAIT)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Browser:
    """A fake browser's push subscription: its own P-256 key pair and auth secret."""

    def __init__(self, service: PushService, name: str):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = bytes(range(16))
        self.endpoint = f"{service.url}/push/{name}"

    def subscription(self) -> dict:
        public = self.key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "keys": {"p256dh": _b64(public), "auth": _b64(self.auth)}, "expirationTime": None}

    def read(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


@pytest.fixture
def service():
    server = PushService()
    yield server
    server.close()


VAPID = ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def app(make_app):
    raw = VAPID.private_numbers().private_value.to_bytes(32, "big")
    return make_app(VAPID_PRIVATE_KEY=_b64(raw), VAPID_SUBJECT="mailto:ops@community.example", PUSH_ALLOW_LOCALHOST=True,
                    PUBLIC_URL="https://community.example")


def test_pushes_are_encrypted_for_the_browser_and_follow_settings_and_quiet_hours(app, world, service):
    member, moderator = world["member"], world["moderator"]
    key = app.test_client().get("/api/v1/push/vapid-public-key").get_json()["public_key"]
    assert key == _b64(VAPID.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))
    browser = Browser(service, "member")
    good = browser.subscription()
    for bad in ({**good, "endpoint": "http://push.example/x"}, {**good, "endpoint": "https://10.0.0.1/x"},
                {**good, "keys": {**good["keys"], "p256dh": "B" + "A" * 85}}, {**good, "keys": {**good["keys"], "auth": "abc"}},
                {**good, "endpoint": "https://push.example/" + "x" * 1100}):
        assert member.post("/api/v1/me/push-subscriptions", json=bad).status_code == 422
    response = member.post("/api/v1/me/push-subscriptions", json=good)
    assert response.status_code == 201 and response.get_json()["endpoint"] == browser.endpoint

    thread_id, first = _thread(member, world["public"], title="Trail shoes")
    _level(member, "threads", thread_id, "watching")
    _post(moderator, thread_id, "A plain post")  # watched: not pushed at the default (mentions and replies)
    _post(moderator, thread_id, "Agreed", parent_id=first)
    path, headers, body = service.next()
    assert path == "/push/member" and headers["content-encoding"] == "aes128gcm"
    assert headers["authorization"].startswith("vapid t=") and f"k={key}" in headers["authorization"]
    payload = browser.read(body)
    assert payload["title"] == "@mod_maya replied to your post" and payload["body"] == "Trail shoes"
    assert payload["url"] == f"https://community.example/client/#/threads/{thread_id}"

    # "all": watched posts too; quiet hours: nothing
    assert member.put("/api/v1/me/push-settings", json={"push": "all"}).get_json()["effective"] == "all"
    hour = utcnow().hour
    assert member.put("/api/v1/me/push-settings", json={"quiet_start": hour, "quiet_end": (hour + 1) % 24}).status_code == 200
    _post(moderator, thread_id, "@mem_max during quiet hours")
    assert member.put("/api/v1/me/push-settings", json={"quiet_start": None, "quiet_end": None}).status_code == 200
    _post(moderator, thread_id, "Watched, and pushed now")
    assert browser.read(service.next()[2])["title"] == "@mod_maya posted in a thread you watch"
    assert service.received.empty()
    export = member.get("/api/v1/me/export").get_json()["notifications"]
    assert [s["endpoint"] for s in export["push_subscriptions"]] == [browser.endpoint]
    assert export["push"] == {"push": "all", "quiet_start": None, "quiet_end": None}


def test_a_gone_subscription_is_removed_and_fling_gets_no_push(app, world, service):
    from community.notifications.push import STYLE_DEFAULTS
    from purpose.models import ContactPreference

    member, moderator = world["member"], world["moderator"]
    kept, dropped = Browser(service, "kept"), Browser(service, "dropped")
    service.gone.add("/push/dropped")
    for browser in (kept, dropped):
        assert member.post("/api/v1/me/push-subscriptions", json=browser.subscription()).status_code == 201
    thread_id, first = _thread(member, world["public"])
    _post(moderator, thread_id, "@mem_max hello")
    paths = {service.next()[0], service.next()[0]}
    assert paths == {"/push/kept", "/push/dropped"}
    deadline = time.monotonic() + WAIT  # the 410 is handled right after the push service answers
    while len(member.get("/api/v1/me/push-subscriptions").get_json()["items"]) != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [s["endpoint"] for s in member.get("/api/v1/me/push-subscriptions").get_json()["items"]] == [kept.endpoint]

    assert member.delete("/api/v1/me/push-subscriptions", json={"endpoint": kept.endpoint}).status_code == 204
    assert member.get("/api/v1/me/push-subscriptions").get_json()["items"] == []
    assert STYLE_DEFAULTS[ContactPreference.fling].value == "none"
    assert member.put("/api/v1/me/push-settings", json={"push": "none"}).get_json()["effective"] == "none"
