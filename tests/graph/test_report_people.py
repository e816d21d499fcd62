"""A report's people table through the REST API: everyone listed with filters, sorts and pages,
one community in detail, the streamed CSV, and who may read them."""

from __future__ import annotations

import csv
import io

from tests.graph.test_reports_api import run, talk  # noqa: F401  (the fixture)


def everyone(actor, report_id, **query):
    """Every page of the people listing with ``query``, following the cursors."""
    items, cursor = [], None
    while True:
        params = {**query, "limit": 3, **({"cursor": cursor} if cursor else {})}
        response = actor.get(f"/api/v1/reports/{report_id}/people", query_string=params)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        assert len(page["items"]) <= 3
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def with_nonusers(talk):
    """Nonusers imported by the manager, one with a display name a spreadsheet would run as a formula."""
    body = (b"external_id,kind,email,display_name\n"
            b"n1,prospect,n1@example.com,=HYPERLINK(\"http://x\")\n"
            b"n2,prospect,n2@example.com,Nadia Ocean\n")
    imported = talk["manager"].post(f"/api/v1/brands/{talk['brand']}/imports/stakeholders?source=crm",
                                    content_type="text/csv", data=body)
    assert imported.get_json()["accepted"] == 2, imported.get_json()
    return talk


def test_everyone_of_a_report_is_listed_sorted_filtered_and_paged(talk, finished):
    analyst = with_nonusers(talk)["analyst"]
    report = run(analyst, finished, brand_id=talk["brand"], top=2)
    result = analyst.get(f"/api/v1/reports/{report['id']}/result").get_json()

    people = everyone(analyst, report["id"])
    assert len(people) == result["graph"]["nodes"] > len(result["opportunities"])
    assert len({p["node"] for p in people}) == len(people)
    assert [p["pagerank"] for p in people] == sorted((p["pagerank"] for p in people), reverse=True)
    assert {p["kind"] for p in people} == {"member", "nonuser"}

    ranked = everyone(analyst, report["id"], sort="rank")
    assert [p["opportunity_rank"] for p in ranked] == list(range(1, len(ranked) + 1))
    assert len(ranked) > len(result["opportunities"])  # the report lists the top 2; the table ranks every candidate
    assert [p["node"] for p in ranked[:2]] == [o["node"] for o in result["opportunities"]]
    assert [p["opportunity_score"] for p in ranked[:2]] == [o["score"] for o in result["opportunities"]]
    assert [p["opportunity_score"] for p in ranked] == sorted((p["opportunity_score"] for p in ranked), reverse=True)
    assert [p["node"] for p in everyone(analyst, report["id"], sort="score")] == [p["node"] for p in ranked]

    assert {p["kind"] for p in everyone(analyst, report["id"], kind="nonuser")} == {"nonuser"}
    lights = everyone(analyst, report["id"], segment="light")
    assert lights and {p["segment"] for p in lights} == {"light"}
    assert len(lights) == result["segments"]["light"]
    assert [p["opportunity_rank"] for p in everyone(analyst, report["id"], sort="rank", rank_min=2, rank_max=3)] == [2, 3]
    found = everyone(analyst, report["id"], q="nadia")
    assert [(p["name"], p["external_id"]) for p in found] == [("Nadia Ocean", "n2")]
    assert [p["name"] for p in everyone(analyst, report["id"], q="n2")] == ["Nadia Ocean"]
    assert everyone(analyst, report["id"], q="100%") == []  # % is a character here, not a wildcard


