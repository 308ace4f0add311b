"""Covariates of the statistical baselines: ARIMA and AutoARIMA regress on future-known
columns (statsmodels ``exog``), SklearnForecaster takes every kind as features, and the other
baselines refuse covariates unless told to ignore them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

import tsattn
from tsattn.models.baselines import ARIMA, ETS, AutoARIMA, SklearnForecaster

H = 6
N = 120  # training steps per series


def driver_frame(n: int = N + H, n_series: int = 1, seed: int = 0) -> pd.DataFrame:
    """``y = 10 + 5 x + small noise`` with ``x`` random and future-known, a past-only
    column ``p`` (unrelated noise) and a past-only column ``lead`` whose value at step t
    is y at step t + 1 (a leak, were it ever read after the cutoff)."""
    rng = np.random.default_rng(seed)
    parts = []
    for s in range(n_series):
        x = rng.normal(size=n + 1)
        y = 10.0 + 3 * s + 5.0 * x + 0.1 * rng.normal(size=n + 1)
        ds = pd.date_range("2024-01-01", periods=n, freq="D")
        p = rng.normal(size=n)
        parts.append(pd.DataFrame({"unique_id": f"s{s}", "ds": ds, "y": y[:n], "x": x[:n], "p": p}))
    return pd.concat(parts, ignore_index=True)


def split(full: pd.DataFrame, h: int = H) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training rows, the last ``h`` rows of each series: the forecast dates)."""
    tail = full.groupby("unique_id").tail(h)
    return full.drop(tail.index), tail.reset_index(drop=True)


MODELS = {
    "arima": lambda **kw: ARIMA(order=(1, 0, 0), h=H, progress=False, **kw),
    "auto_arima": lambda **kw: AutoARIMA(season_length=1, h=H, progress=False, **kw),
    "auto_arima_css": lambda **kw: AutoARIMA(
        season_length=1, approximation=True, h=H, progress=False, **kw
    ),
    "sklearn": lambda **kw: SklearnForecaster(Ridge(alpha=0.1), lags=7, h=H, **kw),
}


def mae(model, forecast: pd.DataFrame, actual: pd.DataFrame) -> float:
    return float(np.abs(forecast[model.name].to_numpy() - actual["y"].to_numpy()).mean())


@pytest.mark.parametrize("name", list(MODELS))
def test_known_driver_halves_the_error(name):
    train, future = split(driver_frame(n_series=2))
    plain = MODELS[name]().fit(train[["unique_id", "ds", "y"]])
    with_x = MODELS[name](futr_exog_list=["x"]).fit(train)
    without = mae(plain, plain.predict(), future)
    using = mae(with_x, with_x.predict(futr_df=future[["unique_id", "ds", "x"]]), future)
    print(f"{name}: MAE {using:.4f} with x, {without:.4f} without, ratio {using / without:.4f}")
    assert using <= 0.5 * without


@pytest.mark.parametrize("name", ["arima", "sklearn"])
def test_only_the_forecast_dates_of_futr_df_matter(name):
    train, future = split(driver_frame())
    model = MODELS[name](futr_exog_list=["x"]).fit(train)
    exact = model.predict(futr_df=future[["unique_id", "ds", "x"]])[model.name].to_numpy()
    later = pd.DataFrame(
        {
            "unique_id": "s0",
            "ds": pd.date_range(future["ds"].iloc[-1], periods=6, freq="D")[1:],
            "x": [50.0, -50.0, 9.0, 9.0, 9.0],
            "p": 100.0,  # a past-only column in futr_df: never read
        }
    )
    longer = pd.concat([future.assign(p=-100.0), later], ignore_index=True)
    shuffled = longer.sample(frac=1.0, random_state=0)
    assert np.array_equal(model.predict(futr_df=shuffled)[model.name].to_numpy(), exact)
    moved = future.copy()
    moved.loc[H - 1, "x"] += 1.0  # the last forecast date's value: that step moves by ~5
    changed = model.predict(futr_df=moved)[model.name].to_numpy()
    assert np.allclose(changed[:-1], exact[:-1], atol=1e-6)
    assert abs(changed[-1] - exact[-1]) > 2.0


