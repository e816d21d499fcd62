"""Analysts in a real browser (issue 22): a brand's people from its snapshot, filtered, sorted and paged;
the pyramid as a funnel and the segments as charts, with the numbers the API gives; a report's people
and its communities' pages; and the trend between two reports of the same scope, pyramids included."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from tests.e2e.conftest import require_endpoints

NOW = datetime.now(timezone.utc)


def _at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


def _import(community, what: str, rows: list[str], **query) -> None:
    """POST a CSV (header first) to the brand's import endpoint as the admin; every row must be accepted."""
    server = community["server"]
    response = server.http.post(f"{server.url}/api/v1/brands/{community['brand']}/imports/{what}", params=query,
                                data="\n".join(rows).encode(), timeout=30,
                                headers={"Authorization": f"Bearer {community['boss']['token']}", "Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == 0, response.json()


def shoppers(community) -> None:
    """30 customers with purchases of every rhythm (often and much, now and then, once, long ago) and
    8 invited prospects without any, who met some of them at two events: several segments, pyramid
    levels and opportunities."""
    people = ["external_id,kind,display_name,contact_preference"]
    touch = ["external_id,stakeholder_external_id,kind,occurred_at,amount,currency,other_stakeholder_external_id,event_ref"]
    for i in range(1, 31):
        people.append(f"c{i:02},customer,Shopper {i:02},{('friendship', 'marriage', 'fling', '')[i % 4]}")
        lapsed = i % 7 == 0
        purchases = 1 if lapsed else 1 + (i * 7) % 9  # 1..9 purchases
        for n in range(purchases):
            days = 400 + 30 * n if lapsed else 5 + (i % 5) * 20 + 25 * n
            touch.append(f"t{i:02}-{n},c{i:02},purchase,{_at(days)},{10 + (i * 13) % 90 + 5 * n},EUR,,")
        if i % 3 == 0:
            touch.append(f"e{i:02},c{i:02},event,{_at(30)},,,,spring-fair")
    for j in range(1, 9):
        people.append(f"p{j:02},invited,Prospect {j:02},friendship")
        touch.append(f"r{j:02},c{j * 3:02},referral,{_at(20 + j)},,,p{j:02},")
        touch.append(f"pe{j:02},p{j:02},event,{_at(30)},,,,spring-fair")
    _import(community, "stakeholders", people, source="shop")
    _import(community, "touchpoints", touch, source="shop", stakeholder_source="shop")


def _numbers(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _analyst_of_shoppers(open_as, community):
    """Ada, made the brand's analyst, signed in; the brand has its shoppers. Returns (call, brand, page)."""
    call, brand = community["call"], community["brand"]
    call("PUT", f"/brands/{brand}/analysts/{community['ada']['id']}")
    shoppers(community)
    return call, brand, open_as("ada")


def _request_report(page) -> int:
    """Request a report of the whole brand through the Analytics page; wait until it is done. Returns its id."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    page.get_by_label("Brand").select_option(label="Tidewater")
    page.get_by_label("Scope").select_option(label="The whole brand")
    page.get_by_role("button", name="Request report").click()
    expect(page.get_by_role("heading", name="People worth engaging")).to_be_visible(timeout=60_000)
    return int(re.search(r"/analytics/reports/(\d+)", page.url).group(1))


def _expect_rows(rows, values: list, attribute: str = "data-stakeholder") -> None:
    """The table shows exactly these rows, in this order (each check waits, so a page still loading is waited for)."""
    expect(rows).to_have_count(len(values))
    for i, value in enumerate(values):
        expect(rows.nth(i)).to_have_attribute(attribute, str(value))


def test_analyst_filters_sorts_and_pages_people_with_charts(open_as, community, shot):
    require_endpoints(community["server"], "/brands/{brand_id}/people", "/brands/{brand_id}/people/segments")
    call, brand, ada = _analyst_of_shoppers(open_as, community)
    ada.get_by_role("link", name="Analytics").click()
    ada.get_by_label("Brand").select_option(label="Tidewater")
    ada.get_by_role("link", name="People, segments and the pyramid of this brand").click()
    expect(ada.get_by_role("heading", name="People", level=2)).to_be_visible()
    # No snapshot existed: the view says it is being built, asks again, and shows it once ready.
    status = ada.locator(".snapshot-status")
    expect(status).to_contain_text("people, as of", timeout=60_000)
    summary = call("GET", f"/brands/{brand}/people/segments")
    assert summary["snapshot"] and {s["segment"] for s in summary["segments"]} >= {"heavy", "light", "lapsed", "nonuser"}
    expect(status).to_contain_text(f"{summary['people']} people, as of")

    # The funnel: per level, the people who reached at least it, and those at exactly it.
    funnel = ada.get_by_role("img", name=re.compile("^Relationship pyramid"))
    expect(funnel).to_be_visible()
    label = funnel.get_attribute("aria-label")
    climbed = [level for level in summary["pyramid"] if level["level"] > 0]
    for level in climbed:
        reached = sum(other["count"] for other in climbed if other["level"] >= level["level"])
        name = level["name"].replace("_", "-")
        assert f"{name} {reached} reached, {level['count']} at this level" in label, (label, level)
    none = next(level["count"] for level in summary["pyramid"] if level["level"] == 0)
    assert label.endswith(f"no level yet {none}")

    # Segments: counts, and revenue (with customer equity when the CLV model was fitted).
    segments = ada.get_by_role("img", name=re.compile("^People by segment"))
    expect(segments).to_be_visible()
    label = segments.get_attribute("aria-label")
    for seg in summary["segments"]:
        assert f"{seg['segment']} {seg['count']}" in label, (label, seg)
    money = ada.get_by_role("img", name=re.compile("^Revenue"))
    label = _numbers(money.get_attribute("aria-label"))
    for seg in summary["segments"]:
        assert f"{seg['segment']} " in label and f"{seg['revenue']:,.2f}" in label, (label, seg)
        if summary["customer_equity"] is not None:
            assert f"customer equity {seg['customer_equity']:,.2f}" in label, (label, seg)
    shot(ada, "people-charts")

    # Page through everyone (25 a page, by stakeholder id) with Next and back with Previous.
    first = call("GET", f"/brands/{brand}/people", params={"limit": 25})
    second = call("GET", f"/brands/{brand}/people", params={"limit": 25, "cursor": first["next_cursor"]})
    rows = ada.locator("table.people tbody tr")
    expect(rows).to_have_count(len(first["items"]))
    ids = lambda page: [str(p["stakeholder_id"]) for p in page["items"]]  # noqa: E731
    assert [rows.nth(i).get_attribute("data-stakeholder") for i in range(rows.count())] == ids(first)
    ada.get_by_role("button", name="Next").click()
    expect(rows).to_have_count(len(second["items"]))
    expect(rows.first).to_have_attribute("data-stakeholder", ids(second)[0])
    assert [rows.nth(i).get_attribute("data-stakeholder") for i in range(rows.count())] == ids(second)
    expect(ada.get_by_text("Page 2: people 26")).to_be_visible()
    ada.get_by_role("button", name="Previous").click()
    expect(rows.first).to_have_attribute("data-stakeholder", ids(first)[0])
    expect(ada.get_by_role("img", name=re.compile("^Recency and frequency of the people on this page"))).to_be_visible()

    # Filter by a segment: only its rows, as many as the summary counts.
    heavy = next(s for s in summary["segments"] if s["segment"] == "heavy")
    ada.get_by_label("Segment", exact=True).select_option("heavy")
    ada.get_by_role("button", name="Apply").click()
    expect(ada.locator("table.people tbody td.segment")).to_have_text(["heavy"] * heavy["count"])
    assert "segment=heavy" in ada.url
    shot(ada, "people-heavy")

    # Sort: the most recent buyers first, as the API orders them; with a name search.
    ada.get_by_label("Segment", exact=True).select_option("")
    ada.get_by_label("Sort", exact=True).select_option("recency")
    ada.get_by_label("Name or external id").fill("Shopper")
    ada.get_by_role("button", name="Apply").click()
    by_recency = call("GET", f"/brands/{brand}/people", params={"limit": 25, "sort": "recency", "q": "Shopper"})
    expect(rows.first).to_have_attribute("data-stakeholder", ids(by_recency)[0])
    assert [rows.nth(i).get_attribute("data-stakeholder") for i in range(rows.count())] == ids(by_recency)
    expect(ada.get_by_role("button", name="Next")).to_be_enabled()

    # A kind filter and an external id: one person.
    ada.get_by_role("button", name="Clear").click()
    ada.get_by_label("Kind", exact=True).select_option("nonuser")
    ada.get_by_label("Name or external id").fill("p03")
    ada.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Prospect 03")
    expect(rows.first).to_contain_text("not a member")
    shot(ada, "people-search")


def test_analyst_sees_the_trend_between_two_reports(open_as, community, shot):
    require_endpoints(community["server"], "/reports", "/reports/{report_id}/compare/{other_id}")
    call, brand, ada = _analyst_of_shoppers(open_as, community)
    older = _request_report(ada)
    expect(ada.get_by_text("No other finished report of this scope to compare with yet.")).to_be_visible()
    # Between the two: four prospects buy, and six new prospects are invited to the fair.
    _import(community, "stakeholders", ["external_id,kind,display_name"] + [f"n{k},invited,Newcomer {k}" for k in range(1, 7)],
            source="shop")
    _import(community, "touchpoints", ["external_id,stakeholder_external_id,kind,occurred_at,amount,currency,event_ref"]
            + [f"b{j},p0{j},purchase,{_at(1)},40,EUR," for j in range(1, 5)]
            + [f"ne{k},n{k},event,{_at(2)},,,spring-fair" for k in range(1, 7)], source="shop", stakeholder_source="shop")
    newer = _request_report(ada)
    assert newer != older

    expect(ada.get_by_role("heading", name="The graph")).to_be_visible()
    # The picture is rendered by the server on request: seconds on a busy machine (four test workers).
    expect(ada.get_by_role("img", name="The community graph", exact=False)).to_be_visible(timeout=60_000)
    expect(ada.get_by_label("Compare with")).to_have_value(str(older))
    change = call("GET", f"/reports/{newer}/compare/{older}")
    assert (change["older_id"], change["newer_id"]) == (older, newer)
    results = {r: call("GET", f"/reports/{r}/result") for r in (older, newer)}
    before, after = (results[r]["segments"] for r in (older, newer))
    assert before != after

    chart = ada.get_by_role("img", name=re.compile(f"^People by segment, report {older} then report {newer}"))
    expect(chart).to_be_visible()
    label = chart.get_attribute("aria-label")
    for segment in set(before) | set(after):
        assert (f"{segment} report {older} (older) {before.get(segment, 0)}, "
                f"report {newer} (newer) {after.get(segment, 0)}") in label, (label, segment)
    table = ada.get_by_role("table", name="What changed")
    for key in ("moved_up", "moved_down", "new_entries", "dropped_out", "converted"):
        expect(table.locator(f"tr[data-change={key}] td")).to_have_text(str(len(change[key])))
    assert change["new_entries"] or change["moved_up"] or change["moved_down"] or change["dropped_out"]

    # Each report's pyramid (its stored counts per level), side by side.
    for report, age in ((older, "older"), (newer, "newer")):
        funnel = ada.get_by_role("img", name=re.compile(rf"^Relationship pyramid, report {report} \({age}\)"))
        expect(funnel).to_be_visible()
        label, pyramid = funnel.get_attribute("aria-label"), results[report]["pyramid"]
        for name, count in pyramid.items():
            if name != "none":
                assert f"{name.replace('_', '-')} " in label and f"{count} at this level" in label, (label, name)
        assert label.endswith(f"no level yet {pyramid['none']}"), label
    assert results[older]["pyramid"] != results[newer]["pyramid"]
    shot(ada, "trend")


def test_analyst_narrows_people_by_purpose_community_and_rank(open_as, community, shot):
    server = community["server"]
    require_endpoints(server, "/brands/{brand_id}/people", "/reports/{report_id}/result")
    call, brand, ada = _analyst_of_shoppers(open_as, community)
    # Eight shoppers also came to a beach day of the Oceans purpose: that purpose's people.
    _import(community, "touchpoints", ["external_id,stakeholder_external_id,kind,occurred_at,event_ref,purpose"]
            + [f"o{i:02},c{i:02},event,{_at(10)},beach-day,Oceans" for i in range(1, 9)], source="shop", stakeholder_source="shop")
    report = _request_report(ada)  # before the first snapshot, so the snapshot carries its communities and ranks
    ada.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    ada.get_by_role("link", name="People, segments and the pyramid of this brand").click()
    expect(ada.locator(".snapshot-status")).to_contain_text(f"report {report}", timeout=60_000)
    rows = ada.locator("table.people tbody tr")
    listed = lambda **query: call("GET", f"/brands/{brand}/people", params={"limit": 25, **query})["items"]  # noqa: E731
    everyone = call("GET", f"/brands/{brand}/people/segments")["people"]

    # A purpose: its own snapshot, only the people who have something to do with it.
    ada.get_by_label("Purpose", exact=True).select_option(label="Oceans")
    ada.get_by_role("button", name="Apply").click()
    expect(ada.get_by_role("heading", name="The purpose Oceans")).to_be_visible(timeout=60_000)
    oceans = next(p["id"] for p in call("GET", f"/brands/{brand}/purposes")["items"] if p["title"] == "Oceans")
    of_oceans = listed(purpose_id=oceans)
    assert sorted(p["external_id"] for p in of_oceans) == [f"c{i:02}" for i in range(1, 9)]
    _expect_rows(rows, [p["stakeholder_id"] for p in of_oceans])
    assert f"purpose_id={oceans}" in ada.url
    shot(ada, "people-purpose")

    # A community of the report: its people only.
    communities = call("GET", f"/reports/{report}/result")["communities"]
    index = next(c["index"] for c in communities if 1 < c["size"] < everyone)
    ada.get_by_role("button", name="Clear").click()
    expect(ada.get_by_role("heading", name="The whole brand")).to_be_visible()
    ada.get_by_label("Community", exact=True).fill(str(index))
    ada.get_by_role("button", name="Apply").click()
    of_community = listed(community=index)
    assert of_community and {p["community"] for p in of_community} == {index}
    _expect_rows(rows, [p["stakeholder_id"] for p in of_community])

    # A range of opportunity ranks, best first.
    ada.get_by_role("button", name="Clear").click()
    ada.get_by_label("Opportunity rank from").fill("2")
    ada.get_by_label("Opportunity rank to").fill("5")
    ada.get_by_label("Sort", exact=True).select_option("rank")
    ada.get_by_role("button", name="Apply").click()
    ranked = listed(rank_min=2, rank_max=5, sort="rank")
    assert ranked and all(2 <= p["opportunity_rank"] <= 5 for p in ranked) and len(ranked) < everyone
    _expect_rows(rows, [p["stakeholder_id"] for p in ranked])

    # A value the API refuses: its 422 message, no rows; fixing it brings them back.
    refused = server.api("GET", f"/brands/{brand}/people", community["ada"]["token"], params={"rank_max": 3_000_000_000})
    assert refused.status_code == 422, refused.text
    ada.get_by_label("Opportunity rank to").fill("3000000000")
    ada.get_by_role("button", name="Apply").click()
    alert = ada.get_by_role("alert").filter(has_text=refused.json()["detail"])
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("rank_max")
    expect(rows).to_have_count(0)
    ada.get_by_label("Opportunity rank to").fill("5")
    ada.get_by_role("button", name="Apply").click()
    _expect_rows(rows, [p["stakeholder_id"] for p in ranked])
    expect(alert).to_be_hidden()
    shot(ada, "people-ranks")


def test_analyst_pages_a_reports_people_and_opens_a_community(open_as, community, shot):
    require_endpoints(community["server"], "/reports/{report_id}/people", "/reports/{report_id}/communities/{index}")
    call, brand, ada = _analyst_of_shoppers(open_as, community)
    report = _request_report(ada)
    people = lambda **query: call("GET", f"/reports/{report}/people", params={"limit": 25, **query})  # noqa: E731
    nodes = lambda page: [p["node"] for p in page["items"]]  # noqa: E731

    # Everyone the report analysed, 25 a page by influence, as the API pages them.
    section = ada.get_by_role("region", name="Everyone in this report")
    rows = section.locator("tbody tr")
    first = people()
    assert first["next_cursor"], "more than one page of people"
    second = people(cursor=first["next_cursor"])
    _expect_rows(rows, nodes(first), "data-node")
    section.get_by_role("button", name="Next").click()
    _expect_rows(rows, nodes(second), "data-node")
    expect(section.get_by_text("Page 2: people 26")).to_be_visible()
    section.get_by_role("button", name="Previous").click()
    _expect_rows(rows, nodes(first), "data-node")

    # Filtered and sorted by the API: the nonusers, best opportunity first.
    section.get_by_label("Kind", exact=True).select_option("nonuser")
    section.get_by_label("Sort", exact=True).select_option("rank")
    section.get_by_role("button", name="Apply").click()
    ranked = people(kind="nonuser", sort="rank")
    assert ranked["items"] and {p["kind"] for p in ranked["items"]} == {"nonuser"}
    _expect_rows(rows, nodes(ranked), "data-node")
    shot(ada, "report-people")

    # A community, from the report's list of communities: its numbers, key people and everyone in it.
    listed = call("GET", f"/reports/{report}/result")["communities"]
    index = listed[0]["index"]
    ada.get_by_role("table", name="Communities").get_by_role("link", name=f"Community {index}", exact=True).click()
    expect(ada.get_by_role("heading", name=f"Community {index} of report {report}", level=2)).to_be_visible()
    detail = call("GET", f"/reports/{report}/communities/{index}")
    expect(ada.locator(".community-summary")).to_contain_text(f"{detail['size']} people")
    segments = ada.get_by_role("img", name=re.compile("^People of this community by segment"))
    expect(segments).to_be_visible()
    for name, count in detail["segments"].items():
        assert f"{name} {count}" in segments.get_attribute("aria-label"), (name, count)
    _expect_rows(ada.get_by_role("table", name="Key members").locator("tbody tr"), [p["node"] for p in detail["key_members"]], "data-node")
    members = ada.get_by_role("region", name="Everyone in this community").locator("tbody tr")
    in_it = people(community=index)
    assert {p["community"] for p in in_it["items"]} == {index}
    assert len(in_it["items"]) == min(25, detail["size"])
    _expect_rows(members, nodes(in_it), "data-node")
    shot(ada, "community")
