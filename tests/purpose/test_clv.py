"""CLV models: recover known parameters from simulated customers, predict a holdout period."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from purpose import clv

# Published CDNOW estimates (Fader, Hardie & Lee 2005): BG/NBD and Gamma-Gamma.
TRUE_BGNBD = clv.BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0, converged=True)
TRUE_GG = clv.GammaGammaParams(p=6.25, q=3.74, v=15.44, log_likelihood=0.0, converged=True)


def simulate(n: int, T: float, holdout: float, seed: int):
    """BG/NBD customers observed for T weeks; also counts their purchases in (T, T + holdout]."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE_BGNBD.r, 1 / TRUE_BGNBD.alpha, n)
    drop = rng.beta(TRUE_BGNBD.a, TRUE_BGNBD.b, n)
    x, t_x, future = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T + holdout:
                break
            if t <= T:
                x[i], t_x[i] = x[i] + 1, t
            else:
                future[i] += 1
            if rng.random() < drop[i]:
                break
    return x, t_x, np.full(n, T), future


@pytest.fixture(scope="module")
def cohort():
    return simulate(6000, 39.0, 39.0, seed=2005)


@pytest.fixture(scope="module")
def fitted(cohort):
    x, t_x, T, _future = cohort
    return clv.fit_bgnbd(x, t_x, T)


def test_bgnbd_fit_reaches_the_maximum_and_recovers_the_purchase_process(cohort, fitted):
    x, t_x, T, _future = cohort
    assert fitted.converged
    true_ll = clv.bgnbd_log_likelihood((TRUE_BGNBD.r, TRUE_BGNBD.alpha, TRUE_BGNBD.a, TRUE_BGNBD.b), x, t_x, T).sum()
    assert fitted.log_likelihood >= true_ll  # the MLE is at least as likely as the truth
    assert fitted.log_likelihood - true_ll < 10  # and not absurdly far from it
    # The mean purchase rate r/alpha is well identified; the dropout mix less so.
    assert fitted.r / fitted.alpha == pytest.approx(TRUE_BGNBD.r / TRUE_BGNBD.alpha, rel=0.15)
    assert fitted.a / (fitted.a + fitted.b) == pytest.approx(TRUE_BGNBD.a / (TRUE_BGNBD.a + TRUE_BGNBD.b), rel=0.35)


def test_bgnbd_predicts_the_holdout_period(cohort, fitted):
    x, t_x, T, future = cohort
    predicted = clv.expected_purchases(fitted, 39.0, x, t_x, T)
    assert predicted.sum() == pytest.approx(future.sum(), rel=0.1)
    # Customers who bought more in calibration are predicted, and do, buy more.
    heavy = x >= 3
    assert predicted[heavy].mean() > 3 * predicted[~heavy].mean()
    assert future[heavy].mean() > 3 * future[~heavy].mean()


def test_probability_alive_closed_form_cases(fitted):
    assert clv.probability_alive(fitted, [0], [0], [39]) == pytest.approx([1.0])
    # Same purchases, but the recent buyer is more likely alive than the one who went quiet.
    recent, quiet = clv.probability_alive(fitted, [4, 4], [38, 5], [39, 39])
    assert 0 < quiet < recent < 1


def test_gamma_gamma_recovers_spend_parameters():
    rng = np.random.default_rng(1999)
    n = 4000
    x = rng.integers(1, 8, n).astype(float)
    nu = rng.gamma(TRUE_GG.q, 1 / TRUE_GG.v, n)
    m_x = np.array([rng.gamma(TRUE_GG.p, 1 / nu[i], int(x[i])).mean() for i in range(n)])
    fitted = clv.fit_gamma_gamma(x, m_x)
    assert fitted.converged
    population_mean = TRUE_GG.p * TRUE_GG.v / (TRUE_GG.q - 1)
    assert fitted.p * fitted.v / (fitted.q - 1) == pytest.approx(population_mean, rel=0.1)
    assert fitted.p == pytest.approx(TRUE_GG.p, rel=0.2)
    # The conditional mean shrinks each customer's average towards the population mean.
    low, high = clv.expected_spend(fitted, [2, 2], [5.0, 100.0])
    assert 5.0 < low < population_mean * 1.1 and population_mean * 0.9 < high < 100.0


