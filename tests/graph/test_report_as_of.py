"""Reports as of a date, with a holdout check of the CLV fit, requested through the API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from core.extensions import db
from purpose.models import Brand, Stakeholder, StakeholderKind, Touchpoint, TouchpointKind

AS_OF = datetime(2026, 6, 1, tzinfo=timezone.utc)
UNTIL = AS_OF + timedelta(weeks=26)


@pytest.fixture
def brand(app):
    """60 customers buying at their own rate over a year before AS_OF and the 26 weeks after it; two
    nonusers who met at an event before AS_OF, and two who met only after it."""
    rng = np.random.default_rng(3)
    with app.app_context():
        brand = Brand(name="Holdout Co")
        db.session.add(brand)
        db.session.flush()
        start = AS_OF - timedelta(weeks=52)
        for i in range(60):
            person = Stakeholder(brand_id=brand.id, kind=StakeholderKind.customer, source="crm", external_id=f"c{i}",
                                 created_at=start)
            db.session.add(person)
            db.session.flush()
            rate, first = rng.gamma(2.0, 0.05), start + timedelta(days=float(rng.uniform(0, 200)))
            moments = [first] + [first + timedelta(weeks=float(w)) for w in np.cumsum(rng.exponential(1 / rate, size=40))]
            for k, moment in enumerate(m for m in moments if m <= UNTIL):
                db.session.add(Touchpoint(brand_id=brand.id, stakeholder_id=person.id, kind=TouchpointKind.purchase,
                                          occurred_at=moment, amount=20.0 + k, source="shop", external_id=f"p{i}-{k}"))
        for ref, when in (("before", AS_OF - timedelta(days=3)), ("after", AS_OF + timedelta(days=3))):
            for j in range(2):
                guest = Stakeholder(brand_id=brand.id, kind=StakeholderKind.event_attendee, source="crm",
                                    external_id=f"{ref}-{j}", created_at=start)
                db.session.add(guest)
                db.session.flush()
                db.session.add(Touchpoint(brand_id=brand.id, stakeholder_id=guest.id, kind=TouchpointKind.event,
                                          occurred_at=when, event_ref=ref, source="events", external_id=f"{ref}-{j}"))
        db.session.commit()
        return brand.id


def _result(admin, finished, **body):
    response = admin.post("/api/v1/reports", json=body)
    assert response.status_code == 202, response.get_json()
    finished(response.get_json()["id"])
    return response.get_json()["params"], admin.get(f"/api/v1/reports/{response.get_json()['id']}/result").get_json()


def test_a_report_as_of_a_date_ignores_what_came_after_and_checks_the_fit_on_the_holdout(admin, finished, brand):
    params, result = _result(admin, finished, brand_id=brand, as_of=AS_OF.isoformat(), holdout_until=UNTIL.isoformat())
    assert (params["as_of"], params["holdout_until"]) == (AS_OF.isoformat(), UNTIL.isoformat())
    assert result["snapshot_at"] == AS_OF.isoformat()
    assert result["graph"]["edges"] == 1  # the pair who met before as_of; the event after it is not read
    holdout = result["customer_equity"]["holdout"]
    assert holdout["status"] == "fitted" and holdout["customers"] == 60 and holdout["holdout_weeks"] == 26
    assert set(holdout["bgnbd"]) >= {"r", "alpha", "a", "b", "log_likelihood", "converged"}
    groups, total = holdout["groups"], holdout["total"]
    assert sum(g["customers"] for g in groups) == total["customers"] == 60
    assert sum(g["actual"] for g in groups) == pytest.approx(total["actual"])
    assert sum(g["predicted"] for g in groups) == pytest.approx(total["predicted"], rel=1e-3)
    assert total["error"] == pytest.approx(total["predicted"] - total["actual"], abs=1e-3)
    assert total["rmse"] >= total["mae"] >= 0
    # A model of the process that made the data tracks it: total holdout purchases within 35 %.
    assert abs(total["relative_error"]) < 0.35, holdout
    # Groups rise with calibration repeat purchases, in the data and in the prediction (Fader, Hardie, Lee).
    predicted = [g["predicted_mean"] for g in groups]
    assert predicted == sorted(predicted) and predicted[-1] > predicted[0]
    # Now, the same brand: the later purchases and the later event count.
    _params, now = _result(admin, finished, brand_id=brand)
    assert now["graph"]["edges"] == 2 and "holdout" not in now["customer_equity"]
    assert now["customer_equity"]["clv_fit"]["customers"] == 60


def test_a_holdout_needs_as_of_before_it_and_nothing_in_the_future(admin, brand):
    for body in ({"holdout_until": UNTIL.isoformat()},
                 {"as_of": UNTIL.isoformat(), "holdout_until": AS_OF.isoformat()},
                 {"as_of": (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()}):
        response = admin.post("/api/v1/reports", json={"brand_id": brand, **body})
        assert response.status_code == 422, (body, response.get_json())
