"""Nonusers rank by what makes them worth engaging, through the real path: imported through the API into a
community written to the database, ranked by a report requested through the API."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db, utcnow
from devtools.seed import seed_synthetic
from purpose.models import Purpose


@pytest.fixture
def community(app, admin):
    with app.app_context():
        result = seed_synthetic(400, seed=21)
        purpose = db.session.scalar(select(Purpose).where(Purpose.brand_id == result.brand_id).order_by(Purpose.id))
        return result, purpose.id, purpose.title


def _upload(client, path: str, rows: list[dict]):
    body = "".join(json.dumps(r) + "\n" for r in rows)
    response = client.post(path, data=body, content_type="application/x-ndjson")
    assert response.status_code == 200 and response.get_json()["rejected"] == 0, response.get_json()


def test_a_nonuser_with_declared_purpose_and_ties_to_heavy_users_outranks_one_without(app, admin, finished, community):
    result, purpose_id, title = community
    brand = result.brand_id
    heavy = sorted(result.truth["heavy"] - result.truth["objected"])[:4]  # synthetic keys = their external ids
    _upload(admin, f"/api/v1/brands/{brand}/imports/stakeholders?source=synthetic", [
        {"external_id": "crm-eager", "kind": "prospect", "display_name": "Eve Eager", "purposes": [title]},
        {"external_id": "crm-quiet", "kind": "prospect", "display_name": "Quentin Quiet"}])
    recent = (utcnow() - timedelta(days=3)).isoformat()
    touchpoints = [{"external_id": f"ev-{who}", "stakeholder_external_id": who, "kind": "event", "event_ref": "beach-day",
                    "occurred_at": recent, "purpose": purpose_id} for who in ["crm-eager", *heavy]]
    touchpoints.append({"external_id": "nl-quiet", "stakeholder_external_id": "crm-quiet", "kind": "newsletter",
                        "occurred_at": recent})  # recent, but no sign of interest: a name on a list
    _upload(admin, f"/api/v1/brands/{brand}/imports/touchpoints?source=tp&stakeholder_source=synthetic", touchpoints)
    report = admin.post("/api/v1/reports", json={"brand_id": brand, "top": 500}).get_json()
    finished(report["id"])
    entries = admin.get(f"/api/v1/reports/{report['id']}/result").get_json()["opportunities"]
    rank = {e["external_id"]: e for e in entries if e["kind"] == "nonuser"}
    eager, quiet = rank["crm-eager"], rank.get("crm-quiet")
    assert eager["label"] == "Eve Eager"
    assert eager["contributions"]["heavy_ties"] > 0 and eager["contributions"]["alignment"] >= 0.15 * 0.6
    cited = [e for e in eager["evidence"] if e["type"] == "heavy_users" and e["edge_kind"] == "co_event"]
    assert cited and "beach-day" in cited[0]["events"]
    assert quiet is None or (quiet["score"] == 0 and quiet["rank"] > eager["rank"])
    # No nonuser without any signal outranks one with a signal: those without score exactly 0.
    scores = [e["score"] for e in entries if e["kind"] == "nonuser"]
    assert scores == sorted(scores, reverse=True) and (quiet is None or all(s == 0 for s in scores[scores.index(0):]))