def test_sklearn_past_only_values_after_each_origin_never_reach_a_forecast():
    full = driver_frame()
    full["lead"] = np.r_[full["y"].to_numpy()[1:], 0.0]  # lead_t = y_{t+1}: a perfect leak
    train, future = split(full)
    model = SklearnForecaster(Ridge(), lags=5, h=H, hist_exog_list=["p", "lead"])
    fitted = model.fit(train)
    # the training windows: changing past-only values after the last window's origin (the
    # last h training rows) changes nothing the regressors learn
    altered = train.copy()
    altered.loc[altered.index[-H:], ["p", "lead"]] = 1e3
    refitted = SklearnForecaster(Ridge(), lags=5, h=H, hist_exog_list=["p", "lead"]).fit(altered)
    history = train.iloc[:-H]
    futr_dates = train.iloc[-H:][["unique_id", "ds"]]
    a = fitted.predict(df=history, futr_df=futr_dates)[model.name].to_numpy()
    b = refitted.predict(df=history, futr_df=futr_dates)[model.name].to_numpy()
    assert np.array_equal(a, b)
    # at predict: values after the cutoff (futr_df's extra columns) are ignored ...
    base = fitted.predict()[model.name].to_numpy()
    leaked = future.assign(p=1e3, lead=1e3)
    assert np.array_equal(fitted.predict(futr_df=leaked)[model.name].to_numpy(), base)
    # ... while the last value before it is read
    moved = train.copy()
    moved.loc[moved.index[-1], "lead"] += 10.0
    assert not np.allclose(fitted.predict(df=moved)[model.name].to_numpy(), base)


@pytest.mark.parametrize("name", ["arima", "sklearn"])
def test_a_missing_futr_df_names_it(name):
    train, _ = split(driver_frame())
    model = MODELS[name](futr_exog_list=["x"]).fit(train)
    with pytest.raises(ValueError, match="futr_df"):
        model.predict()


def test_arima_refuses_past_only_and_static_covariates():
    for kind in ("hist_exog_list", "stat_exog_list"):
        with pytest.raises(ValueError, match="cannot use"):
            ARIMA(**{kind: ["p"]})
        with pytest.raises(ValueError, match="cannot use"):
            AutoARIMA(**{kind: ["p"]})


def test_ets_refuses_covariates_unless_told_to_ignore_them():
    train, future = split(driver_frame())
    with pytest.raises(ValueError, match="ETS cannot use future-known covariates"):
        ETS(futr_exog_list=["x"])
    model = ETS(trend="add", h=H, futr_exog_list=["x"], ignore_covariates=True)  # no warning yet
    plain = ETS(trend="add", h=H).fit(train[["unique_id", "ds", "y"]])
    with pytest.warns(UserWarning, match="ignores its future-known"):
        model.fit(train)
    assert np.allclose(model.predict()["ETS"], plain.predict()["ETS"])


def test_arima_intervals_follow_the_covariate():
    train, future = split(driver_frame())
    model = MODELS["arima"](futr_exog_list=["x"]).fit(train)
    out = model.predict(futr_df=future, level=[80])
    point, lo, hi = (out[c].to_numpy() for c in ("ARIMA", "ARIMA-lo-80", "ARIMA-hi-80"))
    assert np.all(lo < point) and np.all(point < hi)
    assert np.allclose((lo + hi) / 2, point)
    assert np.all(hi - lo < 1.0)  # noise sd 0.1: the covariate explains the rest
    assert np.all((lo <= future["y"].to_numpy() + 0.5) & (future["y"].to_numpy() - 0.5 <= hi))


def test_arima_exog_in_worker_processes_equals_one_process():
    train, future = split(driver_frame(n_series=3))
    one = MODELS["arima"](futr_exog_list=["x"]).fit(train).predict(futr_df=future)
    two = MODELS["arima"](futr_exog_list=["x"], n_jobs=2).fit(train).predict(futr_df=future)
    assert np.array_equal(one["ARIMA"].to_numpy(), two["ARIMA"].to_numpy())