def test_a_community_in_detail_and_the_whole_table_as_csv(talk, finished):
    analyst = with_nonusers(talk)["analyst"]
    report = run(analyst, finished, brand_id=talk["brand"])
    result = analyst.get(f"/api/v1/reports/{report['id']}/result").get_json()
    listed = result["communities"][0]
    community = analyst.get(f"/api/v1/reports/{report['id']}/communities/{listed['index']}")
    assert community.status_code == 200, community.get_json()
    community = community.get_json()
    assert community["size"] == listed["size"] == sum(community["kinds"].values())
    assert community["segments"] == {s: n for s, n in listed["segments"].items()}
    members = everyone(analyst, report["id"], community=listed["index"])
    assert len(members) == community["size"] and {p["community"] for p in members} == {listed["index"]}
    assert [p["node"] for p in community["key_members"]] == [p["node"] for p in members][:len(community["key_members"])]
    assert community["customer_equity"] == sum(p["clv"] for p in members)
    assert analyst.get(f"/api/v1/reports/{report['id']}/communities/9999").status_code == 404

    response = analyst.get(f"/api/v1/reports/{report['id']}/people.csv")
    assert response.status_code == 200 and response.content_type.startswith("text/csv")
    assert response.headers["Content-Disposition"] == f'attachment; filename="report-{report["id"]}-people.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["node"] for r in rows} == {p["node"] for p in everyone(analyst, report["id"])}
    formula = next(r for r in rows if r["external_id"] == "n1")
    assert formula["name"].startswith("'=") and formula["kind"] == "nonuser"


def test_bad_queries_are_refused_and_outsiders_see_nothing(talk, finished):
    analyst = talk["analyst"]
    report = run(analyst, finished, brand_id=talk["brand"])
    base = f"/api/v1/reports/{report['id']}"
    backwards = analyst.get(f"{base}/people", query_string={"sort": "rank", "rank_min": 5, "rank_max": 2})
    assert backwards.status_code == 422 and "rank_min" in backwards.get_json()["errors"]  # not an empty page
    assert analyst.get(f"{base}/people", query_string={"style_preference": "romance"}).status_code == 422
    for query, field in ((dict(rank_min=0), "rank_min"), (dict(sort="age"), "sort"),
                         (dict(segment="vip"), "segment"), (dict(q="x" * 121), "q"), (dict(colour="red"), "colour")):
        response = analyst.get(f"{base}/people", query_string=query)
        assert response.status_code == 422 and field in response.get_json()["errors"], (query, response.get_json())
    first = analyst.get(f"{base}/people", query_string={"limit": 1}).get_json()
    assert first["next_cursor"]
    replayed = analyst.get(f"{base}/people", query_string={"limit": 1, "kind": "member", "cursor": first["next_cursor"]})
    assert replayed.status_code == 422 and "cursor" in replayed.get_json()["errors"]
    for outsider in (talk["member"], talk["outsider"]):
        for path in ("/people", "/people.csv", "/communities/0"):
            assert outsider.get(base + path).status_code == 404, (outsider.handle, path)
    assert analyst.get("/api/v1/reports/999999/people").status_code == 404


def parquet_rows(response) -> list[dict]:
    import pyarrow.parquet as pq

    assert response.status_code == 200 and response.content_type == "application/vnd.apache.parquet", response.status
    return pq.read_table(io.BytesIO(response.data)).to_pylist()


def test_the_whole_table_as_parquet_is_the_listing(talk, finished):
    analyst = with_nonusers(talk)["analyst"]
    report = run(analyst, finished, brand_id=talk["brand"])
    response = analyst.get(f"/api/v1/reports/{report['id']}/people.parquet")
    rows = parquet_rows(response)
    assert response.headers["Content-Disposition"] == f'attachment; filename="report-{report["id"]}-people.parquet"'
    listed = {p["node"]: p for p in everyone(analyst, report["id"])}
    assert len(rows) == len(listed) and {r["node"]: r for r in rows} == listed  # same columns, same values
    assert list(rows[0]) == list(next(iter(listed.values())))
    named = next(r for r in rows if r["external_id"] == "n1")
    assert named["name"] == '=HYPERLINK("http://x")'  # typed cells: nothing for a spreadsheet to run
    # An erased person is gone from the file at once, as from the listing.
    n2 = next(r for r in rows if r["external_id"] == "n2")
    assert talk["manager"].delete(f"/api/v1/stakeholders/{n2['stakeholder_id']}").status_code == 204
    after = parquet_rows(analyst.get(f"/api/v1/reports/{report['id']}/people.parquet"))
    assert len(after) == len(rows) - 1 and n2["node"] not in {r["node"] for r in after}
    for outsider in (talk["member"], talk["outsider"]):  # as for every report path: not revealed
        assert outsider.get(f"/api/v1/reports/{report['id']}/people.parquet").status_code == 404
