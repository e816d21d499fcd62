"""The authorization table of docs/api.md ("Authorization table"), row by row, through the API.

Each row of the table is one group of operations; here one representative operation of each
row is called by each actor of the ``world`` fixture (and by an anonymous client) and must
answer what the table says: allowed (the operation's success status), own only (allowed on
the caller's own things), 403, 401 for anonymous callers, or 404 where the thing's existence
must not leak (a private space the caller may not see, a report drawing on one).
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest


API = "/api/v1"
ACTORS = ("anonymous", "member", "moderator", "manager", "analyst", "admin")
_names = itertools.count(1)


class Anonymous:
    """A client without a token."""

    def __init__(self, client):
        self.client = client

    def __getattr__(self, method):
        return getattr(self.client, method)


def _rows(w) -> list[tuple[str, str, str, object, dict]]:
    """(row of the table, method, path, body, expected status per actor)."""
    n = next(_names)
    b, pub, priv = w["brand"], w["public"], w["private"]
    A = dict(zip(ACTORS, (401, 403, 403, 403, 403, 403)))  # denied to all but the ones overridden

    def exp(**allowed):
        return {**A, **allowed}

    signed_in = {a: 200 for a in ACTORS[1:]}
    return [
        ("sign up, log in, reset", "POST", "/auth/register",
         {"email": f"new{n}@example.com", "handle": f"new_{n}", "display_name": "New", "password": "a long new password"},
         {a: 201 for a in ACTORS}),
        ("own account", "GET", "/me", None, {**A, **signed_in}),
        ("personal mutes and blocks", "PUT", f"/me/mutes/{w['outsider'].id}", None, {**A, **{a: 201 for a in ACTORS[1:]}}),
        ("own notifications", "GET", "/notifications", None, {**A, **signed_in}),
        ("accounts: roles, suspension", "PUT", f"/accounts/{w['outsider'].id}/role", {"role": "member"}, exp(admin=200)),
        ("brands and purposes: read", "GET", f"/brands/{b}", None, {**A, **signed_in}),
        ("brands: create, managers", "POST", "/brands", {"name": f"Brand {n}"}, exp(admin=201)),
        ("purposes and spaces: create", "POST", f"/brands/{b}/purposes", {"kind": "life", "title": f"Walk {n}"},
         exp(manager=201, admin=201)),
        ("public space: read", "GET", f"/spaces/{pub}/threads", None, {**A, **signed_in}),
        ("private space: read", "GET", f"/spaces/{priv}/threads", None, {**A, **signed_in, "analyst": 404}),
        ("space: post, react", "POST", f"/threads/{w['thread']}/posts", {"body": "me too"},
         exp(member=201, moderator=201, manager=201)),
        ("own posts: edit, delete", "PATCH", f"/posts/{w['member_post']}", {"body": "edited"}, exp(member=200)),
        ("space moderation", "GET", f"/spaces/{pub}/moderation/queue", None, exp(moderator=200, manager=200, admin=200)),
        ("private space moderation", "GET", f"/spaces/{priv}/moderation/queue", None,
         exp(moderator=200, manager=200, admin=200, analyst=404)),
        ("space staff roles", "PUT", f"/spaces/{pub}/members/{w['manager'].id}", {"role": "manager"},
         exp(manager=200, admin=200)),
        ("brand moderation", "GET", f"/brands/{b}/moderation/queue", None, exp(manager=200, admin=200)),
        ("platform audit", "GET", "/moderation/audit", None, exp(admin=200)),
        ("brand analysts: appoint", "PUT", f"/brands/{b}/analysts/{w['analyst'].id}", None, exp(manager=200, admin=200)),
        ("brand people: read", "GET", f"/brands/{b}/segments", None, exp(manager=200, analyst=200, admin=200)),
        ("brand people: change", "POST", f"/brands/{b}/stakeholders", {"kind": "prospect"}, exp(manager=201, admin=201)),
        ("reports: request, list", "GET", f"/reports?brand_id={b}", None, exp(manager=200, analyst=200, admin=200)),
        ("report on a private space", "GET", f"/reports/{w['private_report']}", None,
         {**A, "member": 404, "moderator": 404, "manager": 200, "analyst": 404, "admin": 200}),
        ("a direct conversation: read, post", "GET", f"/conversations/{w['conversation']}/messages", None,
         {**A, "member": 200, "moderator": 200, "manager": 404, "analyst": 404, "admin": 404}),
        ("conversations' review queue", "GET", "/moderation/conversations/queue", None, exp(admin=200)),
        ("events: create, edit, cancel, check in", "POST", f"/spaces/{pub}/events", w["event_body"],
         exp(manager=201, admin=201)),
        ("events: answer, invite guests", "PUT", f"/events/{w['public_event']}/rsvp", {"status": "maybe"},
         exp(member=200, moderator=200, manager=200, admin=200)),
        ("private space events: read", "GET", f"/events/{w['private_event']}", None, {**A, **signed_in, "analyst": 404}),
        ("ideas: submit, vote", "PUT", f"/ideas/{w['public_idea']}/vote", None,
         exp(member=200, moderator=200, manager=200)),
        ("ideas: status", "POST", f"/ideas/{w['public_idea']}/status", {"status": "planned", "reason": "Soon"},
         exp(manager=200, admin=200)),
        ("private space ideas: read", "GET", f"/ideas/{w['private_idea']}", None, {**A, **signed_in, "analyst": 404}),
    ]


@pytest.fixture
def matrix(world, client, finished):
    """The world, with the analyst appointed, a public thread, the member's post, the manager's
    done report on the private space, and a conversation between the member and the moderator."""
    w = dict(world, anonymous=Anonymous(client))
    assert w["manager"].put(f"{API}/brands/{w['brand']}/analysts/{w['analyst'].id}").status_code == 200
    created = w["moderator"].post(f"{API}/spaces/{w['public']}/threads", json={"title": "Hello", "body": "Who runs?"})
    w["thread"] = created.get_json()["id"]
    w["member_post"] = w["member"].post(f"{API}/threads/{w['thread']}/posts", json={"body": "I do"}).get_json()["id"]
    report = w["manager"].post(f"{API}/reports", json={"space_id": w["private"]})
    assert report.status_code == 202, report.get_json()
    w["private_report"] = report.get_json()["id"]
    finished(w["private_report"])
    started = w["member"].post(f"{API}/conversations", json={"handles": ["mod_maya"], "body": "just us"})
    assert started.status_code == 201, started.get_json()
    w["conversation"] = started.get_json()["id"]
    start = datetime.now(timezone.utc) + timedelta(days=7)
    w["event_body"] = {"title": "Run", "mode": "in_person", "location": "The pier", "starts_at": start.isoformat(),
                       "ends_at": (start + timedelta(hours=1)).isoformat(), "time_zone": "Europe/Paris"}
    for key, space in (("public_event", w["public"]), ("private_event", w["private"])):
        w[key] = w["manager"].post(f"{API}/spaces/{space}/events", json=w["event_body"]).get_json()["id"]
    for key, space in (("public_idea", w["public"]), ("private_idea", w["private"])):
        idea = w["member"].post(f"{API}/spaces/{space}/ideas", json={"title": "Refills", "body": "At every race"})
        assert idea.status_code == 201, idea.get_json()
        w[key] = idea.get_json()["id"]
    return w


@pytest.mark.parametrize("actor", ACTORS)
def test_every_row_of_the_table(matrix, actor):
    caller, wrong = matrix[actor], []
    for row, method, path, body, expected in _rows(matrix):
        kwargs = {"json": body} if body is not None else {}
        response = getattr(caller, method.lower())(API + path, **kwargs)
        if response.status_code != expected[actor]:
            wrong.append((row, method, path, expected[actor], response.status_code, response.get_json()))
    assert not wrong, "\n".join(map(str, wrong))
