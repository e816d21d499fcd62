"""People snapshots over REST: built in the background, listed, filtered, sorted and paged by SQL,
stale after a change to the brand's people, and never serving an erased or objecting person."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from purpose.models import PeopleSnapshot, SnapshotStatus
from tests.helpers import register
from tests.purpose.test_people_api import jsonl, purchase, upload, NOW

#: Seconds a snapshot build may take before the test fails (a handful of people: well under one; a
#: build in a process of its own starts a new interpreter, which can take 30 s on a loaded machine).
BUILD_WAIT = 120


@pytest.fixture
def built():
    """``built(snapshot_id)`` waits until the background build of that snapshot has ended."""
    from purpose.snapshots import snapshot_finished

    done, cond = set(), threading.Condition()

    def on_finished(snapshot_id, **_):
        with cond:
            done.add(snapshot_id)
            cond.notify_all()

    snapshot_finished.connect(on_finished)

    def wait(snapshot_id):
        with cond:
            assert cond.wait_for(lambda: snapshot_id in done, timeout=BUILD_WAIT), f"snapshot {snapshot_id} was not built"

    yield wait
    snapshot_finished.disconnect(on_finished)


def listing(actor, brand, status=200, **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    response = actor.get(f"/api/v1/brands/{brand}/people?{qs}")
    assert response.status_code == status, response.get_json()
    return response.get_json()


def newest_build(app, brand) -> int:
    with app.app_context():
        found = db.session.scalar(select(func.max(PeopleSnapshot.id)).where(PeopleSnapshot.brand_id == brand))
        db.session.remove()
    return found


def settled(app, built, brand) -> None:
    """Wait for the brand's build under way, if any (``built`` heard every end since the test began)."""
    with app.app_context():
        running = db.session.scalar(select(PeopleSnapshot.id).where(PeopleSnapshot.brand_id == brand,
                                                                    PeopleSnapshot.status == SnapshotStatus.building))
        db.session.remove()
    if running is not None:
        built(running)


def rebuilt(app, built, actor, brand, **query) -> dict:
    """Ask (which schedules a build when the snapshot is stale or missing), wait for that build, ask again.
    A build under way is waited for first: it may have read the latest change already."""
    settled(app, built, brand)
    before = newest_build(app, brand)
    first = actor.get(f"/api/v1/brands/{brand}/people")
    assert first.status_code in (200, 202), first.get_json()
    build = newest_build(app, brand)
    if build == before:  # the build we waited for already saw the latest change: nothing to rebuild
        assert first.status_code == 200 and first.get_json()["snapshot"]["stale"] is False, first.get_json()
    else:
        built(build)
    return listing(actor, brand, **query)


CRM = "external_id,kind,email,contact_preference,display_name\n"


@pytest.fixture
def crowd(world):
    """Six people the brand knows by name: four buyers, a prospect, an NGO contact who came to an event."""
    manager, brand = world["manager"], world["brand"]
    rows = [("big", "customer", "big@example.com", "", "Bea Big"), ("mid", "customer", "", "", "Milo Mid"),
            ("small", "customer", "", "marriage", "Sam Small"), ("old", "customer", "", "", "Olga Old"),
            ("p1", "prospect", "pros@example.com", "", "Pia Prospect"), ("ngo1", "ngo", "", "fling", "Nils Ngo")]
    body = CRM + "".join(",".join(r) + "\n" for r in rows)
    assert upload(manager, brand, "stakeholders", body, source="crm").get_json()["accepted"] == 6
    buys = [purchase(f"big-{i}", "big", 5 + 10 * i, 400) for i in range(6)]
    buys += [purchase(f"mid-{i}", "mid", 20 + 30 * i, 60) for i in range(3)]
    buys += [purchase("small-0", "small", 40, 15), purchase("old-0", "old", 800, 90)]
    buys.append({"external_id": "ev-1", "stakeholder_external_id": "ngo1", "kind": "event",
                 "occurred_at": (NOW - timedelta(days=3)).isoformat(), "event_ref": "beach-day"})
    assert upload(manager, brand, "touchpoints", jsonl(buys), "application/x-ndjson", source="crm").get_json()["rejected"] == 0
    return world


def by_external_id(page) -> dict:
    return {p["external_id"]: p for p in page["items"]}


