"""Native intervals of the baselines (issue 14): statsmodels' forecast distributions (ETS,
ARIMA, AutoARIMA, Theta), the closed forms of naive and seasonal naive, gluonts' quantiles.

Coverage is measured on generated series whose noise law is known and matches the model: many
series, the truth of the next ``h`` steps against the 80% and 95% intervals of
``predict(level=[80, 95])``. Every case is seeded, so the measured figures below are exact
for this code; the assertions allow COVERAGE_TOL around the nominal level.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

import tsattn
from tests.conftest import HAS_LIGHTNING, NO_LIGHTNING
from tsattn.models.baselines import ARIMA, ETS, AutoARIMA, GluonTSForecaster, Naive, SeasonalNaive
from tsattn.models.baselines.naive import residual_sigma
from tsattn.models.baselines.statsmodels_models import Theta

#: allowed distance (in coverage fraction) between measured and nominal coverage
COVERAGE_TOL = 0.05
LEVELS = (80, 95)
PROBS = [0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975]


def long_frame(series: np.ndarray, freq: str = "D") -> pd.DataFrame:
    """(S, T) values as a long frame with ids s0, s1, ..."""
    n_series, length = series.shape
    ds = pd.date_range("2024-01-01", periods=length, freq=freq)
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(n_series)], length),
            "ds": np.tile(ds, n_series),
            "y": series.reshape(-1),
        }
    )


def random_walks(n_series: int, length: int, seed: int, steps=None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    draws = rng.normal(0.0, 1.0, (n_series, length)) if steps is None else steps(rng)
    scale = rng.uniform(0.5, 2.0, (n_series, 1))  # every series its own noise scale
    return 100.0 + np.cumsum(draws * scale, axis=1)


def seasonal_noise(n_series: int, length: int, m: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    phase = rng.uniform(0, 2 * np.pi, (n_series, 1))
    pattern = 10.0 + 3.0 * np.sin(2 * np.pi * t / m + phase)
    return pattern + rng.normal(0.0, 1.0, (n_series, length))


def ar1(n_series: int, length: int, phi: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.normal(0.0, 1.0, (n_series, length + 100))
    y = np.zeros_like(e)
    for t in range(1, e.shape[1]):
        y[:, t] = phi * y[:, t - 1] + e[:, t]
    return 5.0 + y[:, 100:]  # burn-in dropped


def local_level(n_series: int, length: int, seed: int) -> np.ndarray:
    """A random walk seen through Gaussian noise: simple exponential smoothing's model."""
    rng = np.random.default_rng(seed)
    level = 50.0 + np.cumsum(rng.normal(0.0, 0.5, (n_series, length)), axis=1)
    return level + rng.normal(0.0, 1.0, (n_series, length))


def coverage(model, series: np.ndarray, h: int) -> dict[int, float]:
    """Fit on all but the last ``h`` steps; fraction of those steps inside each interval."""
    train, truth = series[:, :-h], series[:, -h:]
    out = model.fit(long_frame(train)).predict(h=h, level=list(LEVELS))
    result = {}
    for level in LEVELS:
        lo = out[f"{model.name}-lo-{level}"].to_numpy().reshape(truth.shape)
        hi = out[f"{model.name}-hi-{level}"].to_numpy().reshape(truth.shape)
        result[level] = float(np.mean((truth >= lo) & (truth <= hi)))
    return result


def assert_nominal(measured: dict[int, float]) -> None:
    for level, value in measured.items():
        assert abs(value - level / 100) <= COVERAGE_TOL, measured


# ---------------------------------------------------------------------- coverage, Gaussian
def test_naive_covers_a_gaussian_random_walk():
    # measured: 80% -> 0.801, 95% -> 0.946 (200 series x 6 steps)
    measured = coverage(Naive(), random_walks(200, 80, seed=1), h=6)
    assert_nominal(measured)


def test_seasonal_naive_covers_a_seasonal_pattern_with_gaussian_noise():
    # h = m: within the first season the closed form is exact for this law (the residual and
    # the forecast error are both a difference of two noise terms). 150 series x 12 steps:
    # measured 80% -> 0.800, 95% -> 0.950
    measured = coverage(SeasonalNaive(season_length=12), seasonal_noise(150, 96, 12, 2), h=12)
    assert_nominal(measured)


