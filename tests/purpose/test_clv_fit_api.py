"""The CLV fit through the API: same-day purchases merged by default, and the fit's parameters,
likelihood, convergence and customers shown with segments and profiles."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from tests.purpose.test_people_api import jsonl, simulated_purchases, stakeholders_csv, upload

CUSTOMERS = 150


def same_day(row: dict, ext: str) -> dict:
    """Another purchase on the same UTC day as ``row``, a minute later (or earlier, near midnight)."""
    when = datetime.fromisoformat(row["occurred_at"])
    other = when + timedelta(minutes=1) if (when + timedelta(minutes=1)).date() == when.date() else when - timedelta(minutes=1)
    return {**row, "external_id": ext, "occurred_at": other.isoformat(), "amount": 5.0}


@pytest.fixture
def shop(world):
    manager, brand = world["manager"], world["brand"]
    rows = [(f"c{i}", "customer", None, None) for i in range(CUSTOMERS)]
    assert upload(manager, brand, "stakeholders", stakeholders_csv(rows), source="shop").status_code == 200
    buys = simulated_purchases(CUSTOMERS, seed=2)
    assert upload(manager, brand, "touchpoints", jsonl(buys), "application/x-ndjson", source="shop").get_json()["rejected"] == 0
    return world, buys


def fit(actor, brand, **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    response = actor.get(f"/api/v1/brands/{brand}/segments?{qs}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["clv_fit"]


def test_the_fits_parameters_likelihood_and_convergence_come_back_with_segments_and_profiles(shop):
    world, _buys = shop
    manager, brand = world["manager"], world["brand"]
    out = fit(manager, brand)
    assert (out["status"], out["transactions"], out["customers"]) == ("fitted", "daily", CUSTOMERS)
    purchases, spend = out["bgnbd"], out["gamma_gamma"]
    assert purchases["converged"] and spend["converged"]
    assert all(purchases[k] > 0 for k in ("r", "alpha", "a", "b")) and purchases["customers"] == CUSTOMERS
    assert all(spend[k] > 0 for k in ("p", "q", "v")) and spend["q"] > 1
    assert 10 <= spend["customers"] <= out["repeat_customers"] < CUSTOMERS
    assert purchases["log_likelihood"] < 0 and math.isfinite(spend["log_likelihood"])
    page = manager.get(f"/api/v1/brands/{brand}/stakeholders?limit=5").get_json()
    assert page["clv_fit"]["bgnbd"]["r"] == pytest.approx(purchases["r"], rel=0.02)  # the same data, refitted
    assert manager.get(f"/api/v1/brands/{brand}/segments?transactions=weekly").status_code == 422


def test_same_day_purchases_count_once_unless_raw_is_asked_for(shop):
    world, buys = shop
    manager, brand = world["manager"], world["brand"]
    before, raw_before = fit(manager, brand), fit(manager, brand, transactions="raw")
    counts = {}
    for row in buys:
        counts[row["stakeholder_external_id"]] = counts.get(row["stakeholder_external_id"], 0) + 1
    once = [row for row in buys if counts[row["stakeholder_external_id"]] == 1][:12]
    extra = [same_day(row, f"extra-{i}") for i, row in enumerate(once)]
    assert upload(manager, brand, "touchpoints", jsonl(extra), "application/x-ndjson", source="shop").get_json()["accepted"] == 12
    daily, raw = fit(manager, brand), fit(manager, brand, transactions="raw")
    # merged by day, the purchase data are those of before: same repeat buyers, the same maximum
    assert daily["repeat_customers"] == before["repeat_customers"]
    assert daily["bgnbd"]["log_likelihood"] == pytest.approx(before["bgnbd"]["log_likelihood"], abs=0.5)
    for k in ("r", "alpha", "a", "b"):
        assert daily["bgnbd"][k] == pytest.approx(before["bgnbd"][k], rel=0.05)
    # counted raw, each of the 12 one-time buyers became a repeat buyer
    assert (raw["transactions"], raw["repeat_customers"]) == ("raw", raw_before["repeat_customers"] + 12)
