"""Relationship profiles and segment summaries for a brand or one of its purposes.

Each profile puts together, for one stakeholder: RFM and segment, pyramid level with what
would move the person up, relationship style (declared or inferred), purpose alignment,
and customer lifetime value. Scores are relative to the people in scope (RFM quintiles,
the CLV models' fit), so a profile is always computed with its whole population.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime

import numpy as np

from core.cooperative import collections_deferred, paced, pause
from core.rows import utc
from purpose import clv
from purpose.people import Known, People, load_people
from purpose.relationship import (DECLARED_WEIGHT, ENGAGED_INTERACTIONS, PYRAMID_LEVELS, alignment_of_lowered,
                                  pareto_share, pyramid_position, relationship_style, rfm)

#: Fewer buyers than this and CLV is not estimated: the models' parameters would be noise.
MIN_BUYERS_FOR_CLV = 20
#: Gamma-Gamma needs repeat buyers (x > 0) to estimate spend heterogeneity.
MIN_REPEAT_BUYERS_FOR_SPEND = 10
CLV_PERIODS, CLV_PERIOD_WEEKS, CLV_DISCOUNT = 12, 4.345, 0.01
#: Buyers valued per vectorised step (a few milliseconds): the event loop may run between two.
CLV_CHUNK = 2000


@dataclass(frozen=True)
class Profile:
    stakeholder: Known
    segment: str
    rfm: dict
    pyramid: dict
    style: str
    style_declared: bool
    alignment: dict[int, float]  # purpose id -> 0..1
    clv: dict | None  # expected purchases (12 months), probability alive, value; None without a model

    def as_dict(self) -> dict:
        out = asdict(self)
        out["stakeholder"] = asdict(self.stakeholder)
        out["alignment"] = [{"purpose_id": k, "score": v} for k, v in self.alignment.items()]
        return out


@dataclass(frozen=True)
class ClvModel:
    status: str  # "fitted", or why not: "too-few-buyers", "too-few-repeat-buyers", "did-not-converge"
    buyers: int
    values: dict[int, dict]
    #: How the fit went, as plain JSON (``fit_summary``): shown with profiles, segments and reports.
    fit: dict = field(default_factory=dict)


def _mean_repeat_spend(purchases) -> float:
    """Mean amount of the purchases after the first (they are in time order); 0 with none."""
    repeat = purchases[1:]
    return sum(amount for _, amount in repeat) / len(repeat) if repeat else 0.0


def _customers(buyers, as_of: datetime, transactions: str):
    """x, t_x, T (weeks) and m_x per buyer, from their purchases prepared by ``transactions``."""
    prepared = [clv.prepare(p.purchases, transactions) for p in paced(buyers)]
    x, t_x, T = (np.array(c, dtype=float) for c in zip(*(clv.summarise_transactions(tx, as_of) for tx in paced(prepared))))
    # Gamma-Gamma's m_x is the mean of the x repeat purchases, as x counts them: averaging the first
    # purchase in too makes each average steadier than x purchases can be, and the fit runs off to p -> infinity.
    m_x = np.array([_mean_repeat_spend(tx) for tx in paced(prepared)])
    return x, t_x, T, m_x


def fit_summary(status: str, transactions: str, buyers: int, repeat: int = 0, purchases=None, spend=None,
                spenders: int = 0) -> dict:
    """The CLV fit for an analyst: status, transaction preparation, customers, and per model its
    parameters, log-likelihood and convergence (None for a model that was not fitted)."""
    return {"status": status, "transactions": transactions, "customers": int(buyers), "repeat_customers": int(repeat),
            "bgnbd": None if purchases is None else clv.diagnostics(purchases, buyers),
            "gamma_gamma": None if spend is None else clv.diagnostics(spend, spenders)}


def _clv_model(people: People, as_of: datetime, transactions: str = "daily") -> ClvModel:
    buyers = [p for p in paced(people.persons.values()) if p.purchases]
    if len(buyers) < MIN_BUYERS_FOR_CLV:
        return ClvModel("too-few-buyers", len(buyers), {}, fit_summary("too-few-buyers", transactions, len(buyers)))
    x, t_x, T, m_x = _customers(buyers, as_of, transactions)
    pause()
    spenders = (x > 0) & (m_x > 0)  # repeat purchases of amount 0 (a free sample) say nothing about spend
    repeat = int((x > 0).sum())
    if int(spenders.sum()) < MIN_REPEAT_BUYERS_FOR_SPEND:
        return ClvModel("too-few-repeat-buyers", len(buyers), {},
                        fit_summary("too-few-repeat-buyers", transactions, len(buyers), repeat))
    purchases = clv.fit_bgnbd(x, t_x, T, tick=pause)
    spend = clv.fit_gamma_gamma(x[spenders], m_x[spenders], tick=pause)
    status = "fitted" if purchases.converged and spend.converged and spend.q > 1 else "did-not-converge"
    fit = fit_summary(status, transactions, len(buyers), repeat, purchases, spend, int(spenders.sum()))
    if status != "fitted":
        return ClvModel(status, len(buyers), {}, fit)
    value, alive, expected = _valued(purchases, spend, x, t_x, T, m_x)
    values = {p.id: {"expected_purchases": round(float(e), 4), "probability_alive": round(float(a), 4),
                     "value": round(float(v), 2)} for p, e, a, v in paced(zip(buyers, expected, alive, value))}
    return ClvModel("fitted", len(buyers), values, fit)


def _valued(purchases, spend, x, t_x, T, m_x) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each buyer's CLV, probability of being alive and expected purchases over the CLV horizon,
    ``CLV_CHUNK`` buyers at a time (at 100,000 buyers the whole arrays took 0.3 s without a pause)."""
    parts = []
    for start in paced(range(0, len(x), CLV_CHUNK)):
        part = slice(start, start + CLV_CHUNK)
        customers = (x[part], t_x[part], T[part])
        parts.append((clv.clv(purchases, spend, *customers, m_x[part], periods=CLV_PERIODS,
                              period_length=CLV_PERIOD_WEEKS, discount_rate=CLV_DISCOUNT),
                      clv.probability_alive(purchases, *customers),
                      clv.expected_purchases(purchases, CLV_PERIODS * CLV_PERIOD_WEEKS, *customers)))
    value, alive, expected = (np.concatenate(column) for column in zip(*parts))
    return value, alive, expected


