"""assemble_report, compare, erasure scrub and exports on graphs with known answers (no database)."""

from __future__ import annotations

import csv
import io
import json

import networkx as nx
import pytest

from graph import exports
from graph.reports import assemble_report, assemble_report_and_graph, compare_reports, scrub_person
from graph.synthetic import generate_community


@pytest.fixture(scope="module")
def community():
    G, truth = generate_community(3000, seed=11)
    for i, v in enumerate(sorted(G, key=str)):  # the loader's additions to the contract
        G.nodes[v]["stakeholder_id"] = i + 1
        G.nodes[v]["converted_at"] = "2026-10-01T00:00:00+00:00" if v.startswith("a:") and i % 50 == 0 else None
    G.graph.update(scope={"brand_id": 1, "purpose_id": None, "space_id": None, "since": "2026-09-01T00:00:00+00:00",
                          "as_of": "2026-11-22T00:00:00+00:00"}, snapshot_at="2026-11-22T00:00:00+00:00",
                   half_life_days=90.0, clv_status="fitted", customer_equity=123456.0)
    report, H = assemble_report_and_graph(G.copy(), seed=2, top=60)
    return G, truth, report, H


def test_planted_worth_engaging_people_lead_the_opportunities(community):
    _G, truth, report, _H = community
    planted = truth["planted_worth_engaging"]
    top = [o["node"] for o in report["opportunities"][:len(planted)]]
    precision = len(set(top) & planted) / len(top)
    assert precision >= 0.8, precision
    assert [o["rank"] for o in report["opportunities"]] == list(range(1, 61))


def test_objected_and_no_contact_people_appear_nowhere(community):
    _G, truth, report, H = community
    excluded = truth["objected"] | truth["style_none"]
    listed = {o["node"] for o in report["opportunities"]}
    assert not listed & excluded
    assert not truth["objected"] & ({b["node"] for b in report["brokers"]} | set(H) | {
        m["node"] for c in report["communities"] for m in c["key_members"]})
    assert report["graph"]["nodes"] == len(H) == sum(report["segments"].values())


def test_report_is_plain_json_with_every_section(community):
    G, _truth, report, _H = community
    assert json.loads(json.dumps(report)) == report  # plain JSON types only
    assert report["version"] == 1 and report["snapshot_at"] == G.graph["snapshot_at"]
    assert report["params"] == {"seed": 2, "top": 60, "max_pivots": 128, "half_life_days": 90.0}
    assert set(report["pyramid"]) == {"none", "utility", "convenience", "ease", "recognition", "self_expression", "co_creation"}
    assert report["communities"][0]["size"] >= report["communities"][-1]["size"]
    assert all(c["key_members"] and 0 <= c["reach_share"] <= 1 for c in report["communities"])
    assert report["brokers"] == sorted(report["brokers"], key=lambda b: -b["betweenness"])
    conv = report["conversion"]
    assert conv["converted_members"] > 0 and conv["nonusers"] == report["graph"]["nonusers"]
    assert conv["rate"] == pytest.approx(conv["converted_members"] / (conv["converted_members"] + conv["nonusers"]))
    assert report["customer_equity"]["total"] == 123456.0 and report["customer_equity"]["clv_status"] == "fitted"
    assert any("Betweenness estimated from 128" in n for n in report["notes"])
    assert any("Louvain" in n for n in report["notes"])


def test_the_same_seed_gives_the_same_report(community):
    G, _truth, report, _H = community
    assert assemble_report(G.copy(), seed=2, top=60) == report


def test_a_graph_without_ties_still_gets_a_report():
    G = nx.Graph()
    G.add_nodes_from([("a:1", {"kind": "member", "segment": "light"}), ("s:2", {"kind": "nonuser", "segment": "nonuser"})])
    report = assemble_report(G)
    assert report["graph"]["nodes"] == 2 and report["graph"]["communities"] == 2 and report["brokers"] == []
    assert assemble_report(nx.Graph())["graph"]["nodes"] == 0


def test_progress_goes_through_the_stages_in_order(community):
    G, *_ = community
    seen = []
    assemble_report(G.copy(), seed=2, top=5, progress=lambda stage, percent: seen.append((stage, percent)))
    assert [s for s, _ in seen] == ["metrics", "opportunities", "assemble"]
    assert [p for _, p in seen] == sorted(p for _, p in seen)


def test_compare_finds_who_moved_up_dropped_out_and_converted(community):
    G, _truth, older, _H = community
    newer_graph = G.copy()
    riser = older["opportunities"][30]["node"]
    for u in [v for v in newer_graph if newer_graph.nodes[v].get("segment") == "heavy"][:40]:
        newer_graph.add_edge(riser, u, weight=5.0, kinds={"reply": 5})
    nonuser = next(o for o in older["opportunities"] if o["kind"] == "nonuser")
    attrs = dict(newer_graph.nodes[nonuser["node"]], kind="member", segment="light", converted_at="2026-11-20T00:00:00+00:00")
    ties = list(newer_graph.edges(nonuser["node"], data=True))
    newer_graph.remove_node(nonuser["node"])
    newer_graph.add_node("a:999999", **attrs)
    newer_graph.add_edges_from(("a:999999", v, d) for _, v, d in ties)
    newer, H_new = assemble_report_and_graph(newer_graph, seed=2, top=60)
    people = lambda g: {v: (a.get("kind"), a.get("stakeholder_id")) for v, a in g.nodes(data=True)}  # noqa: E731
    diff = compare_reports(older, newer, older_people=people(G), newer_people=people(H_new))
    up = {c["node"]: c for c in diff["moved_up"]}
    assert riser in up and up[riser]["new_rank"] < up[riser]["old_rank"] == 31
    assert {"stakeholder_id": nonuser["stakeholder_id"], "old_node": nonuser["node"], "new_node": "a:999999"} in diff["converted"]
    matched = [c for c in diff["moved_up"] + diff["moved_down"] if c["stakeholder_id"] == nonuser["stakeholder_id"]]
    assert all(c["old_node"] == nonuser["node"] and c["node"] == "a:999999" for c in matched)
    assert len(diff["dropped_out"]) == len(diff["new_entries"])  # the list keeps its length


