"""Reports through the REST API in embedded mode: request, progress, result, exports, cancel,
compare, who may see what, erasure; and report_progress reaching a real Socket.IO client."""

from __future__ import annotations

import csv
import io
import time

import networkx as nx
import pytest

from core.extensions import db



def thread(actor, space, body="Who is coming to the Saturday run?"):
    created = actor.post(f"/api/v1/spaces/{space}/threads", json={"title": "Saturday", "body": body})
    assert created.status_code == 201, created.get_json()
    first = actor.get(f"/api/v1/threads/{created.get_json()['id']}/posts").get_json()["items"][0]
    return created.get_json()["id"], first["id"]


def reply(actor, thread_id, body, parent):
    response = actor.post(f"/api/v1/threads/{thread_id}/posts", json={"body": body, "parent_id": parent})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@pytest.fixture
def talk(world, make_actor):
    """A public space where the moderator's thread draws replies from the member and a few light users."""
    mod, member = world["moderator"], world["member"]
    thread_id, first = thread(mod, world["public"])
    for i in range(4):
        person = make_actor(handle=f"light_{i}")
        assert world["manager"].put(f"/api/v1/spaces/{world['public']}/members/{person.id}",
                                    json={"role": "member"}).status_code == 200
        reply(person, thread_id, f"I'd like to come too ({i})", first)
    reply(member, thread_id, "Count me in, @brand_boss are you coming?", first)
    assert world["manager"].put(f"/api/v1/brands/{world['brand']}/analysts/{world['analyst'].id}").status_code == 200
    return world


def run(actor, finished, **body):
    response = actor.post("/api/v1/reports", json=body)
    assert response.status_code == 202, response.get_json()
    report = response.get_json()
    assert report["status"] in ("queued", "running", "done")
    finished(report["id"])
    return actor.get(f"/api/v1/reports/{report['id']}").get_json()


def test_a_report_runs_in_the_background_and_its_result_and_exports_are_served(talk, finished):
    analyst = talk["analyst"]
    report = run(analyst, finished, brand_id=talk["brand"], seed=3, top=10)
    assert (report["status"], report["stage"], report["percent"]) == ("done", "done", 100), report
    assert report["params"]["seed"] == 3 and report["params"]["top"] == 10 and report["snapshot_at"]
    assert report["requested_by"] == analyst.id and report["finished_at"] >= report["created_at"]
    result = analyst.get(f"/api/v1/reports/{report['id']}/result").get_json()
    assert result["graph"]["nodes"] >= 6 and result["version"] == report["version"] == 1
    assert f"a:{talk['member'].id}" in {m["node"] for c in result["communities"] for m in c["key_members"]} | {
        o["node"] for o in result["opportunities"]} | {f"a:{talk['member'].id}"}
    assert sum(result["segments"].values()) == result["graph"]["nodes"]
    assert result["opportunities"] and all(o["reasons"] and o["suggested_action"] for o in result["opportunities"])
    assert {"total", "clv_status", "by_segment"} <= set(result["customer_equity"]) and result["notes"]

    base = f"/api/v1/reports/{report['id']}/export"
    for fmt, ctype in (("json", "application/json"), ("csv", "text/csv"), ("graphml", "application/graphml+xml"),
                       ("gexf", "application/gexf+xml"), ("png", "image/png")):
        response = analyst.get(f"{base}.{fmt}")
        assert response.status_code == 200 and response.content_type.startswith(ctype), (fmt, response.status)
        assert response.headers["Content-Disposition"] == f'attachment; filename="report-{report["id"]}.{fmt}"'
    rows = list(csv.DictReader(io.StringIO(analyst.get(f"{base}.csv").get_data(as_text=True))))
    assert [int(r["rank"]) for r in rows] == [o["rank"] for o in result["opportunities"]]
    assert rows[0]["key"] == result["opportunities"][0]["node"] and rows[0]["suggested_action"]
    G = nx.read_graphml(io.BytesIO(analyst.get(f"{base}.graphml").data))
    assert len(G) == result["graph"]["nodes"] and G.number_of_edges() == result["graph"]["edges"]
    assert len(nx.read_gexf(io.BytesIO(analyst.get(f"{base}.gexf").data))) == len(G)
    assert analyst.get(f"{base}.png").data[:8] == b"\x89PNG\r\n\x1a\n"
    assert analyst.get(f"{base}.json").get_json() == result


