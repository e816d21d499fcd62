"""Reasons name their evidence through the real path: a community written to the database, a report
requested through the API, its result read back, and each cited fact checked against the stored rows."""

from __future__ import annotations


import pytest
from sqlalchemy import select

from core.accounts import Account
from core.extensions import db
from devtools.seed import seed_synthetic
from purpose.models import Stakeholder, Touchpoint



@pytest.fixture
def report(app, admin, finished):
    with app.app_context():
        brand_id = seed_synthetic(400, seed=13).brand_id
    response = admin.post("/api/v1/reports", json={"brand_id": brand_id, "seed": 1, "top": 100})
    assert response.status_code == 202, response.get_json()
    finished(response.get_json()["id"])
    result = admin.get(f"/api/v1/reports/{response.get_json()['id']}/result")
    assert result.status_code == 200, result.get_json()
    return result.get_json()


def attendees(app, ref: str) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(select(Touchpoint.stakeholder_id).where(Touchpoint.event_ref == ref)))


def test_a_reason_names_the_event_and_the_heavy_user_it_cites_and_both_check_out(app, admin, report):
    cited = [(o, e) for o in report["opportunities"] for e in o["evidence"]
             if e["type"] == "heavy_users" and e["edge_kind"] == "co_event"]
    assert cited, "no opportunity came to an event with a heavy user"
    for opportunity, evidence in cited:
        assert evidence["text"] in opportunity["reasons"]
        assert evidence["count"] == len(evidence["heavy_users"]) or evidence["count"] > len(evidence["heavy_users"])
        for heavy in evidence["heavy_users"]:
            assert heavy["events"] and set(heavy["events"]) <= set(evidence["events"])
            for ref in heavy["events"]:  # both were at the event the reason names
                assert ref in evidence["text"] or len(evidence["heavy_users"]) > 3
                assert {opportunity["stakeholder_id"], heavy["stakeholder_id"]} <= attendees(app, ref)
    opportunity, evidence = cited[0]
    heavy = evidence["heavy_users"][0]
    with app.app_context():  # the name in the sentence is the person's own
        if heavy["kind"] == "member":
            account = db.session.get(Account, heavy["account_id"])
            assert (heavy["name"], heavy["handle"]) == (account.display_name, account.handle)
            assert f"{account.display_name} (@{account.handle}) at {heavy['events'][0]}" in evidence["text"]
        else:
            row = db.session.get(Stakeholder, heavy["stakeholder_id"])
            assert heavy["name"] in (row.external_id, f"nonuser #{row.id}") and heavy["name"] in evidence["text"]
    profile = admin.get(f"/api/v1/stakeholders/{heavy['stakeholder_id']}/profile").get_json()
    assert profile["segment"] == "heavy"  # the analyst's own check: the cited person is a heavy user


def test_the_report_shows_the_clv_fit_behind_its_customer_equity(report):
    fit = report["customer_equity"]["clv_fit"]
    assert (fit["status"], fit["transactions"]) == (report["customer_equity"]["clv_status"], "daily")
    assert fit["customers"] > 0 and set(fit["bgnbd"]) >= {"r", "alpha", "a", "b", "log_likelihood", "converged", "customers"}