def test_the_first_listing_builds_in_the_background_and_then_serves_the_snapshot(crowd, app, built):
    manager, brand = crowd["manager"], crowd["brand"]
    waiting = listing(manager, brand, status=202)
    assert waiting["items"] == [] and waiting["snapshot"] is None and waiting["building"] is True
    built(newest_build(app, brand))
    page = listing(manager, brand)
    snap = page["snapshot"]
    assert snap["stale"] is False and snap["people"] == 6 and page["building"] is False
    assert 0 <= snap["age_seconds"] < BUILD_WAIT and snap["as_of"]
    people = by_external_id(page)
    # The same profile the per-request path computes, stored flat.
    profiles = {p["stakeholder"]["external_id"]: p for p in
                manager.get(f"/api/v1/brands/{brand}/stakeholders").get_json()["items"]}
    for ext, p in people.items():
        assert p["segment"] == profiles[ext]["segment"] and p["pyramid_level"] == profiles[ext]["pyramid"]["level"]
        assert p["style"] == profiles[ext]["style"] and p["monetary"] == profiles[ext]["rfm"]["monetary"]
    assert people["big"]["display_name"] == "Bea Big" and people["big"]["monetary"] == 2400.0
    assert people["p1"]["kind"] == "nonuser" and people["big"]["recency_days"] == pytest.approx(5, abs=0.1)
    assert people["ngo1"]["last_active_at"] is not None and people["p1"]["last_active_at"] is None

    summary = manager.get(f"/api/v1/brands/{brand}/people/segments").get_json()
    assert summary["snapshot"]["id"] == snap["id"] and summary["people"] == 6
    counted = {s["segment"]: s["count"] for s in summary["segments"]}
    assert counted == {s: sum(1 for p in people.values() if p["segment"] == s) for s in counted}
    assert sum(level["count"] for level in summary["pyramid"]) == 6
    assert sum(s["revenue"] for s in summary["segments"]) == pytest.approx(2400 + 180 + 15 + 90)
    assert summary["customer_equity"] is None  # too few buyers for a CLV model
    # Nobody asked twice builds twice: the snapshot is current, so no build was scheduled.
    assert newest_build(app, brand) == snap["id"]


def test_names_are_for_the_brands_staff_only(crowd, app, built, make_actor):
    manager, brand, analyst = crowd["manager"], crowd["brand"], crowd["analyst"]
    listing(manager, brand, status=202)
    built(newest_build(app, brand))
    for outsider in (crowd["member"], crowd["outsider"], analyst):  # the analyst is not assigned yet
        assert outsider.get(f"/api/v1/brands/{brand}/people").status_code == 403
        assert outsider.get(f"/api/v1/brands/{brand}/people?q=Bea").status_code == 403
        assert outsider.get(f"/api/v1/brands/{brand}/people/segments").status_code == 403
    assert manager.put(f"/api/v1/brands/{brand}/analysts/{analyst.id}").status_code == 200
    found = listing(analyst, brand, q="bea")["items"]
    assert [(p["display_name"], p["external_id"]) for p in found] == [("Bea Big", "big")]
    assert [p["display_name"] for p in listing(analyst, brand, q="mid")["items"]] == ["Milo Mid"]  # an external id
    assert listing(analyst, brand, q="%")["items"] == []  # a character, not a pattern
    assert manager.get("/api/v1/brands/999999/people").status_code == 404