@pytest.mark.parametrize("name", ["arima", "auto_arima"])
def test_arima_save_load_with_covariates(name, tmp_path):
    train, future = split(driver_frame(n_series=2))
    model = MODELS[name](futr_exog_list=["x"], calendar=["dayofweek"]).fit(train)
    before = model.predict(futr_df=future, level=[80])
    history = train.groupby("unique_id").head(N - 3)
    dates = train.groupby("unique_id").tail(3).reset_index(drop=True)
    before_df = model.predict(df=history, h=3, futr_df=dates)
    loaded = tsattn.load(model.save(tmp_path / "m.tsattn"))
    pd.testing.assert_frame_equal(loaded.predict(futr_df=future, level=[80]), before)
    pd.testing.assert_frame_equal(loaded.predict(df=history, h=3, futr_df=dates), before_df)
    assert len(next(iter(loaded._states.values()))[1]) == len(next(iter(model._states.values()))[1])


def sklearn_all_kinds() -> tuple[SklearnForecaster, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    train, future = split(driver_frame(n_series=2))
    static = pd.DataFrame({"unique_id": ["s0", "s1"], "size": [1.0, 4.0]})
    model = SklearnForecaster(
        Ridge(),
        lags=6,
        h=H,
        futr_exog_list=["x"],
        hist_exog_list=["p"],
        stat_exog_list=["size"],
        calendar=["dayofweek"],
    )
    return model.fit(train, static_df=static), train, future, static


def test_sklearn_save_load_with_every_kind(tmp_path):
    model, train, future, static = sklearn_all_kinds()
    n_futr = model._history.futr[0].shape[1]  # x, then the day of week's columns
    assert n_futr > 1
    assert model.n_features() == 6 + 7 * n_futr + 6 * 1 + 1
    before = model.predict(futr_df=future)
    history = train.groupby("unique_id").head(N - 2)
    dates = train.groupby("unique_id").tail(2).reset_index(drop=True)
    before_df = model.predict(df=history, h=2, futr_df=dates, static_df=static)
    loaded = tsattn.load(model.save(tmp_path / "m.tsattn"))
    pd.testing.assert_frame_equal(loaded.predict(futr_df=future), before)
    pd.testing.assert_frame_equal(
        loaded.predict(df=history, h=2, futr_df=dates, static_df=static), before_df
    )


def test_sklearn_checks_the_saved_feature_layout():
    model, *_ = sklearn_all_kinds()
    meta, tensors = model._get_state()
    n_futr = model._history.futr[0].shape[1]
    assert meta["covariates"] == {"futr": n_futr, "hist": 1, "stat": 1}
    forged = {**meta, "covariates": {"futr": n_futr, "hist": 0, "stat": 1}}
    with pytest.raises(ValueError, match="covariates"):
        model._set_state(forged, tensors)
    lacking = {k: v for k, v in tensors.items() if k != "covariates.hist.std"}
    with pytest.raises(ValueError, match="covariates.hist.std"):
        model._set_state(meta, lacking)


def test_auto_arima_searches_the_regression_errors():
    """y = 5 x + white noise with x a random walk: y itself needs a difference, the errors
    of its regression on x none (R's auto.arima(xreg=) tests the residuals)."""
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(size=100))
    frame = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2024-01-01", periods=100, freq="D"),
            "y": 5 * x + rng.normal(size=100),
            "x": x,
        }
    )
    plain = AutoARIMA(season_length=1, progress=False).fit(frame[["unique_id", "ds", "y"]])
    regression = AutoARIMA(season_length=1, futr_exog_list=["x"], progress=False).fit(frame)
    assert plain.orders()["a"][1] == 1
    assert regression.orders()["a"] == (0, 0, 0)
    meta, params = regression._states["a"]
    names = AutoARIMA._model(frame["y"].to_numpy(), meta, x[:, None]).param_names
    assert abs(dict(zip(names, params))["x1"] - 5.0) < 0.2
