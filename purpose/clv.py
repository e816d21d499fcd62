"""Customer lifetime value: BG/NBD for purchase counts, Gamma-Gamma for spend (pure, scipy).

Models (docs/relationships.md has the formulas):
- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive,
  a customer buys at rate lambda ~ Gamma(r, alpha); after each repeat purchase they drop
  out with probability p ~ Beta(a, b). Data per customer: x repeat purchases, t_x the time
  of the last one, T the time since the first purchase (all in the same unit, e.g. weeks).
- Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"; Colombo & Jiang 1999): spend per
  transaction ~ Gamma(p, nu), nu ~ Gamma(q, v); data: x > 0 and the mean spend m_x.
Both are fitted by maximum likelihood on log-parameters with scipy.optimize's L-BFGS-B and the
likelihoods' analytic gradients (docs/relationships.md derives them).

Imports nothing of the platform (neither Flask nor the database nor ``core``): a fit that must
let a web process's event loop run takes a ``tick`` from its caller (``core.cooperative.pause``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timezone
from typing import Callable

import numpy as np
from scipy.linalg import eigh_tridiagonal
from scipy.optimize import minimize
from scipy.special import digamma, gammaln


@dataclass(frozen=True)
class BGNBDParams:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    converged: bool


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    v: float
    log_likelihood: float
    converged: bool


def diagnostics(params, customers: int) -> dict:
    """A fit as plain JSON: its parameters, log-likelihood, convergence and number of customers."""
    out = {k: float(v) if isinstance(v, float) else v for k, v in vars(params).items()}
    return {**out, "converged": bool(params.converged), "customers": int(customers)}


def _arrays(*columns):
    arrays = [np.asarray(c, dtype=float) for c in columns]
    if not arrays[0].size:
        raise ValueError("no customers")
    if any(np.any(a < 0) or not np.all(np.isfinite(a)) for a in arrays):
        raise ValueError("values must be finite and non-negative")
    return arrays


#: How purchases become BG/NBD transactions: ``daily`` merges one customer's purchases of the same
#: UTC calendar day into one (the models count purchase occasions: Fader, Hardie & Lee's CDNOW
#: preparation counts distinct days), ``raw`` takes every purchase as it was recorded.
TRANSACTIONS = ("daily", "raw")


def daily_purchases(purchases) -> list[tuple[datetime, float]]:
    """One customer's (time, amount) purchases merged per UTC day: (the day's first time, the day's total)."""
    days: dict = {}
    for moment, amount in sorted(purchases):
        day = moment.astimezone(timezone.utc).date() if moment.utcoffset() else moment.date()  # naive: UTC
        first, total = days.get(day, (moment, 0.0))
        days[day] = (first, total + float(amount))
    return [days[day] for day in sorted(days)]


def prepare(purchases, transactions: str = "daily") -> list[tuple[datetime, float]]:
    """(time, amount) transactions as the models see them, by the ``transactions`` rule (:data:`TRANSACTIONS`)."""
    if transactions not in TRANSACTIONS:
        raise ValueError(f"transactions must be one of {', '.join(TRANSACTIONS)}")
    return daily_purchases(purchases) if transactions == "daily" else sorted((t, float(a)) for t, a in purchases)


def summarise(purchase_times: list[datetime], as_of: datetime, *, unit_days: float = 7.0,
              transactions: str = "daily") -> tuple[int, float, float]:
    """(x, t_x, T) from one customer's purchase times: repeat purchases, last and age in ``unit_days``.

    By default purchases on the same UTC day count once (``transactions="daily"``); ``"raw"``
    counts each one."""
    return summarise_transactions(prepare([(t, 0.0) for t in purchase_times], transactions), as_of, unit_days=unit_days)


def summarise_transactions(transactions: list[tuple[datetime, float]], as_of: datetime, *,
                           unit_days: float = 7.0) -> tuple[int, float, float]:
    """(x, t_x, T) from one customer's transactions as :func:`prepare` returns them (time order)."""
    if not transactions or transactions[-1][0] > as_of:
        raise ValueError("need at least one purchase, none after as_of")
    unit = unit_days * 86400
    first, last = transactions[0][0], transactions[-1][0]
    return len(transactions) - 1, (last - first).total_seconds() / unit, (as_of - first).total_seconds() / unit