def test_space_and_purpose_scopes_and_the_list_newest_first(talk, finished):
    analyst = talk["analyst"]
    first = run(analyst, finished, space_id=talk["public"])
    assert (first["space_id"], first["purpose_id"]) == (talk["public"], talk["life"])
    second = run(analyst, finished, purpose_id=talk["societal"], since="2026-01-01T00:00:00+00:00")
    assert second["params"]["since"] == "2026-01-01T00:00:00+00:00"
    page = analyst.get(f"/api/v1/reports?brand_id={talk['brand']}&limit=1").get_json()
    assert [r["id"] for r in page["items"]] == [second["id"]] and page["next_cursor"]
    rest = analyst.get(f"/api/v1/reports?brand_id={talk['brand']}&limit=1&cursor={page['next_cursor']}").get_json()
    assert [r["id"] for r in rest["items"]] == [first["id"]] and rest["next_cursor"] is None


@pytest.mark.parametrize("body, field", [
    ({}, "_schema"), ({"brand_id": 1, "space_id": 1}, "_schema"), ({"brand_id": 1, "top": 0}, "top"),
    ({"brand_id": 1, "top": 501}, "top"), ({"brand_id": 1, "since": "2026-01-01T00:00:00"}, "since"),
    ({"brand_id": 1, "half_life_days": 0}, "half_life_days"), ({"brand_id": 1, "colour": "red"}, "colour"),
    ({"brand_id": 2**31}, "brand_id"),
])
def test_bad_requests_are_422_naming_the_field(talk, body, field):
    response = talk["analyst"].post("/api/v1/reports", json=body)
    assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()


def test_missing_scopes_and_reports_are_404(talk):
    analyst = talk["analyst"]
    for body in ({"brand_id": 999999}, {"purpose_id": 999999}, {"space_id": 999999}):
        assert analyst.post("/api/v1/reports", json=body).status_code == 404
    for path in ("/reports/999999", "/reports/999999/result", "/reports/999999/export.csv", "/reports?brand_id=999999"):
        assert analyst.get("/api/v1" + path).status_code == 404
    assert analyst.post("/api/v1/reports/999999/cancel").status_code == 404


def test_who_may_request_and_see_reports(talk, finished, make_actor):
    brand, analyst = talk["brand"], talk["analyst"]
    other_brand = talk["admin"].post("/api/v1/brands", json={"name": "Elsewhere"}).get_json()["id"]
    foreign = make_actor("analyst", "foreign_analyst")
    assert talk["admin"].put(f"/api/v1/brands/{other_brand}/analysts/{foreign.id}").status_code == 200
    report = run(analyst, finished, brand_id=brand)
    allowed = {"analyst": analyst, "manager": talk["manager"], "admin": talk["admin"]}
    refused = {"foreign analyst": foreign, "member": talk["member"], "outsider": talk["outsider"]}
    for who, actor in allowed.items():
        assert actor.get(f"/api/v1/reports/{report['id']}").status_code == 200, who
        assert actor.get(f"/api/v1/reports/{report['id']}/result").status_code == 200, who
        assert actor.get(f"/api/v1/reports?brand_id={brand}").status_code == 200, who
    for who, actor in refused.items():
        for path in ("", "/result", "/export.graphml", f"/compare/{report['id']}"):
            assert actor.get(f"/api/v1/reports/{report['id']}{path}").status_code == 404, (who, path)
        assert actor.post(f"/api/v1/reports/{report['id']}/cancel").status_code == 404, who
        assert actor.get(f"/api/v1/reports?brand_id={brand}").status_code == 403, who
        for body in ({"brand_id": brand}, {"purpose_id": talk["life"]}, {"space_id": talk["public"]}):
            assert actor.post("/api/v1/reports", json=body).status_code == 403, (who, body)
    # A private space is not revealed to someone who cannot see it; its own member is told 403.
    assert foreign.post("/api/v1/reports", json={"space_id": talk["private"]}).status_code == 404
    assert talk["member"].post("/api/v1/reports", json={"space_id": talk["private"]}).status_code == 403
    # Nor to the brand's analyst who is not its member (issue 23, item 8: tests/graph/test_report_privacy.py).
    assert analyst.post("/api/v1/reports", json={"space_id": talk["private"]}).status_code == 404
    assert foreign.get(f"/api/v1/reports?brand_id={other_brand}").get_json()["items"] == []
    assert foreign.get(f"/api/v1/reports?brand_id={brand}").status_code == 403