def test_filters_sorts_and_pages(crowd, app, built):
    manager, brand = crowd["manager"], crowd["brand"]
    listing(manager, brand, status=202)
    built(newest_build(app, brand))
    everyone = by_external_id(listing(manager, brand))
    assert set(by_external_id(listing(manager, brand, kind="nonuser"))) == set(everyone)
    assert listing(manager, brand, kind="member")["items"] == []
    heavy = everyone["big"]["segment"]
    assert set(by_external_id(listing(manager, brand, segment=heavy))) == {e for e, p in everyone.items() if p["segment"] == heavy}
    assert set(by_external_id(listing(manager, brand, style="marriage"))) == {"small"}
    level = everyone["big"]["pyramid_level"]
    assert "big" in by_external_id(listing(manager, brand, level=level))
    # Recency: buyers only, most recent first; last activity: latest first, then a window.
    assert [p["external_id"] for p in listing(manager, brand, sort="recency")["items"]] == ["big", "mid", "small", "old"]
    latest = [p["external_id"] for p in listing(manager, brand, sort="last_active")["items"]]
    assert latest[:2] == ["ngo1", "big"] and latest[-1] == "old" and "p1" not in latest
    since = (NOW - timedelta(days=30)).isoformat().replace("+00:00", "Z")
    assert set(by_external_id(listing(manager, brand, active_after=since))) == {"ngo1", "big", "mid"}
    assert set(by_external_id(listing(manager, brand, active_before=since))) == {"small", "old"}
    # No CLV model (too few buyers) and no graph report yet: those sorts list nobody, those filters match nobody.
    assert listing(manager, brand, sort="clv")["items"] == [] and listing(manager, brand, sort="rank")["items"] == []
    assert listing(manager, brand, clv_min=0)["items"] == [] and listing(manager, brand, community=0)["items"] == []
    # Pages: every person once, in order, each page from the same snapshot.
    seen, cursor, snapshots = [], None, set()
    while True:
        page = listing(manager, brand, sort="last_active", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [p["external_id"] for p in page["items"]]
        snapshots.add(page["snapshot"]["id"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == latest and len(snapshots) == 1
    # A cursor belongs to its listing: other filters, or a forged one, are a 422.
    first = listing(manager, brand, limit=2)["next_cursor"]
    assert manager.get(f"/api/v1/brands/{brand}/people?cursor={first}&segment={heavy}").status_code == 422
    snapshot = listing(manager, brand)["snapshot"]["id"]
    assert manager.get(f"/api/v1/brands/{brand}/people?cursor={snapshot}~nonsense").status_code == 422
    assert manager.get(f"/api/v1/brands/{brand}/people?cursor=nonsense").status_code == 422
    assert manager.get(f"/api/v1/brands/{brand}/people?sort=name").status_code == 422
    assert manager.get(f"/api/v1/brands/{brand}/people?purpose_id=999999").status_code == 422
    # A range whose low end is above its high end is refused, not answered with nobody.
    for low, high in (("rank_min=5", "rank_max=2"), ("clv_min=10", "clv_max=1"),
                      ("active_after=2026-02-01T00:00:00Z", "active_before=2026-01-01T00:00:00Z")):
        refused = manager.get(f"/api/v1/brands/{brand}/people?{low}&{high}")
        assert refused.status_code == 422 and low.split("=")[0] in refused.get_json()["errors"], refused.get_json()


def test_each_listed_person_is_their_stored_row_as_documented(crowd, app, built):
    """The listing writes its rows' JSON itself (core/listing.py), converting the driver's values
    itself on the fast path (core.sql.run_raw): it must be what the documented schema gives for the
    same stored rows, value for value, on the fast path and on the stock one (``SQL_FAST_PATH`` off)."""
    from purpose.models import SnapshotPerson
    from purpose.schemas import SnapshotPersonOut

    manager, brand = crowd["manager"], crowd["brand"]
    listing(manager, brand, status=202)
    built(newest_build(app, brand))
    for fast, sort in ((True, "id"), (True, "last_active"), (True, "recency"), (False, "last_active")):
        app.config["SQL_FAST_PATH"] = fast
        page = listing(manager, brand, sort=sort)
        with app.app_context():
            rows = {r.stakeholder_id: r for r in db.session.scalars(
                select(SnapshotPerson).where(SnapshotPerson.snapshot_id == page["snapshot"]["id"]))}
            expected = [SnapshotPersonOut().dump(rows[p["stakeholder_id"]]) for p in page["items"]]
            db.session.remove()
        assert page["items"] == expected and page["items"]


def test_an_import_makes_the_snapshot_stale_and_a_rebuild_serves_the_new_people(crowd, app, built, client):
    manager, brand = crowd["manager"], crowd["brand"]
    first = rebuilt(app, built, manager, brand)
    assert first["snapshot"]["stale"] is False and "new" not in by_external_id(first)
    body = CRM + "new,customer,,,Nora New\n"
    assert upload(manager, brand, "stakeholders", body, source="crm").get_json()["accepted"] == 1
    # The last ready snapshot is served at once, saying it is stale; the request scheduled a rebuild.
    stale = listing(manager, brand)
    assert stale["snapshot"]["id"] == first["snapshot"]["id"] and stale["snapshot"]["stale"] is True
    assert stale["building"] is True and "new" not in by_external_id(stale)
    built(newest_build(app, brand))
    fresh = listing(manager, brand)
    assert fresh["snapshot"]["id"] > first["snapshot"]["id"] and fresh["snapshot"]["stale"] is False
    assert by_external_id(fresh)["new"]["display_name"] == "Nora New"
    # A touchpoint import (another batch) bumps the version too.
    buy = purchase("new-0", "new", 1, 20)
    assert upload(manager, brand, "touchpoints", jsonl([buy]), "application/x-ndjson", source="crm").get_json()["accepted"] == 1
    assert listing(manager, brand)["snapshot"]["stale"] is True
    # Registering with a known email links the prospect: a member from the next snapshot on.
    register(client, "pros")
    assert by_external_id(rebuilt(app, built, manager, brand, kind="member")).keys() == {"p1"}


def test_an_erased_or_objecting_person_is_never_served_once_it_commits(crowd, app, built, client):
    manager, brand = crowd["manager"], crowd["brand"]
    page = rebuilt(app, built, manager, brand, limit=2)
    old_snapshot, cursor = page["snapshot"]["id"], page["next_cursor"]
    people = by_external_id(listing(manager, brand))
    big, mid = people["big"]["stakeholder_id"], people["mid"]["stakeholder_id"]
    assert manager.delete(f"/api/v1/stakeholders/{big}").status_code == 204
    # Right after the erasure commits, before any rebuild: gone from the listing, its pages, searches, counts.
    after = listing(manager, brand)
    assert after["snapshot"]["id"] == old_snapshot and after["snapshot"]["stale"] is True
    assert big not in {p["stakeholder_id"] for p in after["items"]}
    assert listing(manager, brand, q="Bea")["items"] == [] and listing(manager, brand, q="big")["items"] == []
    rest = listing(manager, brand, cursor=cursor, limit=50)
    assert rest["snapshot"]["id"] == old_snapshot and big not in {p["stakeholder_id"] for p in rest["items"]}
    assert manager.get(f"/api/v1/brands/{brand}/people/segments").get_json()["people"] == 5
    assert manager.put(f"/api/v1/stakeholders/{mid}/objection", json={"objected": True}).status_code == 200
    assert mid not in {p["stakeholder_id"] for p in listing(manager, brand)["items"]}
    # The rebuild scheduled meanwhile leaves both out; withdrawing the objection brings the person back with the next one.
    built(newest_build(app, brand))
    rebuilt_ids = {p["stakeholder_id"] for p in listing(manager, brand)["items"]}
    assert big not in rebuilt_ids and mid not in rebuilt_ids
    assert manager.put(f"/api/v1/stakeholders/{mid}/objection", json={"objected": False}).status_code == 200
    assert mid in {p["stakeholder_id"] for p in rebuilt(app, built, manager, brand)["items"]}


def test_a_cursor_keeps_reading_its_snapshot_across_a_rebuild(crowd, app, built):
    manager, brand = crowd["manager"], crowd["brand"]
    first = rebuilt(app, built, manager, brand, limit=3)
    snapshot, as_of = first["snapshot"]["id"], first["snapshot"]["as_of"]
    body = CRM + "late,customer,,,Lara Late\n"
    assert upload(manager, brand, "stakeholders", body, source="crm").get_json()["accepted"] == 1
    newer = rebuilt(app, built, manager, brand)
    assert newer["snapshot"]["id"] != snapshot and "late" in by_external_id(newer)
    # The first listing's next page still reads the first snapshot: same as_of, nobody from the newer one.
    second = listing(manager, brand, limit=3, cursor=first["next_cursor"])
    assert second["snapshot"]["id"] == snapshot and second["snapshot"]["as_of"] == as_of
    assert second["snapshot"]["stale"] is True and "late" not in by_external_id(second)
    assert len(first["items"]) + len(second["items"]) == 6 and second["next_cursor"] is None
    # Two ready snapshots are kept; a third build drops the first, and its cursor says so.
    assert upload(manager, brand, "stakeholders", CRM + "later,customer,,,Leo Later\n", source="crm").status_code == 200
    rebuilt(app, built, manager, brand)
    gone = manager.get(f"/api/v1/brands/{brand}/people?limit=3&cursor={first['next_cursor']}")
    assert gone.status_code == 410 and gone.get_json()["type"].endswith("snapshot-expired")


def test_a_purpose_has_its_own_snapshot(crowd, app, built):
    manager, brand, life = crowd["manager"], crowd["brand"], crowd["life"]
    buy = purchase("tagged-0", "small", 2, 25, purpose=str(life))
    assert upload(manager, brand, "touchpoints", jsonl([buy]), "application/x-ndjson", source="crm").get_json()["accepted"] == 1
    waiting = listing(manager, brand, status=202, purpose_id=life)
    assert waiting["snapshot"] is None
    built(newest_build(app, brand))
    page = listing(manager, brand, purpose_id=life)
    assert page["snapshot"]["purpose_id"] == life and set(by_external_id(page)) == {"small"}
    assert by_external_id(page)["small"]["monetary"] == 25.0


def test_rows_carry_the_latest_done_reports_community_influence_and_rank(crowd, app, built, finished):
    manager, brand = crowd["manager"], crowd["brand"]
    report = manager.post("/api/v1/reports", json={"brand_id": brand, "top": 100})
    assert report.status_code == 202, report.get_json()
    finished(report.get_json()["id"])
    page = rebuilt(app, built, manager, brand)
    assert page["snapshot"]["report_id"] == report.get_json()["id"]
    stored = manager.get(f"/api/v1/reports/{page['snapshot']['report_id']}/people?limit=200").get_json()["items"]
    expected = {p["stakeholder_id"]: p for p in stored if p["stakeholder_id"] is not None}
    assert expected, "the report analysed the brand's people"
    for person in page["items"]:
        if person["stakeholder_id"] in expected:
            theirs = expected[person["stakeholder_id"]]
            assert (person["community"], person["opportunity_rank"]) == (theirs["community"], theirs["opportunity_rank"])
            assert person["pagerank"] == pytest.approx(theirs["pagerank"])
    # The report made the snapshot it fed stale: the next listing's snapshot takes a newer report's measures.
    again = manager.post("/api/v1/reports", json={"brand_id": brand, "top": 100})
    finished(again.get_json()["id"])
    assert listing(manager, brand)["snapshot"]["stale"] is True
    page = rebuilt(app, built, manager, brand)
    assert page["snapshot"]["report_id"] == again.get_json()["id"]
    ranked = listing(manager, brand, sort="rank")["items"]
    assert [p["opportunity_rank"] for p in ranked] == sorted(p["opportunity_rank"] for p in expected.values()
                                                             if p["opportunity_rank"] is not None)
    some = next(iter(expected.values()))
    assert some["stakeholder_id"] in {p["stakeholder_id"] for p in listing(manager, brand, community=some["community"])["items"]}


def test_a_member_first_recorded_by_events_or_ideas_makes_the_snapshot_stale(crowd, app, built, client):
    """Events and ideas make a stakeholder record for a member the brand did not know yet: a new person
    of the brand, so the next listing says the snapshot is stale and a rebuild serves them."""
    from purpose.stakeholders import member_record

    manager, brand = crowd["manager"], crowd["brand"]
    newcomer = register(client, "newcomer")
    first = rebuilt(app, built, manager, brand)
    assert first["snapshot"]["stale"] is False
    with app.app_context():
        made = member_record(brand, newcomer.id, "events").id
        db.session.commit()
        assert member_record(brand, newcomer.id, "ideas").id == made  # known now: nothing new, no bump
        db.session.commit()
        db.session.remove()
    assert listing(manager, brand)["snapshot"]["stale"] is True
    fresh = rebuilt(app, built, manager, brand, kind="member")
    assert made in {p["stakeholder_id"] for p in fresh["items"]}



def test_a_profile_is_read_from_the_current_snapshot_and_computed_when_it_cannot_answer(crowd, app, built):
    manager, brand = crowd["manager"], crowd["brand"]
    people = by_external_id(rebuilt(app, built, manager, brand))
    snapshot = listing(manager, brand)["snapshot"]
    big = people["big"]["stakeholder_id"]

    def profile(sid, **query):
        response = manager.get(f"/api/v1/stakeholders/{sid}/profile", query_string=query)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    # From the snapshot: the profile the per-request path computes as of the snapshot's time.
    for ext in ("big", "mid", "p1", "ngo1"):
        read = profile(people[ext]["stakeholder_id"])
        computed = profile(people[ext]["stakeholder_id"], as_of=snapshot["as_of"])
        assert read["snapshot"]["id"] == snapshot["id"] and computed["snapshot"] is None
        assert read["stakeholder"] == computed["stakeholder"] and read["stakeholder"]["external_id"] == ext
        for field in ("segment", "pyramid", "style", "style_declared", "alignment"):
            assert read[field] == computed[field], (ext, field)
        assert read["rfm"] == pytest.approx(computed["rfm"])
        assert (read["clv"] is None) == (computed["clv"] is None)
    # An import makes the snapshot stale: the profile is computed now, with the new purchase.
    before = profile(big)["rfm"]["frequency"]
    assert upload(manager, brand, "touchpoints", jsonl([purchase("big-new", "big", 1, 50)]), "application/x-ndjson",
                  source="crm").get_json()["accepted"] == 1
    fresh = profile(big)
    assert fresh["snapshot"] is None and fresh["rfm"]["frequency"] == before + 1
    settled(app, built, brand)
    # Erased: gone at once, whichever path would answer.
    assert manager.delete(f"/api/v1/stakeholders/{big}").status_code == 204
    assert manager.get(f"/api/v1/stakeholders/{big}/profile").status_code == 404


def test_a_build_runs_without_the_garbage_collector_and_switches_it_back_on(crowd, app, built, monkeypatch):
    """At 100,000 people each full collection during a build stalled the web process for up to 0.6 s
    (bench/analyst_load.py --workload snapshot): the collector waits until the rows are stored."""
    import gc

    from purpose import snapshots

    seen = []
    store = snapshots._store
    monkeypatch.setattr(snapshots, "_store", lambda *args, **kwargs: seen.append(gc.isenabled()) or store(*args, **kwargs))
    listing(crowd["manager"], crowd["brand"], status=202)
    built(newest_build(app, crowd["brand"]))
    assert seen == [False] and gc.isenabled()
    assert listing(crowd["manager"], crowd["brand"])["snapshot"]["people"] == 6


def snapshot_row(app, snapshot_id) -> tuple:
    with app.app_context():
        row = db.session.get(PeopleSnapshot, snapshot_id)
        found = (row.status, row.error, row.people)
        db.session.remove()
    return found


def test_a_large_brand_is_built_in_a_process_of_its_own_with_the_same_rows(crowd, app, built, monkeypatch):
    """In embedded mode a brand of PEOPLE_SNAPSHOT_PROCESS_FROM people is built by a new interpreter
    (core/offload.py), so that the web process's sockets keep their pace; what it stores is what the
    web process would have (the per-request profiles), and the listing reads it as any other."""
    manager, brand = crowd["manager"], crowd["brand"]
    monkeypatch.setitem(app.config, "PEOPLE_SNAPSHOT_PROCESS_FROM", 6)  # this brand of six counts as large
    listing(manager, brand, status=202)
    build = newest_build(app, brand)
    built(build)
    assert snapshot_row(app, build) == (SnapshotStatus.ready, None, 6)
    people = by_external_id(listing(manager, brand))
    profiles = {p["stakeholder"]["external_id"]: p for p in
                manager.get(f"/api/v1/brands/{brand}/stakeholders").get_json()["items"]}
    assert set(people) == set(profiles)
    for ext, p in people.items():
        assert p["segment"] == profiles[ext]["segment"] and p["pyramid_level"] == profiles[ext]["pyramid"]["level"]
        assert p["style"] == profiles[ext]["style"] and p["monetary"] == profiles[ext]["rfm"]["monetary"]
        assert p["recency_days"] == pytest.approx(profiles[ext]["rfm"]["recency_days"], abs=0.01)


def test_a_build_whose_process_fails_says_so_and_the_next_request_builds_again(crowd, app, built, monkeypatch):
    """A process that ends without storing (here: settings it cannot start with) marks its snapshot
    failed at once, not at the end of its lease, so the next listing starts a new build."""
    manager, brand = crowd["manager"], crowd["brand"]
    monkeypatch.setitem(app.config, "PEOPLE_SNAPSHOT_PROCESS_FROM", 0)
    monkeypatch.setitem(app.config, "SMTP_URL", "mail.example.org")  # refused by any new process's load_config
    listing(manager, brand, status=202)
    broken = newest_build(app, brand)
    built(broken)
    assert snapshot_row(app, broken) == (SnapshotStatus.failed, "the build's process ended with status 1", 0)
    monkeypatch.setitem(app.config, "SMTP_URL", "")
    monkeypatch.setitem(app.config, "PEOPLE_SNAPSHOT_PROCESS_FROM", 10000)  # the next build on this process: quicker
    assert listing(manager, brand, status=202)["building"] is True
    again = newest_build(app, brand)
    assert again != broken
    built(again)
    assert listing(manager, brand)["snapshot"]["people"] == 6