#: L-BFGS-B restarts from its own result when it stops without converging (its iteration cap, or a
#: line search that found no decrease where rounding makes the likelihood flat): a fresh start drops
#: its curvature estimate. A restart that ends no better than it began (the likelihood keeps rising
#: along a ridge, or it is at the maximum already) is not repeated: the next would end at the same point.
RESTARTS = 3
#: Iterations per run: a fit that converges takes 20 to 80; the cap bounds one that walks a ridge.
MAX_ITERATIONS = 500
#: Where the data hold no heterogeneity for a parameter to describe (everyone buying at one rate,
#: spend independent of the customer), the likelihood rises towards a limit as parameters grow
#: without end, and far out rounding hides what is left to gain: the line search then stops
#: "abnormally". That end counts as converged when a unit step of any log-parameter could gain at
#: most this fraction of the likelihood (the gradient's largest component); a search stopped mid-way
#: is orders of magnitude steeper.
FLAT_ENOUGH = 1e-4
#: A Gamma-Gamma shape p above this (spend varying by under 1 % between one customer's own
#: purchases: coefficient of variation 1/sqrt(p); real data give p of 1 to 10) means the fit ran
#: up the likelihood's ridge.
MAX_SPEND_SHAPE = 1e4
#: A shape parameter of a mixing distribution (r of the purchase rates, q of the spend scales) is
#: searched up to this: the rates or scales then vary between customers by 1/sqrt(e^14), under 0.1 %,
#: which is no heterogeneity at all. Where the data hold none (everyone buying at one rate, spend
#: independent of the customer), the likelihood rises towards a limit as the shape grows without end,
#: and further out rounding takes over the likelihood (sums of terms of 1e13 that cancel); at this
#: bound the search ends with a model equal to that limit within 0.1 %.
MAX_LOG_MIXING_SHAPE = 14.0
#: Where the spend fit searches, in log-parameters: p up to 100 times past MAX_SPEND_SHAPE, q up to
#: the mixing bound, v within e^±30. Further up p's ridge gammaln's rounding takes over too: at p of
#: 1e300 the likelihood read as absurdly high (+1e291), so that the more likely of two starts could be
#: that noise rather than an interior maximum the other start found.
SPEND_BOUNDS = ((-30.0, float(np.log(MAX_SPEND_SHAPE * 100))), (-30.0, MAX_LOG_MIXING_SHAPE), (-30.0, 30.0))
#: Where the purchase fit searches: r up to the mixing bound, alpha, a and b within e^±30.
PURCHASE_BOUNDS = ((-30.0, MAX_LOG_MIXING_SHAPE), (-30.0, 30.0), (-30.0, 30.0), (-30.0, 30.0))


def _minimise(negative, size: int, start=None, bounds=None, tick: Callable[[], None] | None = None):
    """Minimise ``negative`` (log-parameters -> value and gradient) from ``start`` (default 0: all
    parameters 1) within ``bounds``, restarting if needed. Each evaluation covers every buyer; before
    each, ``tick`` is called if given (a web process lets its event loop run there)."""

    def ticking_negative(log_params):
        tick()
        return negative(log_params)

    objective = negative if tick is None else ticking_negative

    def run(start):
        return minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                        options={"maxiter": MAX_ITERATIONS})

    result = run(np.zeros(size) if start is None else np.asarray(start, dtype=float))
    for _ in range(RESTARTS):
        if result.success:
            break
        again = run(result.x)
        stalled = not again.fun < result.fun - 1e-9 * max(1.0, abs(result.fun))
        result = again if again.fun <= result.fun else result
        if stalled:
            break
    result.converged = bool(result.success) or (
        result.status == 2 and float(np.max(np.abs(result.jac))) <= FLAT_ENOUGH * max(1.0, abs(float(result.fun))))
    return result


def _in_log_space(log_likelihood_and_gradient):
    """The negative log-likelihood over log-parameters, with its gradient (the chain rule: d/dlog(t) = t d/dt)."""

    def negative(log_params):
        params = np.exp(log_params)
        value, gradient = log_likelihood_and_gradient(params)
        return -value, -gradient * params

    return negative