def _alignment(wanted: set[str], stated: set[str], interactions: int, declared_purpose: bool) -> float:
    """Purpose alignment; a person who declared the purpose itself as their own states all of its goals."""
    if declared_purpose:
        return DECLARED_WEIGHT + (1 - DECLARED_WEIGHT) * min(1.0, interactions / ENGAGED_INTERACTIONS)
    return alignment_of_lowered(wanted, stated, interactions)


def _profiles(people: People, as_of: datetime, model: ClvModel) -> dict[int, Profile]:
    scores = rfm(list(people.persons.values()), as_of, pace=paced)
    wanted = {pid: {t.lower() for t in tags} for pid, tags in people.purpose_tags.items()}
    out = {}
    for sid, person in paced(people.persons.items()):
        r = scores[sid]
        position = pyramid_position(person, as_of)
        stated, interactions = {t.lower() for t in people.interests[sid]}, people.interactions[sid]
        own = people.declared_purposes.get(sid, ())
        alignment = {pid: round(_alignment(w, stated, interactions[pid], pid in own), 4) for pid, w in wanted.items()}
        recency = None if r.recency_days is None else round(r.recency_days, 2)
        out[sid] = Profile(
            stakeholder=people.known[sid], segment=r.segment,
            rfm={"recency_days": recency, "frequency": r.frequency, "monetary": round(r.monetary, 2),
                 "r": r.r_score, "f": r.f_score, "m": r.m_score},
            pyramid={"level": position.level, "name": position.name, "next": position.next_name,
                     "to_next": position.to_next},
            style=relationship_style(person, as_of), style_declared=person.declared_style is not None,
            alignment=alignment, clv=model.values.get(sid))
    return out


@dataclass(frozen=True)
class Scope:
    brand_id: int
    purpose_id: int | None
    as_of: datetime  # touchpoints after it are ignored; recency and CLV count back from it
    transactions: str = "daily"  # how purchases become CLV transactions (clv.TRANSACTIONS)


def build_profiles(scope: Scope) -> tuple[dict[int, Profile], ClvModel]:
    """Seconds of work for a large brand: its loops let the web process's event loop run
    meanwhile (``paced`` and ``pause``, core/cooperative.py, also passed to the pure
    ``relationship.rfm`` and ``clv`` fits), so its sockets do not stall."""
    _people, profiles, model = build_people_profiles(scope)
    return profiles, model


def build_people_profiles(scope: Scope) -> tuple[People, dict[int, Profile], ClvModel]:
    """``build_profiles`` with the people it scored (their contacts give a person's last activity:
    the people snapshots, ``purpose/snapshots.py``). The garbage collector waits meanwhile
    (``collections_deferred``): each of its full passes over the people stalled the process."""
    with collections_deferred():
        people = load_people(scope.brand_id, as_of=scope.as_of, purpose_id=scope.purpose_id)
        model = _clv_model(people, scope.as_of, scope.transactions)
        return people, _profiles(people, scope.as_of, model), model


