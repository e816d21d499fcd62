"""Profiles, segments and people listings as of an earlier time: touchpoints after it are ignored,
so recency, frequency and the CLV fit are those an analyst would have seen then."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

import pytest

from tests.purpose.test_clv_fit_api import CUSTOMERS, shop  # noqa: F401 (fixture)
from tests.purpose.test_people_api import NOW

BACK = timedelta(weeks=10)


def get(actor, path, **query):
    qs = "&".join(f"{k}={quote(str(v))}" for k, v in query.items())
    response = actor.get(f"{path}?{qs}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def purchases_by_customer(buys, until):
    out = {}
    for row in buys:
        when = datetime.fromisoformat(row["occurred_at"])
        if when <= until:
            out.setdefault(row["stakeholder_external_id"], []).append(when)
    return out


def test_as_of_before_the_last_purchases_changes_recency_frequency_and_the_clv_fit(shop, app):  # noqa: F811
    world, buys = shop
    manager, brand = world["manager"], world["brand"]
    as_of = NOW - BACK
    then, now = purchases_by_customer(buys, as_of), purchases_by_customer(buys, NOW)
    listing = get(manager, f"/api/v1/brands/{brand}/stakeholders", as_of=as_of.isoformat(), limit=200)
    today = {p["stakeholder"]["id"]: p for p in get(manager, f"/api/v1/brands/{brand}/stakeholders", limit=200)["items"]}
    ext = _external_ids(app, brand)
    checked_changed = 0
    for profile in listing["items"]:
        who = ext[profile["stakeholder"]["id"]]
        times = then.get(who, [])
        assert profile["rfm"]["frequency"] == len(times)  # purchases after as_of are not counted
        if not times:  # their first purchase came later: no purchase, no CLV as of then
            assert profile["rfm"]["recency_days"] is None and profile["clv"] is None
            continue
        recency = (as_of - max(times)).total_seconds() / 86400
        assert profile["rfm"]["recency_days"] == pytest.approx(recency, abs=0.02)
        later = today[profile["stakeholder"]["id"]]["rfm"]
        if len(now[who]) > len(times):  # bought again after as_of: today's last purchase is a later one
            assert later["recency_days"] < profile["rfm"]["recency_days"] + BACK.days
            assert later["frequency"] > profile["rfm"]["frequency"]
            checked_changed += 1
        else:  # nothing since: the same last purchase, 70 days further back
            assert later["recency_days"] == pytest.approx(profile["rfm"]["recency_days"] + BACK.days, abs=0.05)
    assert checked_changed >= 5
    # the fit as of then is on the buyers known then, and differs from today's
    fit_then = get(manager, f"/api/v1/brands/{brand}/segments", as_of=as_of.isoformat())["clv_fit"]
    fit_now = get(manager, f"/api/v1/brands/{brand}/segments")["clv_fit"]
    assert fit_then["customers"] == len(then) and fit_now["customers"] == CUSTOMERS
    repeat = {when: sum(len({t.date() for t in times}) > 1 for times in by.values()) for when, by in (("then", then), ("now", now))}
    assert (fit_then["repeat_customers"], fit_now["repeat_customers"]) == (repeat["then"], repeat["now"])
    assert repeat["then"] < repeat["now"]  # some bought again only after as_of
    assert listing["clv_fit"]["customers"] == len(then)
    assert fit_then["bgnbd"]["log_likelihood"] != fit_now["bgnbd"]["log_likelihood"]
    profile = get(manager, f"/api/v1/stakeholders/{listing['items'][0]['stakeholder']['id']}/profile", as_of=as_of.isoformat())
    assert profile["rfm"] == listing["items"][0]["rfm"]


@pytest.mark.parametrize("as_of", [  # ids fixed: pytest-xdist needs the same test names in every worker
    pytest.param("2026-01-01T00:00:00", id="naive"),
    pytest.param((NOW + timedelta(days=1)).isoformat(), id="tomorrow"),
    pytest.param("yesterday", id="malformed"),
])
def test_a_naive_future_or_malformed_as_of_is_422_naming_it(world, as_of):
    response = world["manager"].get(f"/api/v1/brands/{world['brand']}/segments?as_of={quote(as_of)}")
    assert response.status_code == 422 and "as_of" in str(response.get_json()), response.get_json()


def _external_ids(app, brand):
    from sqlalchemy import select

    from core.extensions import db
    from purpose.models import Stakeholder

    with app.app_context():
        return dict(db.session.execute(select(Stakeholder.id, Stakeholder.external_id).where(Stakeholder.brand_id == brand)).all())