def _three_price_points(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """300 repeat buyers whose every purchase costs 20, 50 or 120: spend never varies within a
    customer, so the Gamma-Gamma likelihood rises without end as p grows."""
    rng = np.random.default_rng(seed)
    return rng.integers(1, 8, 300).astype(float), rng.choice([20.0, 50.0, 120.0], 300)


def test_spend_that_never_varies_within_a_customer_has_no_fit():
    """The fit must say so on every machine, whether the search stops at its bound, where its line
    search finds no decrease (rounding, far up the ridge), or where it reports success on the ridge
    (Nelder-Mead, used before, did at p of about 1e17 with this data)."""
    fitted = clv.fit_gamma_gamma(*_three_price_points(7))
    assert fitted.p > clv.MAX_SPEND_SHAPE and not fitted.converged
    # The search stops at its bound instead of following the ridge to p of 1e300, where rounding
    # made the likelihood read as +1e291 and beat a real maximum found from another start.
    assert fitted.p <= np.exp(clv.SPEND_BOUNDS[0][1]) * (1 + 1e-9)


@pytest.mark.parametrize("fit", ["bgnbd", "gamma_gamma"])
def test_a_fit_calls_its_callers_tick_before_each_evaluation_and_ends_where_it_would_without(fit, monkeypatch):
    """How a web process lets its event loop run during a fit (core.cooperative.pause), without
    this module importing the platform (issue 21)."""
    if fit == "bgnbd":
        x, t_x, T, _future = simulate(300, 39.0, 0.0, seed=21)
        run = lambda **tick: clv.fit_bgnbd(x, t_x, T, **tick)  # noqa: E731
    else:
        rng = np.random.default_rng(21)
        x = rng.integers(1, 8, 300).astype(float)
        m_x = rng.gamma(TRUE_GG.p, 1 / rng.gamma(TRUE_GG.q, 1 / TRUE_GG.v, 300)) * rng.uniform(0.8, 1.2, 300)
        run = lambda **tick: clv.fit_gamma_gamma(x, m_x, **tick)  # noqa: E731
    plain = run()
    events = []  # "evaluation" as the optimiser asks for one, "tick" as the fit lets its caller run
    minimize = clv.minimize

    def counting(fun, *args, **kwargs):
        return minimize(lambda params: events.append("evaluation") or fun(params), *args, **kwargs)

    monkeypatch.setattr(clv, "minimize", counting)
    assert run(tick=lambda: events.append("tick")) == plain
    evaluations = [i for i, event in enumerate(events) if event == "evaluation"]
    assert evaluations and all(events[i + 1] == "tick" for i in evaluations)  # before the likelihood is computed


def test_clv_discounts_and_sums_per_brand(fitted):
    values = clv.clv(fitted, TRUE_GG, [5, 0], [38, 0], [39, 39], [40.0, 0.0], periods=12)
    assert values[0] > values[1] > 0
    undiscounted = clv.clv(fitted, TRUE_GG, [5], [38], [39], [40.0], periods=12, discount_rate=0.0)
    assert undiscounted[0] > values[0]
    equity = clv.customer_equity([10.0, 5.0, 1.5], ["brand-a", "brand-b", "brand-a"])
    assert equity == {"brand-a": 11.5, "brand-b": 5.0}


def test_summarise_purchase_times_in_weeks():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    times = [start, start + timedelta(weeks=2), start + timedelta(weeks=5)]
    assert clv.summarise(times, start + timedelta(weeks=10)) == (2, 5.0, 10.0)
    with pytest.raises(ValueError):
        clv.summarise([], start)


@pytest.mark.parametrize("x, t_x, T", [([1], [5], [3]), ([-1], [0], [3]), ([], [], []), ([0], [2], [3])])
def test_bad_inputs_are_refused(x, t_x, T):
    with pytest.raises(ValueError):
        clv.fit_bgnbd(x, t_x, T)


def test_a_spend_model_without_a_maximum_is_given_up_without_repeating_the_same_restart(monkeypatch):
    """Where the Gamma-Gamma likelihood rises along a ridge to infinity, the search stops without
    converging (its line search finds no decrease where rounding flattens the ridge) or, on some
    machines, reports success far up it, and a restart from there ends where it began: repeating
    that restart (up to three times) once cost two thirds of a profiles page. How many runs it takes
    depends on the CPU's floating point; that the fit is refused and a fruitless restart never
    repeated holds everywhere."""
    runs = []
    minimize = clv.minimize
    monkeypatch.setattr(clv, "minimize", lambda *a, **k: runs.append(1) or minimize(*a, **k))
    fitted = clv.fit_gamma_gamma(*_three_price_points(8))
    assert not fitted.converged
    # Two starts (all ones, and the moment start). From each, where the search stops unconverged, one
    # restart that gets nowhere ends it: never four runs per start. Where it reports success on the
    # ridge (it may on some machines' floating point), no restart.
    assert 2 <= len(runs) <= 4


def test_the_synthetic_brands_spend_model_is_fitted(app, monkeypatch):
    """m_x is the mean of the repeat purchases that x counts. Averaging the first purchase in
    as well made every customer's average steadier than the model allows, and on this brand
    the fit ran up the ridge (p = 2e10, v = 2e-9) instead of finding its maximum."""
    from core.extensions import utcnow
    from devtools.seed import seed_synthetic
    from purpose.people import load_people
    from purpose.profiles import _clv_model

    fits = []
    fit = clv.fit_gamma_gamma
    monkeypatch.setattr(clv, "fit_gamma_gamma", lambda x, m_x, **tick: fits.append(fit(x, m_x, **tick)) or fits[-1])
    with app.app_context():
        as_of = utcnow()
        brand = seed_synthetic(1000, seed=1, as_of=as_of).brand_id
        model = _clv_model(load_people(brand, as_of=as_of), as_of)
    assert model.status == "fitted"
    (spend,) = fits
    assert spend.converged and 0.1 < spend.p < 100 and spend.q > 1


def test_same_day_purchases_merge_into_one_transaction_worth_the_days_total():
    morning = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
    purchases = [(morning, 10.0), (morning + timedelta(hours=5), 7.5), (morning + timedelta(days=7), 4.0),
                 (morning + timedelta(days=7, hours=1), 1.0), (morning + timedelta(days=14), 3.0)]
    assert clv.prepare(purchases) == [(morning, 17.5), (morning + timedelta(days=7), 5.0), (morning + timedelta(days=14), 3.0)]
    assert clv.prepare(purchases, "raw") == purchases
    times, as_of = [t for t, _ in purchases], morning + timedelta(weeks=4)
    assert clv.summarise(times, as_of) == (2, 2.0, 4.0)  # two repeat purchase days, not four purchases
    assert clv.summarise(times, as_of, transactions="raw") == (4, 2.0, 4.0)
    # a UTC day: 23:30 and 00:30 the next day are two days, whatever the shop's time zone
    late = datetime(2026, 3, 2, 23, 30, tzinfo=timezone.utc)
    assert len(clv.prepare([(late, 1.0), (late + timedelta(hours=1), 1.0)])) == 2
    with pytest.raises(ValueError):
        clv.prepare(purchases, "weekly")


def test_a_fit_reports_its_parameters_likelihood_convergence_and_customers(cohort, fitted):
    x, t_x, T, _future = cohort
    out = clv.diagnostics(fitted, len(x))
    assert set(out) == {"r", "alpha", "a", "b", "log_likelihood", "converged", "customers"}
    assert out["customers"] == 6000 and out["converged"] is True
    assert all(type(out[k]) is float for k in ("r", "alpha", "a", "b", "log_likelihood"))
    assert out["log_likelihood"] == pytest.approx(float(clv.bgnbd_log_likelihood(
        (out["r"], out["alpha"], out["a"], out["b"]), x, t_x, T).sum()))


@pytest.mark.parametrize("model", ["bgnbd", "gamma_gamma"])
def test_the_likelihoods_gradients_are_their_derivatives(model):
    """The fits follow the analytic gradients (L-BFGS-B): a wrong term would stop them short of the
    maximum, or send them the wrong way, without an error. Checked against central differences at
    points near and far from where the fits end."""
    if model == "bgnbd":
        x, t_x, T, _future = simulate(500, 39.0, 0.0, seed=22)
        data = clv._BGNBDData(x, t_x, T)
        points = [(0.243, 4.414, 0.793, 2.426), (1.0, 1.0, 1.0, 1.0), (5.0, 0.5, 0.2, 7.0)]
    else:
        rng = np.random.default_rng(22)
        data = clv._GammaGammaData(rng.integers(1, 8, 500).astype(float), rng.gamma(3.0, 10.0, 500))
        points = [(6.25, 3.74, 15.44), (1.0, 1.0, 1.0), (0.5, 8.0, 100.0)]
    for point in points:
        params = np.array(point)
        value, gradient = data.log_likelihood_and_gradient(params)
        assert value == pytest.approx(data.log_likelihood(params).sum())
        for i in range(len(params)):
            step = np.zeros_like(params)
            step[i] = 1e-6 * params[i]
            numeric = (data.log_likelihood(params + step).sum() - data.log_likelihood(params - step).sum()) / (2 * step[i])
            assert gradient[i] == pytest.approx(numeric, rel=1e-4, abs=1e-3)


def test_customers_without_heterogeneity_get_the_limit_model_not_a_failed_fit():
    """Everyone buying at one rate, never dropping out, spend drawn independently of the customer:
    the likelihoods rise towards a limit as the mixing shapes r and q grow without end. The fits end
    at the shapes' bound, converged, and predict what the data say: the one rate, and the population
    mean spend for every customer whatever their own average (Nelder-Mead, before, walked these
    ridges for thousands of evaluations and reported them as not converged on some data)."""
    rng = np.random.default_rng(23)
    weeks, rate, mean_spend = 52.0, 0.3, 40.0
    x, t_x, T, m_x = [], [], [], []
    for count in rng.poisson(rate * weeks, 20000):
        if not count:
            continue
        times = np.sort(rng.uniform(0, weeks, count))
        x.append(count - 1), t_x.append(times[-1] - times[0]), T.append(weeks - times[0])
        m_x.append(rng.gamma(2.0, mean_spend / 2.0, count - 1).mean() if count > 1 else 0.0)
    x, t_x, T, m_x = map(np.array, (x, t_x, T, m_x))
    purchases = clv.fit_bgnbd(x, t_x, T)
    assert purchases.converged and purchases.r / purchases.alpha == pytest.approx(rate, rel=0.05)
    assert purchases.a / (purchases.a + purchases.b) < 1e-3  # nobody drops out
    spend = clv.fit_gamma_gamma(x[x > 0], m_x[x > 0])
    assert spend.converged and spend.q > 1e4
    low, high = clv.expected_spend(spend, [1, 8], [5.0, 200.0])
    assert low == pytest.approx(mean_spend, rel=0.05) and high == pytest.approx(low, rel=0.01)
    # Everyone is alive and keeps buying at the one rate, whatever their history (the closed form's
    # hypergeometric function was NaN at these parameters, and so was every customer's CLV).
    expected = clv.expected_purchases(purchases, 52.0, x, t_x, T)
    assert np.allclose(expected, rate * 52.0, rtol=0.05)
    assert np.all(np.isfinite(clv.clv(purchases, spend, x, t_x, T, m_x))) and np.all(clv.clv(purchases, spend, x, t_x, T, m_x) > 0)


def test_expected_purchases_equal_the_published_closed_form():
    """Quadrature over the dropout probability gives Fader, Hardie & Lee's (2005) eq. 10 wherever
    scipy's hypergeometric function is reliable (moderate parameters), for customers with and without
    repeat purchases, recent and lapsed, over a month to four years."""
    from scipy.special import hyp2f1

    def closed_form(r, alpha, a, b, t, x, t_x, T):
        ratio = ((alpha + T) / (alpha + T + t)) ** (r + x)
        numerator = (a + b + x - 1) / (a - 1) * (1 - ratio * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t)))
        odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x > 0 else 0.0
        return numerator / (1 + odds)

    x, t_x, T = np.array([0.0, 1, 3, 3, 12, 40]), np.array([0.0, 5, 10, 38, 30, 39]), np.full(6, 39.0)
    for r, alpha, a, b in [(0.243, 4.414, 0.793, 2.426), (2.0, 1.0, 3.0, 0.5), (0.5, 10.0, 1.5, 20.0), (5.0, 60.0, 0.2, 8.0)]:
        params = clv.BGNBDParams(r, alpha, a, b, 0.0, True)
        for t in (4.3, 39.0, 208.0):
            expected = [closed_form(r, alpha, a, b, t, *customer) for customer in zip(x, t_x, T)]
            assert clv.expected_purchases(params, t, x, t_x, T) == pytest.approx(expected, rel=1e-6)


def test_expected_purchases_at_the_limit_model_are_the_one_rate_not_nan():
    """Where the bench brand's fit ended (r at its bound, dropout next to none): everyone buys at
    r / alpha a week, so t weeks hold that many purchases. scipy's hypergeometric function gave NaN here."""
    limit = clv.BGNBDParams(r=float(np.exp(clv.MAX_LOG_MIXING_SHAPE)), alpha=3.7e7, a=4.2e-4, b=5816.0,
                            log_likelihood=0.0, converged=True)
    rate = limit.r / limit.alpha
    expected = clv.expected_purchases(limit, 52.0, [0, 1, 3, 10], [0, 5, 20, 38], [52, 52, 52, 52])
    assert np.allclose(expected, rate * 52.0, rtol=1e-3)