def test_ets_covers_a_seasonal_pattern_with_gaussian_noise():
    # additive ETS (ANA: exact Normal variance; 40 series x 12 steps). On 84-step series the
    # plug-in variance (no parameter uncertainty) under-covers (74%, 91%); at 288 steps:
    # measured 80% -> 0.792, 95% -> 0.946
    model = ETS(seasonal="add", season_length=12)
    measured = coverage(model, seasonal_noise(40, 300, 12, 3), h=12)
    assert_nominal(measured)


def test_ets_with_multiplicative_error_simulates_its_intervals():
    # MNN has no exact variance in statsmodels: 1000 seeded simulated paths (200 series x 6
    # steps). measured: 80% -> 0.776, 95% -> 0.943
    model = ETS(error="mul")
    measured = coverage(model, local_level(200, 150, seed=4), h=6)
    assert_nominal(measured)


def test_arima_covers_an_ar1():
    # 150 series x 6 steps. measured: 80% -> 0.789, 95% -> 0.929
    measured = coverage(ARIMA(order=(1, 0, 0)), ar1(150, 120, 0.7, seed=5), h=6)
    assert_nominal(measured)


def test_auto_arima_covers_an_ar1():
    # 80 series x 6 steps. measured: 80% -> 0.765, 95% -> 0.915 (the order search misses now
    # and then: KPSS keeps d = 0 for some random walks, which is why an AR(1) is used here)
    model = AutoARIMA(max_p=1, max_q=0, max_d=1, season_length=1)  # non-seasonal data
    measured = coverage(model, ar1(80, 200, 0.7, seed=6), h=6)
    assert_nominal(measured)


def test_theta_covers_a_local_level():
    # 150 series x 6 steps. measured: 80% -> 0.762, 95% -> 0.921 (plug-in variance, short
    # series: under-covers a little; statsmodels' own prediction_intervals formula gave
    # 0.929 / 0.984 on the same series: see Theta._quantiles_one)
    measured = coverage(Theta(), local_level(150, 100, seed=7), h=6)
    assert_nominal(measured)


# ---------------------------------------------------------------------- heavy tails
def test_naive_with_heavy_tailed_steps_measured_honestly():
    """Student-t(2.5) steps, one step ahead (200 series). The residual RMS is inflated by a few
    large steps, so the Normal interval is too wide in the body: the 80% interval over-covers
    (measured 0.865); at 95% the fat tails and the wide sigma cancel (measured 0.945). No
    under-coverage at 95% shows for this law and seed; asserted as measured, not nominal."""
    walks = random_walks(200, 80, seed=8, steps=lambda rng: rng.standard_t(2.5, (200, 80)))
    measured = coverage(Naive(), walks, h=1)
    assert measured == pytest.approx({80: 0.865, 95: 0.945}, abs=0.001)
    assert measured[80] - 0.80 > COVERAGE_TOL  # the Normal law misfits the body


# ---------------------------------------------------------------------- shape of the quantiles
def small_models():
    return [
        Naive(),
        SeasonalNaive(season_length=12),
        ETS(seasonal="add", season_length=12),
        ETS(error="mul", trend="add"),
        ARIMA(order=(1, 0, 0)),
        AutoARIMA(max_p=1, max_q=1, max_d=1),
        Theta(season_length=12),
    ]


@pytest.fixture(scope="module")
def small_frame():
    return long_frame(seasonal_noise(3, 72, 12, seed=9))


@pytest.mark.parametrize("model", small_models(), ids=lambda m: type(m).__name__)
def test_quantiles_are_monotone_contain_the_median_and_survive_save_load(
    model, small_frame, tmp_path
):
    model.fit(small_frame)
    out = model.predict(h=5, level=[80, 95], quantiles=PROBS)
    q = out[[f"{model.name}-q-{p!r}" for p in PROBS]].to_numpy()
    assert np.isfinite(q).all() and (np.diff(q, axis=1) >= 0).all()
    median = out[f"{model.name}-q-0.5"]
    for level in LEVELS:
        lo, hi = out[f"{model.name}-lo-{level}"], out[f"{model.name}-hi-{level}"]
        assert (lo <= median).all() and (median <= hi).all()
    assert (out[f"{model.name}-lo-95"] <= out[f"{model.name}-lo-80"]).all()
    assert (out[f"{model.name}-hi-80"] <= out[f"{model.name}-hi-95"]).all()
    hook = model._predict_quantiles(model._history, 5, np.array(PROBS))
    assert hook.shape == (3, 5, len(PROBS))
    model.save(tmp_path / "m")
    again = tsattn.load(tmp_path / "m").predict(h=5, level=[80, 95], quantiles=PROBS)
    pd.testing.assert_frame_equal(again, out)