def summarise_segments(profiles: dict[int, Profile], model: ClvModel) -> dict:
    """Counts per segment, pyramid level, style and kind; revenue, Pareto share, customer equity, conversions."""
    values = list(profiles.values())
    revenue = Counter()
    for p in paced(values):
        revenue[p.segment] += p.rfm["monetary"]
    equity = sum(p.clv["value"] for p in values if p.clv) if model.status == "fitted" else None
    converted = Counter(p.stakeholder.converted_from for p in values if p.stakeholder.converted_at is not None)
    return {
        "people": len(values),
        "segments": [{"segment": s, "count": n, "revenue": round(revenue[s], 2)}
                     for s, n in sorted(Counter(p.segment for p in values).items())],
        "pyramid": [{"level": i, "name": PYRAMID_LEVELS[i - 1] if i else None,
                     "count": sum(1 for p in values if p.pyramid["level"] == i)} for i in range(len(PYRAMID_LEVELS) + 1)],
        "styles": dict(sorted(Counter(p.style for p in values).items())),
        "kinds": dict(sorted(Counter(p.stakeholder.kind for p in values).items())),
        "pareto_share": round(pareto_share([p.rfm["monetary"] for p in values]), 4),
        "buyers": model.buyers,
        "clv_model": model.status,
        "clv_fit": model.fit,
        "customer_equity": None if equity is None or math.isnan(equity) else round(equity, 2),
        "conversions": {"total": sum(converted.values()), "from": dict(sorted(converted.items()))},
    }


#: Holdout groups by calibration repeat transactions: 0, 1, ..., HOLDOUT_GROUPS - 1, and "HOLDOUT_GROUPS+".
HOLDOUT_GROUPS = 7


def holdout_check(scope: Scope, until: datetime) -> dict:
    """How well the BG/NBD fit predicts: calibrated on the purchases up to ``scope.as_of``, its
    conditional expectation of each customer's repeat transactions in ``(as_of, until]`` against the
    transactions they made there, per group of customers with the same calibration repeat count and
    in total (Fader, Hardie and Lee 2005, "Counting your customers the easy way", figures 4-5).

    Customers are the people with a purchase up to ``as_of``; transactions are prepared as for the
    fit (``scope.transactions``). Errors: ``error`` = predicted - actual (repeat transactions, summed),
    ``relative_error`` = error / actual, ``mae`` and ``rmse`` per customer."""
    as_of, until = utc(scope.as_of), utc(until)
    scope = Scope(scope.brand_id, scope.purpose_id, as_of, scope.transactions)
    if until <= as_of:
        raise ValueError("the holdout ends after as_of")
    people = load_people(scope.brand_id, as_of=until, purpose_id=scope.purpose_id)
    calibration, actual = [], []
    for person in paced(people.persons.values()):
        prepared = clv.prepare(person.purchases, scope.transactions)
        before = [t for t in prepared if t[0] <= scope.as_of]
        if before:
            calibration.append(before)
            actual.append(sum(1 for t in prepared if scope.as_of < t[0] <= until))
    weeks = (until - scope.as_of).total_seconds() / (7 * 86400)
    out = {"as_of": scope.as_of.isoformat(), "holdout_until": until.isoformat(), "holdout_weeks": round(weeks, 3),
           "transactions": scope.transactions, "customers": len(calibration)}
    if len(calibration) < MIN_BUYERS_FOR_CLV:
        return {**out, "status": "too-few-buyers", "groups": [], "total": None}
    x, t_x, T = (np.array(c, dtype=float) for c in zip(*(clv.summarise_transactions(tx, scope.as_of)
                                                         for tx in paced(calibration))))
    fit = clv.fit_bgnbd(x, t_x, T, tick=pause)
    predicted, actual = clv.expected_purchases(fit, weeks, x, t_x, T), np.array(actual, dtype=float)
    group = np.minimum(x, HOLDOUT_GROUPS).astype(int)
    groups = []
    for g in range(HOLDOUT_GROUPS + 1):
        pick = group == g
        if pick.any():
            groups.append({"repeat_transactions": str(g) if g < HOLDOUT_GROUPS else f"{g}+", **_errors(predicted[pick], actual[pick])})
    return {**out, "status": "fitted" if fit.converged else "did-not-converge", "bgnbd": clv.diagnostics(fit, len(x)),
            "groups": groups, "total": _errors(predicted, actual)}


def _errors(predicted: np.ndarray, actual: np.ndarray) -> dict:
    """Predicted against actual holdout repeat transactions of some customers: sums, means and errors."""
    total_actual, total_predicted = float(actual.sum()), float(predicted.sum())
    diff = predicted - actual
    return {"customers": int(len(actual)), "actual": round(total_actual, 4), "predicted": round(total_predicted, 4),
            "actual_mean": round(float(actual.mean()), 4), "predicted_mean": round(float(predicted.mean()), 4),
            "error": round(total_predicted - total_actual, 4),
            "relative_error": round((total_predicted - total_actual) / total_actual, 4) if total_actual else None,
            "mae": round(float(np.abs(diff).mean()), 4), "rmse": round(float(np.sqrt((diff ** 2).mean())), 4)}
