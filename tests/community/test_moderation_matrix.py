"""Who may moderate what: every role against its own space, another space of the same brand, another brand's space.

Roles: platform admin, brand manager, space moderator (of ``public`` and ``private`` only),
member, analyst (assigned to the brand), outsider. Allowed calls succeed (or meet the
state conflict they should); refused ones are 403, or 404 where the space is private
and the caller may not see it.
"""

from __future__ import annotations

import pytest

from tests.community.moderation_fixtures import mw  # noqa: F401 (fixture)

API = "/api/v1"
ROLES = ("admin", "manager", "moderator", "member", "analyst", "outsider")
# Where each space's threads may be moved for the matrix (a space of the same brand).
MOVE_TO = {"public": "private", "private": "public", "walkers": "public", "rivals": "rival_core", "rival_core": "rivals"}
STAFF_OF = {
    "admin": {"public", "private", "walkers", "rivals", "rival_core"},
    "manager": {"public", "private", "walkers"},
    "moderator": {"public", "private"},
}
CAN_SEE_PRIVATE = {"private": {"admin", "manager", "moderator", "member"}, "rival_core": {"admin", "moderator", "member"}}


def _calls(mw, space: str):
    s, (t, p), target = mw[space], mw["threads"][space], mw["poster"].id
    reason = {"reason": "matrix"}
    return [
        ("POST", f"/posts/{p}/hide", reason, 200),
        ("POST", f"/posts/{p}/unhide", reason, 200),
        ("POST", f"/threads/{t}/lock", reason, 200),
        ("POST", f"/threads/{t}/unlock", reason, 200),
        ("POST", f"/threads/{t}/pin", reason, 200),
        ("POST", f"/threads/{t}/unpin", reason, 200),
        ("GET", f"/spaces/{s}/moderation/queue", None, 200),
        ("GET", f"/spaces/{s}/moderation/audit", None, 200),
        ("PATCH", f"/spaces/{s}/moderation/settings", {"slow_mode_seconds": 0, **reason}, 200),
        ("PUT", f"/spaces/{s}/mutes/{target}", {"until": "2999-01-01T00:00:00Z", **reason}, 200),
        ("POST", f"/spaces/{s}/mutes/{target}/lift", reason, 204),
        ("GET", f"/spaces/{s}/sanctions", None, 200),
        ("POST", f"/posts/{p}/flags/dismiss", reason, 409),  # allowed, but nothing is pending
        ("POST", f"/posts/{p}/appeal/deny", reason, 409),
        ("PUT", f"/spaces/{s}/bans/{target}", reason, 200),
        ("POST", f"/spaces/{s}/bans/{target}/lift", reason, 204),
        ("POST", f"/posts/{p}/remove", reason, 200),
        ("POST", f"/threads/{t}/move", {"space_id": mw[MOVE_TO[space]], **reason}, 200),
    ]


def _call(actor, method, path, body):
    kwargs = {"json": body} if body is not None else {}
    return getattr(actor, method.lower())(API + path, **kwargs)


@pytest.mark.parametrize("space", ["public", "walkers", "rivals", "private", "rival_core"])
@pytest.mark.parametrize("role", ROLES)
def test_space_moderation_matrix(mw, role, space):
    actor, staff_here = mw[role], STAFF_OF.get(role, set())
    visible = space not in CAN_SEE_PRIVATE or role in CAN_SEE_PRIVATE[space]
    for method, path, body, ok_status in _calls(mw, space):
        response = _call(actor, method, path, body)
        # Moving needs staff rights in both spaces.
        allowed = space in staff_here and (not path.endswith("/move") or MOVE_TO[space] in staff_here)
        expected = ok_status if allowed else (403 if visible else 404)
        assert response.status_code == expected, (role, space, method, path, response.get_json())
    if space in STAFF_OF.get(role, set()):
        actions = [e["action"] for e in _call(actor, "GET", f"/spaces/{mw[space]}/moderation/audit", None).get_json()["items"]]
        assert "post_deleted" in actions and "member_banned" in actions and "thread_locked" in actions


@pytest.mark.parametrize("role", ROLES)
def test_brand_and_platform_queues_and_logs(mw, role):
    actor = mw[role]
    for brand, managers in ((mw["brand"], {"admin", "manager"}), (mw["rival_brand"], {"admin"})):
        for path in (f"/brands/{brand}/moderation/queue", f"/brands/{brand}/moderation/audit"):
            assert _call(actor, "GET", path, None).status_code == (200 if role in managers else 403), (role, path)
    assert _call(actor, "GET", "/moderation/audit", None).status_code == (200 if role == "admin" else 403)
    suspend = _call(actor, "POST", f"/accounts/{mw['poster'].id}/suspend", {"reason": "matrix"})
    assert suspend.status_code == (200 if role == "admin" else 403)


def test_the_rival_brand_manager_cannot_touch_our_spaces(mw):
    rival = mw["rival_boss"]
    _t, post_id = mw["threads"]["public"]
    assert rival.post(f"{API}/posts/{post_id}/hide", json={"reason": "x"}).status_code == 403
    _t, private_post = mw["threads"]["private"]
    assert rival.post(f"{API}/posts/{private_post}/hide", json={"reason": "x"}).status_code == 404
    thread_id, _p = mw["threads"]["rivals"]
    moved = rival.post(f"{API}/threads/{thread_id}/move", json={"space_id": mw["public"], "reason": "x"})
    assert moved.status_code == 422 and moved.get_json()["type"] == "different-brand"


def test_moderators_cannot_sanction_staff(mw):
    moderator, manager = mw["moderator"], mw["manager"]
    response = moderator.put(f"{API}/spaces/{mw['public']}/bans/{manager.id}", json={"reason": "coup"})
    assert response.status_code == 403 and response.get_json()["type"] == "target-is-staff"
    response = manager.put(f"{API}/spaces/{mw['public']}/mutes/{moderator.id}", json={"until": "2999-01-01T00:00:00Z", "reason": "x"})
    assert response.status_code == 403 and response.get_json()["type"] == "target-is-staff"
