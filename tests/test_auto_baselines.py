"""Statistical baselines that choose their own form (issue 13): the season from the frequency,
ETS's form by AICc, AutoARIMA's seasonal stepwise search, Theta's season; on generated series
of a known form, and the new defaults against the old ones (MASE on the last ``h`` steps)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsattn.datasets.frequency import season_length
from tsattn.evaluation.metrics import mase
from tsattn.models.baselines import ETS, AutoARIMA, SeasonalNaive, Theta, arima_search
from tsattn.models.persistence import load


def frame(y: np.ndarray, freq: str = "MS", uid: str = "a") -> pd.DataFrame:
    ds = pd.date_range("2000-01-01", periods=len(y), freq=freq)
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.asarray(y, dtype=float)})


def additive_seasonal(n: int = 120, seed: int = 0) -> np.ndarray:
    rng, t = np.random.default_rng(seed), np.arange(n)
    return 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, n)


def multiplicative_seasonal(n: int = 120, seed: int = 1) -> np.ndarray:
    rng, t = np.random.default_rng(seed), np.arange(n)
    return (50 + 0.3 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) * np.exp(rng.normal(0, 0.03, n))


def random_walk(n: int = 200, seed: int = 2) -> np.ndarray:
    return 50 + np.cumsum(np.random.default_rng(seed).normal(0, 1, n))


def seasonal_random_walk(n: int = 144, m: int = 12, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = list(10 * np.sin(2 * np.pi * np.arange(m) / m) + 100)
    for t in range(m, n):
        y.append(y[t - m] + rng.normal(0, 1))
    return np.array(y)


def holdout_mase(model, y: np.ndarray, h: int = 12, freq: str = "MS") -> float:
    train, test = y[:-h], y[-h:]
    forecast = model.fit(frame(train, freq)).predict(h=h)[model.name].to_numpy()
    return float(mase(test, forecast, y_train=train, season_length=season_length(freq)))


@pytest.mark.parametrize(
    "freq, expected",
    [("h", 24), ("D", 7), ("B", 5), ("W-SUN", 52), ("MS", 12), ("ME", 12), ("QS-OCT", 4),
     ("YE", 1), ("15min", 96), ("10min", 144), ("min", 1440), ("s", 60), ("2h", 12),
     ("5h", 1), ("2W", 26)],
)  # fmt: skip
def test_season_length_rule(freq, expected):
    assert season_length(freq) == expected


def test_seasonal_naive_takes_its_season_from_the_frequency(tmp_path):
    y = additive_seasonal(48)
    model = SeasonalNaive(h=12).fit(frame(y))
    np.testing.assert_allclose(model.predict()["SeasonalNaive"], y[-12:])
    assert SeasonalNaive(season_length=1).fit(frame(y)).predict(h=2)["SeasonalNaive"].tolist() == [
        y[-1],
        y[-1],
    ]
    loaded = load(model.save(tmp_path / "snaive"))
    np.testing.assert_allclose(loaded.predict()["SeasonalNaive"], y[-12:])
    with pytest.raises(ValueError, match="season_length"):
        SeasonalNaive(h=2).predict_windows(np.zeros((1, 30, 1)))


def test_ets_picks_an_additive_seasonal_form():
    model = ETS(h=12).fit(frame(additive_seasonal()))
    form = model.forms()["a"]
    assert form[-1] in "AM" and form[1] == "A", form  # a trend and a season


def test_ets_picks_a_multiplicative_season_for_positive_multiplicative_data():
    model = ETS(h=12).fit(frame(multiplicative_seasonal()))
    assert model.forms()["a"].endswith("M")


def test_ets_without_positive_data_or_two_seasons_stays_additive_and_non_seasonal():
    y = additive_seasonal(120) - 150  # crosses zero
    assert ETS().fit(frame(y)).forms()["a"][0] == "A"
    assert ETS().fit(frame(additive_seasonal(20))).forms()["a"].endswith("N")  # < 2 seasons


def test_ets_explicit_components_are_kept():
    model = ETS(error="add", trend=None, damped_trend=False, seasonal=None).fit(
        frame(additive_seasonal())
    )
    assert model.forms()["a"] == "ANN"


def test_auto_arima_differences_a_random_walk():
    model = AutoARIMA(h=6).fit(frame(random_walk(), freq="D"))
    assert model.orders()["a"][1] == 1


def test_auto_arima_seasonally_differences_a_seasonal_random_walk():
    model = AutoARIMA(h=12).fit(frame(seasonal_random_walk()))
    assert model.seasonal_orders()["a"][1] == 1
    assert model.seasonal_orders()["a"][3] == 12


def test_auto_arima_skips_a_candidate_that_fails(monkeypatch):
    """The issue's crash: one candidate raised a bare LinAlgError and ended the backtest."""
    real = arima_search.arima_model
    failed = []

    def flaky(y, order, seasonal_order, trend, exog=None):
        if tuple(order)[0] == 1 or tuple(order) == (2, 1, 2):
            failed.append(tuple(order))
            raise np.linalg.LinAlgError("Schur decomposition solver error.")
        return real(y, order, seasonal_order, trend)

    monkeypatch.setattr(arima_search, "arima_model", flaky)
    model = AutoARIMA(h=3).fit(frame(random_walk(), freq="D"))
    assert failed and model.orders()["a"][0] != 1
    assert np.isfinite(model.predict()["AutoARIMA"]).all()