def test_scrub_removes_a_person_everywhere_and_renumbers(community):
    _G, _truth, report, _H = community
    person = report["opportunities"][2]
    scrubbed, changed = scrub_person(report, stakeholder_id=person["stakeholder_id"], account_id=None)
    assert changed and person["node"] not in json.dumps(scrubbed)
    assert [o["rank"] for o in scrubbed["opportunities"]] == list(range(1, 60))
    key_member = report["communities"][0]["key_members"][0]
    account = int(key_member["node"][2:]) if key_member["node"].startswith("a:") else None
    scrubbed, changed = scrub_person(report, stakeholder_id=None if account else key_member["stakeholder_id"], account_id=account)
    assert changed and key_member["node"] not in {m["node"] for m in scrubbed["communities"][0]["key_members"]}
    assert scrub_person(report, stakeholder_id=10**9, account_id=None) == (report, False)


def test_exports_parse_back(community):
    _G, _truth, report, H = community
    rows = list(csv.DictReader(io.StringIO(exports.opportunities_csv(report))))
    assert list(rows[0]) == ["rank", "key", "label", "external_id", "kind", "segment", "score", "reasons",
                             "suggested_action"]
    assert [r["key"] for r in rows] == [o["node"] for o in report["opportunities"]]
    assert rows[0]["reasons"] == "; ".join(report["opportunities"][0]["reasons"])
    for read, written in ((nx.read_graphml, exports.graph_graphml(H.copy())), (nx.read_gexf, exports.graph_gexf(H.copy()))):
        back = read(written)  # the exports make a graph's attributes scalar in place: each gets a copy
        assert (len(back), back.number_of_edges()) == (len(H), H.number_of_edges())
        v = report["opportunities"][0]["node"]
        assert back.nodes[v]["opportunity_rank"] == 1 and json.loads(back.nodes[v]["spaces"]) == H.nodes[v]["spaces"]
        assert back.nodes[v]["community"] == report["opportunities"][0]["community"]
    assert json.loads(exports.report_json(report)) == report
    stored = exports.unpack_graph(exports.pack_graph(H))
    assert nx.utils.graphs_equal(stored, H)


def test_gexf_reads_back_as_the_graph_it_was_written_from(community):
    """Every node, edge and attribute value comes back from ``nx.read_gexf`` as the export's scalar form."""
    _G, _truth, _report, H = community
    G = H.copy()
    v, w = list(G)[:2]
    G.nodes[v].update(label='Ana <"&"> Ölz', clv=0, flag=True)  # markup, non-ASCII; CLV 0 (an int) before floats
    G.nodes[w].update(clv=12.5, flag=False, nothing=None)
    expected = exports.make_scalar(G.copy())
    back = nx.read_gexf(exports.graph_gexf(G))
    assert type(back) is nx.Graph and set(back) == set(expected) and back.number_of_edges() == expected.number_of_edges()
    for node, attributes in expected.nodes(data=True):
        assert back.nodes[node] == {"label": str(node), **attributes}, node
    assert back.nodes[v]["clv"] == 0.0 and back.nodes[w]["clv"] == 12.5 and back.nodes[w]["flag"] is False
    assert back.nodes[v]["label"] == 'Ana <"&"> Ölz' and "nothing" not in back.nodes[w]
    for a, b, attributes in expected.edges(data=True):
        got = dict(back.edges[a, b])
        assert got.pop("id").isdigit() and got == attributes, (a, b)


def test_gexf_is_written_in_memory_bounded_by_an_element_not_the_graph(community):
    """What the writer allocates beyond the graph stays under 1 MB for a file several times that size
    (networkx's writer holds the whole document as elements: many times the file)."""
    import tempfile
    import tracemalloc

    _G, _truth, _report, H = community
    G = exports.make_scalar(H.copy())
    with tempfile.TemporaryFile() as out:
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            exports.write_gexf(G, out)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        size = out.tell()
    assert size > 3 * 2**20 and peak < 2**20, (size, peak)


def test_png_draws_a_stated_subset_of_big_graphs(community):
    _G, _truth, report, H = community
    nodes, caption = exports.drawn_subset(H, report, max_nodes=300)
    assert len(nodes) == 300 and {o["node"] for o in report["opportunities"]} <= set(nodes)
    assert caption.startswith(f"300 of {len(H)} people")
    png = exports.graph_png(H, report, max_nodes=300)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and 20_000 < len(png) < 2_000_000


def test_csv_cells_cannot_run_as_spreadsheet_formulas():
    report = {"opportunities": [{"rank": 1, "node": "a:1", "label": "=HYPERLINK(\"x\")", "kind": "member",
                                 "segment": "light", "score": 0.5, "reasons": ["-1 point"], "suggested_action": "+call"}]}
    row = next(csv.DictReader(io.StringIO(exports.opportunities_csv(report))))
    assert row["label"].startswith("'=") and row["reasons"].startswith("'-") and row["suggested_action"] == "'+call"
