"""Reports and private spaces (issue 23, item 8): a report holds nothing its reader could not
read. An analyst who is not a member of a private space gets reports without its
conversations, cannot report on it, and cannot read a report that drew on it."""

from __future__ import annotations

import pytest

from tests.graph.test_reports_api import reply, run, talk, thread  # noqa: F401 (fixtures)

API = "/api/v1"


@pytest.fixture
def hush(talk, make_actor):
    """The private space "Core team" has its own conversation: a secret member's thread, a reply."""
    secret = make_actor(handle="secret_sam")
    assert talk["manager"].put(f"{API}/spaces/{talk['private']}/members/{secret.id}", json={"role": "member"}).status_code == 200
    thread_id, first = thread(secret, talk["private"], body="Plans only the core team may read")
    reply(talk["member"], thread_id, "Agreed, @secret_sam", first)
    return talk


def graphml(actor, report_id) -> str:
    response = actor.get(f"{API}/reports/{report_id}/export.graphml")
    assert response.status_code == 200, response.get_json()
    return response.get_data(as_text=True)


def test_a_private_space_out_of_sight_cannot_be_reported_on(hush, finished):
    analyst, private = hush["analyst"], hush["private"]
    refused = analyst.post(f"{API}/reports", json={"space_id": private})
    never_used = analyst.post(f"{API}/reports", json={"space_id": 999999})
    assert refused.status_code == 404 and refused.get_json() == never_used.get_json()
    report = run(hush["manager"], finished, space_id=private)  # the brand's manager sees the space
    assert report["status"] == "done" and "secret_sam" in graphml(hush["manager"], report["id"])


def test_an_analysts_reports_leave_out_private_spaces_they_cannot_see(hush, finished):
    analyst = hush["analyst"]
    for scope in ({"brand_id": hush["brand"]}, {"purpose_id": hush["societal"]}):
        report = run(analyst, finished, **scope)
        assert report["status"] == "done" and report["params"]["private_spaces"] == [], report
        text = graphml(analyst, report["id"]) + str(analyst.get(f"{API}/reports/{report['id']}/result").get_json())
        assert "secret_sam" not in text and "Core team" not in text, scope
    assert "mod_maya" in graphml(analyst, run(analyst, finished, brand_id=hush["brand"])["id"])  # public talk is there


def test_a_report_drawing_on_a_private_space_is_hidden_from_readers_who_cannot_see_it(hush, finished):
    analyst, manager, brand = hush["analyst"], hush["manager"], hush["brand"]
    full = run(manager, finished, brand_id=brand)
    assert full["params"]["private_spaces"] == [hush["private"]]
    text = graphml(manager, full["id"])
    assert "secret_sam" in text and "Core team" in text
    never_used = analyst.get(f"{API}/reports/999999").get_json()
    for tail in ("", "/result", "/export.graphml", "/export.csv", f"/compare/{full['id']}"):
        response = analyst.get(f"{API}/reports/{full['id']}{tail}")
        assert response.status_code == 404 and response.get_json() == never_used, tail
    assert analyst.post(f"{API}/reports/{full['id']}/cancel").status_code == 404
    own = run(analyst, finished, brand_id=brand)
    listed = [r["id"] for r in analyst.get(f"{API}/reports?brand_id={brand}").get_json()["items"]]
    assert listed == [own["id"]]
    assert {r["id"] for r in manager.get(f"{API}/reports?brand_id={brand}").get_json()["items"]} == {own["id"], full["id"]}
    # Made a member of the space, the analyst may read it.
    assert manager.put(f"{API}/spaces/{hush['private']}/members/{analyst.id}", json={"role": "member"}).status_code == 200
    assert analyst.get(f"{API}/reports/{full['id']}/result").status_code == 200