def test_auto_arima_survives_when_every_candidate_fails_but_the_plainest(monkeypatch):
    real = arima_search.arima_model

    def broken(y, order, seasonal_order, trend, exog=None):
        if order[0] or order[2] or seasonal_order[0] or seasonal_order[2]:
            raise ValueError("numerical trouble")
        return real(y, order, seasonal_order, trend, exog)

    monkeypatch.setattr(arima_search, "arima_model", broken)
    model = AutoARIMA(h=3).fit(frame(seasonal_random_walk()))
    p, _, q = model.orders()["a"]
    assert (p, q) == (0, 0)


def seasonal_ar(n: int = 240, m: int = 4, seed: int = 4) -> np.ndarray:
    """y_t = 0.6 y_{t-1} + 0.5 y_{t-m} - 0.3 y_{t-1-m} + noise: a (1,0,0)(1,0,0)_m process."""
    rng, y = np.random.default_rng(seed), np.zeros(n + 50)
    for t in range(m + 1, len(y)):
        y[t] = 0.6 * y[t - 1] + 0.5 * y[t - m] - 0.3 * y[t - 1 - m] + rng.normal()
    return 20 + y[50:]


def test_css_aicc_prefers_the_true_order_to_white_noise():
    z = seasonal_ar() - 20
    true, white = (
        arima_search.css_aicc(z, (1, 0, 1, 0, False), 4),
        arima_search.css_aicc(z, (0, 0, 0, 0, False), 4),
    )
    assert true is not None and white is not None and true[0] < white[0] - 50


def test_auto_arima_approximate_search_finds_the_seasonal_ar_and_forecasts_as_well():
    """The approximate search (R's ``approximation``) chooses the seasonal AR, and its exactly
    refitted winner forecasts the held-out season about as well as the exact search's."""
    y, bounds = seasonal_ar(), dict(max_p=2, max_q=2, max_P=1, max_Q=1)
    errors = {}
    for approximation in (True, False):
        model = AutoARIMA(h=8, approximation=approximation, **bounds).fit(frame(y[:-8], "QS"))
        if approximation:
            assert model.orders()["a"][0] >= 1 and model.seasonal_orders()["a"][0] == 1
        errors[approximation] = np.abs(model.predict()["AutoARIMA"].to_numpy() - y[-8:]).mean()
    assert errors[True] <= 1.2 * errors[False]