class _ByCount:
    """Customers' data with the terms that depend only on the purchase count ``x`` computed once
    per distinct count (a few dozen) instead of once per customer: the same values, several times faster."""

    def __init__(self, x):
        self.x = np.asarray(x, dtype=float)
        self.counts, self.inverse = np.unique(self.x, return_inverse=True)
        self.customers_per_count = np.bincount(self.inverse).astype(float)

    def per_customer(self, values: np.ndarray) -> np.ndarray:
        return values[self.inverse]

    def summed(self, values: np.ndarray) -> float:
        """The sum over customers of a term computed per distinct count."""
        return float(values @ self.customers_per_count)


class _BGNBDData(_ByCount):
    def __init__(self, x, t_x, T):
        super().__init__(x)
        self.t_x, self.T = np.asarray(t_x, dtype=float), np.asarray(T, dtype=float)
        self.repeat = self.x > 0

    def _terms(self, params):
        """(per distinct count: A1 + A2; per customer: A3, A4) of Fader, Hardie & Lee's (2005) eq. 6."""
        r, alpha, a, b = params
        x = self.counts
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_b = np.log(b + x - 1)
        r_x = r + self.x
        a3 = -r_x * np.log(alpha + self.T)
        with np.errstate(divide="ignore", invalid="ignore"):
            a4 = np.where(self.repeat, np.log(a) - self.per_customer(log_b) - r_x * np.log(alpha + self.t_x), -np.inf)
        return a1 + a2, a3, a4

    def log_likelihood(self, params) -> np.ndarray:
        by_count, a3, a4 = self._terms(params)
        return self.per_customer(by_count) + np.logaddexp(a3, a4)

    def log_likelihood_and_gradient(self, params) -> tuple[float, np.ndarray]:
        """The likelihood summed over customers, and its gradient in (r, alpha, a, b)."""
        r, alpha, a, b = params
        by_count, a3, a4 = self._terms(params)
        mixed = np.logaddexp(a3, a4)
        dropped = np.exp(a4 - mixed)  # the weight of the "dropped out after the last purchase" term; 0 without repeats
        x, r_x = self.counts, r + self.x
        log_alpha_T, log_alpha_t = np.log(alpha + self.T), np.log(alpha + self.t_x)
        with np.errstate(divide="ignore", invalid="ignore"):
            inverse_b = np.where(x > 0, 1.0 / (b + x - 1), 0.0)
        d_r = self.summed(digamma(r + x) - digamma(r) + np.log(alpha)) \
            - float(np.sum((1 - dropped) * log_alpha_T + dropped * log_alpha_t))
        d_alpha = len(self.x) * r / alpha - float(np.sum(r_x * ((1 - dropped) / (alpha + self.T) + dropped / (alpha + self.t_x))))
        shared = digamma(a + b) - digamma(a + b + x)
        d_a = self.summed(shared) + float(dropped.sum()) / a
        d_b = self.summed(shared + digamma(b + x) - digamma(b)) - float(dropped @ self.per_customer(inverse_b))
        value = self.summed(by_count) + float(mixed.sum())
        return value, np.array([d_r, d_alpha, d_a, d_b])


def bgnbd_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood of BG/NBD at ``params`` = (r, alpha, a, b)."""
    return _BGNBDData(x, t_x, T).log_likelihood(params)


def fit_bgnbd(x, t_x, T, *, tick: Callable[[], None] | None = None) -> BGNBDParams:
    """Maximum-likelihood BG/NBD parameters for customers (x, t_x, T); ``tick``, if given, is
    called before each evaluation of the likelihood (see :func:`_minimise`)."""
    x, t_x, T = _arrays(x, t_x, T)
    if np.any(t_x > T) or np.any((x == 0) & (t_x != 0)):
        raise ValueError("need t_x <= T, and t_x == 0 when x == 0")
    data = _BGNBDData(x, t_x, T)
    if tick is not None:  # the data's preparation is a few vectorised passes over every customer
        tick()
    result = _minimise(_in_log_space(data.log_likelihood_and_gradient), 4, bounds=PURCHASE_BOUNDS, tick=tick)
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    return BGNBDParams(r, alpha, a, b, -float(result.fun), result.converged)


def probability_alive(params: BGNBDParams, x, t_x, T) -> np.ndarray:
    """P(still buying | x, t_x, T); 1 for customers without repeat purchases."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = params.a / (params.b + x - 1) * ((params.alpha + T) / (params.alpha + t_x)) ** (params.r + x)
    return 1.0 / (1.0 + np.where(x > 0, odds, 0.0))