def test_cancelling_a_queued_report_stops_it_before_it_runs(app, talk):
    from graph.models import GraphReport
    from graph.tasks import execute_report

    with app.app_context():  # queued, as when no worker has taken it yet
        report = GraphReport(brand_id=talk["brand"], requested_by=talk["analyst"].id, params={"seed": 0, "top": 5, "private_spaces": []})
        db.session.add(report)
        db.session.commit()
        report_id = report.id
    analyst = talk["analyst"]
    cancelled = analyst.post(f"/api/v1/reports/{report_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    with app.app_context():
        assert execute_report(report_id) == "finished"  # a worker receiving it now does nothing
    body = analyst.get(f"/api/v1/reports/{report_id}").get_json()
    assert (body["status"], body["finished_at"] is not None) == ("cancelled", True)
    again = analyst.post(f"/api/v1/reports/{report_id}/cancel")
    assert again.status_code == 409 and again.get_json()["type"].endswith("report-finished")
    for path in ("/result", "/export.csv", "/export.png", f"/compare/{report_id}"):
        assert analyst.get(f"/api/v1/reports/{report_id}{path}").status_code == 409, path


def test_compare_two_reports_and_refuse_other_brands(talk, finished, make_actor):
    analyst = talk["analyst"]
    older = run(analyst, finished, brand_id=talk["brand"], top=20)
    newcomer = make_actor(handle="newcomer")
    assert talk["manager"].put(f"/api/v1/spaces/{talk['public']}/members/{newcomer.id}", json={"role": "member"}).status_code == 200
    thread_id, first = thread(talk["moderator"], talk["public"], "Second run?")
    reply(newcomer, thread_id, "Yes please", first)
    newer = run(analyst, finished, brand_id=talk["brand"], top=20)
    response = analyst.get(f"/api/v1/reports/{newer['id']}/compare/{older['id']}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["older_id"], body["newer_id"]) == (older["id"], newer["id"])
    assert f"a:{newcomer.id}" in {e["node"] for e in body["new_entries"]}
    assert set(body) >= {"moved_up", "moved_down", "dropped_out", "converted"}
    admin = talk["admin"]
    other_brand = admin.post("/api/v1/brands", json={"name": "Elsewhere"}).get_json()["id"]
    elsewhere = run(admin, finished, brand_id=other_brand)
    assert admin.get(f"/api/v1/reports/{older['id']}/compare/{elsewhere['id']}").status_code == 422
    assert analyst.get(f"/api/v1/reports/{older['id']}/compare/{elsewhere['id']}").status_code == 404


def test_erasing_a_person_scrubs_every_stored_report_of_the_brand(app, talk, finished):
    from core.accounts import Account
    from graph.exports import unpack_graph
    from graph.models import GraphReportGraph
    from purpose.models import Stakeholder
    from purpose.stakeholders import link_registration

    manager, brand, analyst = talk["manager"], talk["brand"], talk["analyst"]
    imported = manager.post(f"/api/v1/brands/{brand}/imports/stakeholders?source=crm", content_type="text/csv",
                            data=b"external_id,kind,email,contact_preference\nl0,customer,light_0@example.com,\n")
    assert imported.get_json()["accepted"] == 1, imported.get_json()
    with app.app_context():  # the account exists already: link it as its registration would have
        person = db.session.scalar(db.select(Account).where(Account.handle == "light_0"))
        link_registration(person)
        person_id = person.id
        stakeholder_id = db.session.scalar(db.select(Stakeholder.id).where(Stakeholder.account_id == person_id,
                                                                           Stakeholder.brand_id == brand))
    assert stakeholder_id is not None
    reports = [run(analyst, finished, brand_id=brand), run(analyst, finished, space_id=talk["public"])]
    key = f"a:{person_id}"

    def mentions(report_id):
        result = analyst.get(f"/api/v1/reports/{report_id}/result").get_json()
        listed = {o["node"] for o in result["opportunities"]} | {b["node"] for b in result["brokers"]} | {
            m["node"] for c in result["communities"] for m in c["key_members"]}
        with app.app_context():
            G = unpack_graph(db.session.get(GraphReportGraph, report_id).data)
        return key in listed, key in G

    assert all(mentions(r["id"])[1] for r in reports)
    assert any(mentions(r["id"])[0] for r in reports)
    assert manager.delete(f"/api/v1/stakeholders/{stakeholder_id}").status_code == 204
    for r in reports:
        assert mentions(r["id"]) == (False, False)
        for fmt in ("csv", "graphml", "json"):
            assert key not in analyst.get(f"/api/v1/reports/{r['id']}/export.{fmt}").get_data(as_text=True)
        people = analyst.get(f"/api/v1/reports/{r['id']}/people", query_string={"limit": 200}).get_json()["items"]
        assert people and key not in {p["node"] for p in people} and stakeholder_id not in {p["stakeholder_id"] for p in people}
        assert key not in analyst.get(f"/api/v1/reports/{r['id']}/people.csv").get_data(as_text=True)
        ranks = [o["rank"] for o in analyst.get(f"/api/v1/reports/{r['id']}/result").get_json()["opportunities"]]
        assert ranks == list(range(1, len(ranks) + 1))


def test_report_progress_reaches_the_analysts_socket(app, live, clients, tmp_path):
    from tests.live import live_community

    # A server on a fresh machine: matplotlib has no font cache yet, so it must build one
    # (with a subprocess) before the first picture, which is drawn off the gevent loop.
    community = live_community(app, live(env={"MPLCONFIGDIR": str(tmp_path)}), members=("ana_live", "bob_live"),
                               outsiders=("eve_live",))
    server, admin = community["server"], community["admin"]
    thread_id = community["thread"]
    first = server.api("GET", f"/threads/{thread_id}/posts", admin["token"]).json()["items"][0]["id"]
    server.api("POST", f"/threads/{thread_id}/posts", community["bob_live"]["token"], json={"body": "me too", "parent_id": first})
    watcher, other = clients(server, admin["token"]), clients(server, community["eve_live"]["token"])
    for client in (watcher, other):
        client.sio.on("report_progress", client._collector("report_progress"))
    brand = server.api("GET", f"/spaces/{community['public']}", admin["token"]).json()
    purpose = brand["purpose_id"]
    response = server.api("POST", "/reports", admin["token"], json={"purpose_id": purpose, "seed": 1})
    assert response.status_code == 202, response.text
    report_id = response.json()["id"]
    events = []
    while not events or events[-1]["status"] not in ("done", "failed", "cancelled"):
        events.append(watcher.next("report_progress"))
    assert {e["report_id"] for e in events} == {report_id}
    assert events[-1] == {"report_id": report_id, "status": "done", "stage": "done", "percent": 100}
    percents = [e["percent"] for e in events]
    assert percents == sorted(percents) and len(events) >= 4
    assert {"load", "metrics", "opportunities"} <= {e["stage"] for e in events}
    assert server.api("GET", f"/reports/{report_id}", admin["token"]).json()["status"] == "done"
    assert other.drain("report_progress") == []  # nobody else hears it
    graphml = server.api("GET", f"/reports/{report_id}/export.graphml", admin["token"])  # built off the gevent loop
    assert graphml.status_code == 200 and f"a:{community['bob_live']['id']}" in nx.read_graphml(io.BytesIO(graphml.content))
    assert server.api("GET", f"/reports/{report_id}/export.png", admin["token"]).content[:4] == b"\x89PNG"


def test_a_brand_has_at_most_a_few_reports_waiting_at_once(make_app, talk, finished):
    from tests.graph.test_tasks import queued

    strict = make_app(GRAPH_REPORT_MAX_ACTIVE=2)
    waiting = [queued(strict, talk), queued(strict, talk)]
    client = strict.test_client()
    headers = {"Authorization": f"Bearer {talk['analyst'].access_token}"}
    busy = client.post("/api/v1/reports", json={"brand_id": talk["brand"]}, headers=headers)
    assert busy.status_code == 409 and busy.get_json()["type"].endswith("reports-busy")
    assert client.post(f"/api/v1/reports/{waiting[0]}/cancel", headers=headers).status_code == 200
    accepted = client.post("/api/v1/reports", json={"brand_id": talk["brand"], "top": 3}, headers=headers)
    assert accepted.status_code == 202
    finished(accepted.get_json()["id"])
    assert client.get(f"/api/v1/reports/{accepted.get_json()['id']}", headers=headers).get_json()["status"] == "done"
    assert client.get(f"/api/v1/reports/{waiting[1]}", headers=headers).get_json()["status"] == "queued"


def _rounded(value):
    """``value`` with every float rounded to 9 places (JSON values)."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _progress(sock, report_id: int) -> list[dict]:
    return [m["args"][0] for m in sock.get_received() if m["name"] == "report_progress" and m["args"][0]["report_id"] == report_id]


def test_a_large_brands_report_runs_in_a_process_of_its_own_and_its_requester_hears_it(app, talk, finished, monkeypatch):
    """In embedded mode a brand of GRAPH_REPORT_PROCESS_FROM people has its reports run by a new
    interpreter (core/offload.py), so that the web process's sockets keep their pace: the server tells
    the requester the progress that process stores, and the outcome once; the result is the one the
    web process computes from the same data."""
    from datetime import datetime, timezone

    from core.extensions import socketio

    analyst = talk["analyst"]
    as_of = datetime.now(timezone.utc).isoformat()  # both runs read the same data as of the same moment
    here = run(analyst, finished, brand_id=talk["brand"], seed=3, as_of=as_of)
    monkeypatch.setitem(app.config, "GRAPH_REPORT_PROCESS_FROM", 1)  # this brand counts as large
    sock = socketio.test_client(app, auth={"token": analyst.access_token})
    there = run(analyst, finished, brand_id=talk["brand"], seed=3, as_of=as_of)
    assert (there["status"], there["stage"], there["percent"], there["error"]) == ("done", "done", 100, None), there
    events = _progress(sock, there["id"])
    assert events[-1] == {"report_id": there["id"], "status": "done", "stage": "done", "percent": 100}
    assert [e for e in events if e["status"] != "running"] == [events[-1]]  # the outcome, told once
    assert [e["percent"] for e in events] == sorted(e["percent"] for e in events)
    results = [analyst.get(f"/api/v1/reports/{r['id']}/result").get_json() for r in (here, there)]
    for key in ("graph", "segments", "communities", "opportunities", "brokers"):
        assert _rounded(results[0][key]) == _rounded(results[1][key]), key  # sums in another order: last digits
    sock.disconnect()


def test_a_report_whose_process_fails_is_failed_at_once_and_its_requester_told(app, talk, finished, monkeypatch):
    """Embedded mode has no sweeper to take a dead run over: a report whose process ends without storing
    (here: settings a new process cannot start with) is failed when the process ends, not left running."""
    from core.extensions import socketio

    analyst = talk["analyst"]
    monkeypatch.setitem(app.config, "GRAPH_REPORT_PROCESS_FROM", 0)
    monkeypatch.setitem(app.config, "SMTP_URL", "mail.example.org")  # refused by any new process's load_config
    sock = socketio.test_client(app, auth={"token": analyst.access_token})
    report = run(analyst, finished, brand_id=talk["brand"])
    assert (report["status"], report["error"]) == ("failed", "the report's process ended with status 1"), report
    assert _progress(sock, report["id"])[-1]["status"] == "failed"
    sock.disconnect()


def test_the_server_relays_the_progress_a_reports_process_stores_once_per_change(app, talk):
    """A report in a process of its own stores its stage and percent; the waiting server tells the
    requester each change once (its beats come more often than the stages change)."""
    from core.extensions import socketio
    from graph.models import GraphReport, ReportStatus
    from graph.tasks import _relay_progress

    analyst = talk["analyst"]
    sock = socketio.test_client(app, auth={"token": analyst.access_token})
    with app.app_context():
        report = GraphReport(brand_id=talk["brand"], requested_by=analyst.id, status=ReportStatus.running,
                             stage="metrics", percent=40)
        db.session.add(report)
        db.session.commit()
        report_id, told = report.id, {}
        for percent in (40, 40, 55, 55):  # what the process has stored at each beat
            db.session.get(GraphReport, report_id).percent = percent
            db.session.commit()
            _relay_progress(report_id, told)
        db.session.remove()
    assert _progress(sock, report_id) == [
        {"report_id": report_id, "status": "running", "stage": "metrics", "percent": percent} for percent in (40, 55)]
    sock.disconnect()


def test_pictures_asked_for_at_once_all_come(app, live):
    """The graph picture is drawn off the gevent loop in a native thread; two drawn at once hung on
    matplotlib's gevent-made lock (a page asking twice waited for ever). Many at once: every one comes."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from tests.live import WAIT, live_community

    community = live_community(app, live(), members=("pia_png", "raj_png"))
    server, admin = community["server"], community["admin"]
    first = server.api("GET", f"/threads/{community['thread']}/posts", admin["token"]).json()["items"][0]["id"]
    server.api("POST", f"/threads/{community['thread']}/posts", community["raj_png"]["token"], json={"body": "me too", "parent_id": first})
    purpose = server.api("GET", f"/spaces/{community['public']}", admin["token"]).json()["purpose_id"]
    report_id = server.api("POST", "/reports", admin["token"], json={"purpose_id": purpose}).json()["id"]
    deadline = time.monotonic() + 120  # a small report on a busy machine: well under a minute
    while server.api("GET", f"/reports/{report_id}", admin["token"]).json()["status"] != "done":
        assert time.monotonic() < deadline, "the report did not finish"
        time.sleep(0.1)  # polling a condition with a deadline, not standing in for an event

    def picture(_):
        response = requests.get(f"{server.url}/api/v1/reports/{report_id}/export.png", timeout=WAIT,
                                headers={"Authorization": f"Bearer {admin['token']}"})
        return response.status_code, response.content[:4]

    with ThreadPoolExecutor(6) as pool:
        assert set(pool.map(picture, range(60))) == {(200, b"\x89PNG")}