def test_kpss_uses_r_lag_truncation(monkeypatch):
    """R's ndiffs (and statsforecast's): trunc(3 sqrt(n) / 13) lags, not statsmodels' data-driven
    choice, which kept a 34-point growing yearly series (M1) undifferenced."""
    import statsmodels.tsa.stattools as stattools

    seen = []
    real = stattools.kpss

    def spy(y, regression="c", nlags="auto", **kwargs):
        seen.append((len(y), nlags))
        return real(y, regression=regression, nlags=nlags, **kwargs)

    monkeypatch.setattr(stattools, "kpss", spy)
    y = np.cumsum(np.cumsum(np.random.default_rng(0).normal(10, 20, 100)))
    assert arima_search.n_diffs(y, max_d=2) == 2
    assert seen == [(100, 2), (99, 2)]  # int(3 * 10 / 13) = 2, int(3 * 9.95 / 13) = 2


def test_the_approximate_search_keeps_p_q_P_Q_within_max_order():
    """R's ``max.order``: the conditional AICc favours large models on long series, whose exact
    refits are slow and fail; the approximate search never proposes more than 5 coefficients."""
    bounds = dict(max_p=5, max_q=5, max_P=2, max_Q=2)
    approximate = arima_search.StepwiseSearch(seasonal_ar(), bounds, 0, 0, 4, approximate=True)
    exact = arima_search.StepwiseSearch(seasonal_ar(), bounds, 0, 0, 4, approximate=False)
    assert approximate.candidate_ok((2, 1, 1, 1, False))
    assert not approximate.candidate_ok((3, 1, 1, 1, False))
    assert exact.candidate_ok((5, 5, 2, 2, False))
    approximate.run()
    assert all(sum(key[:4]) <= 5 for key in approximate.fitted)


def test_auto_arima_approximation_is_on_for_long_seasons_only(monkeypatch):
    seen = []
    real = arima_search.search_order

    def spy(y, bounds, m, alpha, approximate=False, exog=None):
        seen.append((m, approximate))
        return real(y, bounds, m, alpha, approximate, exog)

    monkeypatch.setattr("tsattn.models.baselines.statsmodels_models.search_order", spy)
    AutoARIMA(h=4, max_p=1, max_q=1, max_P=1, max_Q=1).fit(frame(seasonal_ar(), freq="QS"))
    AutoARIMA(h=4, approximation=True).fit(frame(seasonal_ar(), freq="QS"))
    assert seen == [(4, False), (4, True)]
    with pytest.raises(ValueError, match="approximation"):
        AutoARIMA(approximation="yes")


def test_theta_deseasonalizes_from_the_frequency():
    y = multiplicative_seasonal()
    assert holdout_mase(Theta(), y) < 0.5 * holdout_mase(Theta(season_length=1), y)


@pytest.mark.parametrize(
    "name, y, freq, new, old",
    [
        ("additive", additive_seasonal(), "MS", ETS(), ETS(error="add", trend=None,
                                                           damped_trend=False, seasonal=None)),
        ("multiplicative", multiplicative_seasonal(), "MS", ETS(),
         ETS(error="add", trend=None, damped_trend=False, seasonal=None)),
        ("seasonal walk", seasonal_random_walk(), "MS", AutoARIMA(),
         AutoARIMA(max_p=2, max_q=2, season_length=1)),
        ("seasonal naive", additive_seasonal(), "MS", SeasonalNaive(), SeasonalNaive(1)),
    ],
)  # fmt: skip
def test_new_defaults_beat_the_old_ones(name, y, freq, new, old):
    new_mase, old_mase = holdout_mase(new, y, freq=freq), holdout_mase(old, y, freq=freq)
    print(f"{name}: MASE old {old_mase:.3f} new {new_mase:.3f}")
    assert new_mase < old_mase


@pytest.mark.parametrize("model", [ETS(), AutoARIMA(), Theta()], ids=lambda m: m.name)
def test_intervals_and_save_load_for_chosen_forms(model, tmp_path):
    df = frame(multiplicative_seasonal(72))
    out = model.fit(df).predict(h=6, level=[80])
    assert (out[f"{model.name}-lo-80"] <= out[model.name]).all()
    assert (out[model.name] <= out[f"{model.name}-hi-80"]).all()
    loaded = load(model.save(tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict(h=6)[model.name], out[model.name])
