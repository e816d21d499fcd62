"""graph/reasons.py: evidence on a synthetic community, and erasure reaching the reasons that cite someone."""

from __future__ import annotations

import json

import pytest

from graph.reasons import heavy_sentence
from graph.reports import assemble_report, scrub_person
from graph.synthetic import generate_community


@pytest.fixture(scope="module")
def report():
    G, _truth = generate_community(1500, seed=4)
    return assemble_report(G, seed=1, top=60)


def test_every_reason_has_evidence_and_heavy_user_sentences_follow_from_their_fields(report):
    for entry in report["opportunities"]:
        assert [e["text"] for e in entry["evidence"]] == entry["reasons"]
        for evidence in entry["evidence"]:
            if evidence["type"] == "heavy_users":
                assert evidence["text"] == heavy_sentence(evidence)
                assert 0 < len(evidence["heavy_users"]) <= evidence["count"]
    json.dumps(report)  # plain JSON


def test_erasing_a_heavy_user_removes_them_from_every_reason_that_cited_them(report):
    cited = [p for o in report["opportunities"] for e in o["evidence"] for p in e.get("heavy_users", [])]
    assert cited
    person = cited[0]
    citing = [o for o in report["opportunities"] if any(p["node"] == person["node"] for e in o["evidence"]
                                                        for p in e.get("heavy_users", []))]
    account = int(person["node"][2:]) if person["node"].startswith("a:") else None
    scrubbed, changed = scrub_person(report, stakeholder_id=person["stakeholder_id"], account_id=account)
    assert changed
    for entry in scrubbed["opportunities"]:
        assert person["node"] not in json.dumps(entry["evidence"])
        assert not any(_says(person, text) for text in entry["reasons"])
        assert [e["text"] for e in entry["evidence"]] == entry["reasons"]
    before = {o["node"]: o for o in citing}
    for entry in scrubbed["opportunities"]:
        if entry["node"] in before:
            old = sum(e["count"] for e in before[entry["node"]]["evidence"] if e["type"] == "heavy_users")
            new = sum(e["count"] for e in entry["evidence"] if e["type"] == "heavy_users")
            assert new < old


def _says(person, text):
    return f"{person['name']};" in text or f"{person['name']} " in text or text.endswith(str(person["name"]))