def test_naive_closed_forms_match_statsforecast():
    """sigma = RMS of the lag-m residuals; sd at step k: sigma sqrt(k) (naive),
    sigma sqrt(floor((k - 1) / m) + 1) (seasonal naive)."""
    y = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0, 8.0])
    frame = long_frame(y[None])
    z80 = 1.2815515655446004
    sigma = np.sqrt(np.mean(np.diff(y) ** 2))
    naive = Naive().fit(frame).predict(h=3, level=[80])
    np.testing.assert_allclose(naive["Naive-hi-80"], 8.0 + z80 * sigma * np.sqrt([1, 2, 3]))
    m, season_sigma = 3, np.sqrt(np.mean((y[3:] - y[:-3]) ** 2))
    assert residual_sigma(y, m) == pytest.approx(season_sigma)
    seasonal = SeasonalNaive(season_length=m).fit(frame).predict(h=7, level=[80])
    steps = np.sqrt([1, 1, 1, 2, 2, 2, 3])
    point = y[-m:][np.arange(7) % m]
    np.testing.assert_allclose(seasonal["SeasonalNaive-lo-80"], point - z80 * season_sigma * steps)


def test_naive_sigma_is_stored_at_fit_and_used_for_other_histories():
    y = np.array([0.0, 1.0, 0.0, 1.0, 0.0])  # sigma 1 at fit
    model = Naive(freq="D").fit(long_frame(y[None]))
    flat = long_frame(np.full((1, 5), 3.0))  # same id s0: the fitted sigma, not 0
    out = model.predict(df=flat, h=1, level=[80])
    assert out["Naive-hi-80"].iloc[0] == pytest.approx(3.0 + 1.2815515655446004)
    new = long_frame(np.full((1, 5), 3.0)).assign(unique_id="new")  # unseen: its own sigma
    assert model.predict(df=new, h=1, level=[80])["Naive-hi-80"].iloc[0] == 3.0
    with pytest.raises(ValueError, match="more than 1 observations"):
        model.predict(df=new.iloc[:1], h=1, level=[80])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda meta, t: t.__setitem__("sigma", t["sigma"] * float("nan")), "NaN"),
        (lambda meta, t: t.__setitem__("sigma", -t["sigma"] - 1), "negative"),
        (lambda meta, t: meta["sigma_ids"].append("extra"), "shape"),
        (lambda meta, t: t.pop("sigma"), "no tensor 'sigma'"),
        (lambda meta, t: meta.__setitem__("sigma_ids", [1]), "distinct strings"),
    ],
)
def test_naive_sigma_state_is_checked_on_load(change, match):
    model = SeasonalNaive(season_length=12).fit(long_frame(seasonal_noise(2, 48, 12, 0)))
    meta, tensors = model._get_state()
    meta, tensors = copy.deepcopy(meta), {k: v.clone() for k, v in tensors.items()}
    change(meta, tensors)
    with pytest.raises(ValueError, match=match):
        SeasonalNaive(season_length=12)._set_state(meta, tensors)


# ---------------------------------------------------------------------- gluonts
def test_gluonts_returns_its_forecast_quantiles(tmp_path):
    if not HAS_LIGHTNING:
        pytest.skip(NO_LIGHTNING)
    frame = long_frame(seasonal_noise(2, 96, 12, seed=10))
    options = {"context_length": 24, "trainer_kwargs": {"limit_train_batches": 2}}
    model = GluonTSForecaster("deepar", h=4, max_epochs=1, estimator_kwargs=options)
    model.fit(frame)
    out = model.predict(level=[80], quantiles=[0.1, 0.5, 0.9])
    forecasts = model._forecasts(model._history)
    np.testing.assert_allclose(
        out["GluonTSForecaster-q-0.9"].to_numpy().reshape(2, 4),
        np.stack([f.quantile(0.9) for f in forecasts]),
        rtol=1e-6,
    )
    np.testing.assert_allclose(out["GluonTSForecaster-hi-80"], out["GluonTSForecaster-q-0.9"])
    assert (out["GluonTSForecaster-lo-80"] < out["GluonTSForecaster-hi-80"]).all()
    model.save(tmp_path / "g")
    again = tsattn.load(tmp_path / "g").predict(level=[80], quantiles=[0.1, 0.5, 0.9])
    pd.testing.assert_frame_equal(again, out)
