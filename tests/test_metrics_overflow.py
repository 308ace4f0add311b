"""Metrics of finite values near the float64 limit: no intermediate overflows to ``inf``.

Each metric is compared with its exact value (Python fractions); a metric whose own value lies
beyond float64 (the MSE of errors near 1e300) is a ``ValueError``, never ``inf``. On ordinary
values the metrics are bit for bit the plain numpy formulas.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from tsattn.evaluation import evaluate
from tsattn.evaluation.metrics import mae, mape, mase, mase_scale, mse, rmse, smape
from tsattn.evaluation.quantile_metrics import (
    crps,
    interval_width,
    mean_weighted_quantile_loss,
    msis,
    pinball_loss,
    scaled_quantile_loss,
)

BIG = 1e300
RNG = np.random.default_rng(0)
Y = RNG.normal(size=40) * BIG
YHAT = -Y + RNG.normal(size=40) * BIG  # errors near 2e300: their squares overflow
SCALE = np.abs(RNG.normal(size=40)) * BIG + BIG
QS = np.array([0.1, 0.5, 0.9])
YQ = Y[:, None] + RNG.normal(size=(40, 3)) * BIG
LO, HI = YQ.min(axis=1) - BIG, YQ.max(axis=1) + BIG


def exact_mean(terms) -> float:
    terms = list(terms)
    return float(sum(terms, Fraction(0)) / len(terms))


def f(x: float) -> Fraction:
    return Fraction(float(x))


def rho(y: float, yq: float, q: float) -> Fraction:
    return abs((f(yq) - f(y)) * ((1 if y <= yq else 0) - f(q)))


EXACT = {
    "mae": (mae(Y, YHAT), exact_mean(abs(f(a) - f(b)) for a, b in zip(Y, YHAT))),
    "mape": (
        mape(Y, YHAT),
        100 * exact_mean(abs(f(a) - f(b)) / abs(f(a)) for a, b in zip(Y, YHAT)),
    ),
    "smape": (
        smape(Y, YHAT),
        200 * exact_mean(abs(f(a) - f(b)) / (abs(f(a)) + abs(f(b))) for a, b in zip(Y, YHAT)),
    ),
    "mase": (
        mase(Y, YHAT, scale=SCALE / 1e10),  # terms near 1e10: the quotients overflow unscaled
        exact_mean(abs(f(a) - f(b)) / (f(s) / Fraction(10**10)) for a, b, s in zip(Y, YHAT, SCALE)),
    ),
    "mase_scale": (mase_scale(YHAT), exact_mean(abs(f(a) - f(b)) for a, b in zip(YHAT[1:], YHAT))),
    "pinball": (
        pinball_loss(Y, YQ[:, 0], 0.1),
        exact_mean(rho(a, b, 0.1) for a, b in zip(Y, YQ[:, 0])),
    ),
    "crps": (
        crps(Y, YQ, QS),
        exact_mean(
            2 * exact_mean(rho(a, b, q) for a, b in zip(Y, YQ[:, j])) for j, q in enumerate(QS)
        ),
    ),
    "sql": (
        scaled_quantile_loss(Y, YQ, QS, scale=SCALE),
        exact_mean(
            2 * exact_mean(rho(a, b, q) / f(s) for a, b, s in zip(Y, YQ[:, j], SCALE))
            for j, q in enumerate(QS)
        ),
    ),
    "mean_wql": (
        mean_weighted_quantile_loss(Y, YQ, QS),
        exact_mean(
            2 * sum(rho(a, b, q) for a, b in zip(Y, YQ[:, j])) / sum(abs(f(a)) for a in Y)
            for j, q in enumerate(QS)
        ),
    ),
    "width": (interval_width(Y, LO, HI), exact_mean(f(h) - f(lo) for lo, h in zip(LO, HI))),
    "msis": (
        msis(Y, LO - 3 * BIG, HI - 3 * BIG, level=95, scale=SCALE),
        exact_mean(
            (f(h) - f(lo) + 40 * (f(lo) - f(y)) * (y < lo) + 40 * (f(y) - f(h)) * (y > h)) / f(s)
            for y, lo, h, s in zip(Y, LO - 3 * BIG, HI - 3 * BIG, SCALE)
        ),
    ),
}


@pytest.mark.parametrize("name", list(EXACT))
def test_metrics_of_values_near_the_float64_limit_are_exact(name):
    got, exact = EXACT[name]
    assert math.isfinite(got)
    assert got == pytest.approx(exact, rel=1e-12)


def test_rmse_near_1e300_is_finite_and_exact():
    exact = math.sqrt(exact_mean((f(a) - f(b)) ** 2 / f(BIG) ** 2 for a, b in zip(Y, YHAT)))
    assert rmse(Y, YHAT) == pytest.approx(exact * BIG, rel=1e-12)
    assert rmse([BIG, -BIG], [-BIG, BIG]) == 2 * BIG


def test_a_metric_beyond_the_float64_range_is_an_error_not_inf():
    with pytest.raises(ValueError, match=r"mse is about 4e\+600, beyond the float64 range.*rmse"):
        mse([BIG, -BIG], [-BIG, BIG])
    with pytest.raises(ValueError, match="mae is about 3e\\+308"):
        mae([1.7e308], [-1.7e308])  # the error itself is beyond float64


def test_differences_and_sums_near_the_limit_do_not_overflow():
    assert mae([1e308, 0.0], [-1e308, 0.0]) == 1e308  # the error 2e308 overflows plainly
    assert interval_width([0.0, 0.0], [-1e308, 0.0], [1e308, 0.0]) == 1e308
    assert mae(np.full(1000, 1.7e307), np.zeros(1000)) == 1.7e307  # the sum overflows plainly
    assert smape([1.7e308, 0.0], [-1.7e308, 0.0]) == 100.0  # |y| + |yhat| overflows plainly


def test_evaluate_scores_values_near_1e300():
    frame = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2024", periods=len(Y), freq="D"),
            "y": Y,
            "M": YHAT,
        }
    )
    scores = evaluate(frame, metrics=["mae", "rmse"]).set_index("metric")["M"]
    assert scores["rmse"] == rmse(Y, YHAT) and math.isfinite(scores["rmse"])
    assert scores["mae"] == mae(Y, YHAT)
    with pytest.raises(ValueError, match="mse is about"):
        evaluate(frame, metrics=["mse"])


@pytest.mark.parametrize("seed", range(20))
def test_ordinary_values_give_the_plain_formulas_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    n, s = int(rng.integers(1, 200)), 10.0 ** rng.uniform(-20, 20)
    y = rng.normal(size=n) * s
    yhat = y + rng.normal(size=n) * s
    scale = np.abs(rng.normal(size=n)) * s + 1e-3 * s
    e = y - yhat
    assert mae(y, yhat) == np.mean(np.abs(e))
    assert mse(y, yhat) == np.mean(e**2)
    assert rmse(y, yhat) == np.sqrt(np.mean(e**2))
    assert mape(y, yhat) == 100 * np.mean(np.abs(e) / np.abs(y))
    assert smape(y, yhat) == 200 * np.mean(np.abs(e) / (np.abs(y) + np.abs(yhat)))
    assert mase(y, yhat, scale=scale) == np.mean(np.abs(e) / scale)
    yq = y[:, None] + rng.normal(size=(n, 3)) * s
    terms = np.abs((yq - y[:, None]) * ((y[:, None] <= yq) - QS))
    assert crps(y, yq, QS) == np.mean(2.0 * np.mean(terms, axis=0))
    lo, hi = yq.min(axis=1), yq.max(axis=1)
    plain = hi - lo + 2.0 / 0.2 * (lo - y) * (y < lo) + 2.0 / 0.2 * (y - hi) * (y > hi)
    assert msis(y, lo, hi, level=80, scale=scale) == np.mean(plain / scale)