#: Gauss nodes for the expectation over a customer's dropout probability: the integrand is smooth, and
#: 24 nodes agree with 96 within 4e-7 (relative) up to customers of 1,000 purchases over four years.
DROPOUT_NODES = 24


@lru_cache(maxsize=1024)
def _beta_nodes(a: float, b: float, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss quadrature for Beta(a, b) on [0, 1]: nodes and weights (summing to 1) from the eigen-
    decomposition of the Jacobi matrix of its orthogonal polynomials (Golub & Welsch 1969).

    The recurrence is written so that nothing cancels or overflows where the fits end up (a of 1e-13,
    b of 1e13): scipy's ``roots_jacobi`` computes the weights through Beta functions that overflow there.
    Cached: a fit's customers are valued in chunks, each asking for the same few dozen counts."""
    alpha, beta = b - 1.0, a - 1.0  # Jacobi's exponents on [-1, 1]: (1 - s)^alpha (1 + s)^beta
    n = np.arange(nodes, dtype=float)
    total = 2 * n + alpha + beta
    with np.errstate(divide="ignore", invalid="ignore"):
        diagonal = (total * (n + beta + 1) + n * (alpha - beta)) / (total * (total + 2))
    diagonal[0] = (beta + 1) / (alpha + beta + 2)  # the mean, a / (a + b)
    m = n[1:]
    total = 2 * m + alpha + beta
    with np.errstate(divide="ignore", invalid="ignore"):
        off = ((m + alpha) / total) * ((m + alpha + beta) / total) * (m * (m + beta) / ((total + 1) * (total - 1)))
    if nodes > 1:
        off[0] = (1 + alpha) * (1 + beta) / ((2 + alpha + beta) ** 2 * (3 + alpha + beta))
    points, vectors = eigh_tridiagonal(diagonal, np.sqrt(off))
    weights = vectors[0] ** 2
    return points, weights / weights.sum()


def expected_purchases(params: BGNBDParams, t: float, x, t_x, T) -> np.ndarray:
    """Expected purchases in the next ``t`` time units for each customer (x, t_x, T).

    P(alive) times E[(1 - ((alpha+T) / (alpha+T+p*t))^(r+x)) / p] over the customer's dropout
    probability p ~ Beta(a, b+x), by Gauss quadrature: the same quantity as Fader, Hardie & Lee's closed
    form, whose hypergeometric function scipy returns as NaN, or wrong, once r or b are large (data
    without heterogeneity in purchase rates or dropout, where the fits end at their bounds)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    counts, inverse = np.unique(x, return_inverse=True)
    points, weights = (np.array(column)[inverse] for column in
                       zip(*(_beta_nodes(params.a, params.b + count, DROPOUT_NODES) for count in counts)))
    scale, shape = (t / (params.alpha + T))[:, None], (params.r + x)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):  # p -> 0: the limit (r+x) t / (alpha+T)
        bought = np.where(points > 0, -np.expm1(-shape * np.log1p(points * scale)) / points, shape * scale)
    return probability_alive(params, x, t_x, T) * np.sum(bought * weights, axis=1)


class _GammaGammaData(_ByCount):
    def __init__(self, x, m_x):
        super().__init__(x)
        self.log_m, self.log_x, self.spend = np.log(m_x), np.log(self.x), self.x * np.asarray(m_x, dtype=float)

    def log_likelihood(self, params) -> np.ndarray:
        p, q, v = params
        px = p * self.counts
        by_count = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
        px = p * self.x
        return self.per_customer(by_count) + (px - 1) * self.log_m + px * self.log_x - (px + q) * np.log(self.spend + v)

    def log_likelihood_and_gradient(self, params) -> tuple[float, np.ndarray]:
        """The likelihood summed over customers, and its gradient in (p, q, v)."""
        p, q, v = params
        x = self.counts
        log_spend_v = np.log(self.spend + v)
        d_p = self.summed(x * (digamma(p * x + q) - digamma(p * x))) + float(self.x @ (self.log_m + self.log_x - log_spend_v))
        d_q = self.summed(digamma(p * x + q) - digamma(q) + np.log(v)) - float(log_spend_v.sum())
        d_v = len(self.x) * q / v - float(np.sum((p * self.x + q) / (self.spend + v)))
        return float(self.log_likelihood(params).sum()), np.array([d_p, d_q, d_v])


def gamma_gamma_log_likelihood(params, x, m_x) -> np.ndarray:
    return _GammaGammaData(x, m_x).log_likelihood(params)


def fit_gamma_gamma(x, m_x, *, tick: Callable[[], None] | None = None) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters from repeat customers (x > 0, mean spend m_x > 0);
    ``tick``, if given, is called before each evaluation of the likelihood (see :func:`_minimise`)."""
    x, m_x = _arrays(x, m_x)
    if np.any(x <= 0) or np.any(m_x <= 0):
        raise ValueError("Gamma-Gamma needs x > 0 and m_x > 0")
    negative = _in_log_space(_GammaGammaData(x, m_x).log_likelihood_and_gradient)

    # Two starts, the more likely end wins: all parameters 1, and a moment start (p = 1: spend varying
    # as much within a customer as an exponential; q = 3; v such that the mean spend p·v/(q-1) is the
    # data's). From 1 alone the search can walk up the ridge below although an interior maximum exists.
    moment = np.log([1.0, 3.0, 2.0 * float(np.mean(m_x))])
    result = min((_minimise(negative, 3, bounds=SPEND_BOUNDS, tick=tick),
                  _minimise(negative, 3, moment, bounds=SPEND_BOUNDS, tick=tick)), key=lambda r: r.fun)
    p, q, v = (float(val) for val in np.exp(result.x))
    # When customers' spend hardly varies between their own purchases, the likelihood keeps
    # rising as p grows and v shrinks (p·v fixed): there is no maximum. The search then stops at
    # its bound or where rounding flattens the ridge (p of 1e5 to 1e6, by the machine's floating
    # point): past MAX_SPEND_SHAPE, not a fit either way.
    on_ridge = p > MAX_SPEND_SHAPE
    return GammaGammaParams(p, q, v, -float(result.fun), result.converged and not on_ridge)


def expected_spend(params: GammaGammaParams, x, m_x) -> np.ndarray:
    """Expected mean spend per transaction, shrunk from m_x towards the population mean."""
    if params.q <= 1:
        raise ValueError("the conditional mean needs q > 1")
    x, m_x = np.asarray(x, dtype=float), np.asarray(m_x, dtype=float)
    return params.p * (params.v + x * m_x) / (params.p * x + params.q - 1)


def clv(purchases: BGNBDParams, spend: GammaGammaParams, x, t_x, T, m_x, *, periods: int = 12,
        period_length: float = 4.345, discount_rate: float = 0.01) -> np.ndarray:
    """Discounted value over ``periods`` future periods: sum_k E[purchases in k] * E[spend] / (1 + d)^k.

    Defaults: 12 monthly periods (4.345 weeks each, for data in weeks), 1 % per period.
    """
    x = np.asarray(x, dtype=float)
    # At x = 0 the conditional mean is the population mean p * v / (q - 1): no special case.
    spend_per_purchase = expected_spend(spend, x, np.where(x > 0, m_x, 0.0))
    value, previous = 0.0, 0.0
    for k in range(1, periods + 1):
        cumulative = expected_purchases(purchases, k * period_length, x, t_x, T)
        value = value + (cumulative - previous) * spend_per_purchase / (1 + discount_rate) ** k
        previous = cumulative
    return value


def customer_equity(values, keys) -> dict:
    """Sum of CLVs per key (a brand, a purpose): ``{key: total}`` as plain floats."""
    totals: dict = defaultdict(float)
    for value, key in zip(values, keys):
        totals[key] += float(value)
    return dict(totals)
