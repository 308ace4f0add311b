"""Issue 14: the interval contract of every forecaster and conformal intervals for any model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsattn
from tsattn.models import DLinear
from tsattn.models.baselines import Naive, SklearnForecaster
from tsattn.models.intervals import QuantileRequest, conformal_radius

TINY = dict(max_epochs=2, batch_size=32, progress=False, device="cpu")


def random_walks(n_series: int, n: int, seed: int, noise: str = "normal") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    steps = (
        rng.normal(size=(n_series, n)) if noise == "normal" else rng.standard_t(3, (n_series, n))
    )
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(n_series)], n),
            "ds": np.tile(pd.date_range("2024-01-01", periods=n, freq="D"), n_series),
            "y": np.cumsum(steps, axis=1).ravel(),
        }
    )


def test_columns_follow_the_statsforecast_convention_and_are_monotone():
    df = random_walks(3, 120, seed=0)
    model = Naive(h=4, intervals="conformal", conformal_windows=8, alias="N").fit(df)
    out = model.predict(level=[95, 80], quantiles=[0.1, 0.5, 0.9])
    assert list(out.columns) == [
        "unique_id",
        "ds",
        "N",
        "N-lo-95",
        "N-hi-95",
        "N-lo-80",
        "N-hi-80",
        "N-q-0.1",
        "N-q-0.5",
        "N-q-0.9",
    ]
    assert (out["N-lo-95"] <= out["N-lo-80"]).all() and (out["N-hi-80"] <= out["N-hi-95"]).all()
    assert (out["N-lo-80"] <= out["N-q-0.5"]).all() and (out["N-q-0.5"] <= out["N-hi-80"]).all()
    np.testing.assert_array_equal(out["N-q-0.5"], out["N"])  # conformal: symmetric about the point


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"level": 80}, "level must be a list"),
        ({"level": [100]}, "strictly between 0 and 100"),
        ({"level": [80, 80]}, "repeated"),
        ({"quantiles": [1.5]}, "strictly between 0 and 1"),
        ({"quantiles": ["0.5"]}, "must hold numbers"),
    ],
)
def test_bad_levels_and_quantiles_are_clear_errors(kwargs, message):
    model = Naive(h=2, intervals="conformal").fit(random_walks(1, 60, seed=1))
    with pytest.raises(ValueError, match=message):
        model.predict(**kwargs)


def test_a_model_without_native_uncertainty_points_to_conformal():
    model = SklearnForecaster(lags=4, h=2).fit(random_walks(1, 60, seed=2))
    with pytest.raises(ValueError, match="intervals='conformal'"):
        model.predict(level=[80])
    with pytest.raises(ValueError, match="intervals must be one of"):
        Naive(h=2, intervals="bootstrap")


def test_conformal_radius_is_the_split_conformal_rank():
    scores = np.arange(1.0, 20.0)[:, None]  # n = 19 scores of one step: 1..19
    assert conformal_radius(scores, 0.9)[0] == 18.0  # ceil(20 * 0.9) = 18th smallest
    # beyond n / (n + 1) = 95%: the normal-errors band, RMS x t_19(0.995), above the largest
    assert conformal_radius(scores, 0.99)[0] == pytest.approx(130**0.5 * 2.8609, rel=1e-4)
    assert conformal_radius(scores, 0.0)[0] == 0.0


@pytest.mark.parametrize("noise", ["normal", "student_t3"])
@pytest.mark.parametrize(
    "make",
    [
        lambda: Naive(h=3, intervals="conformal", conformal_windows=10),
        lambda: SklearnForecaster(lags=6, h=3, intervals="conformal", conformal_windows=10),
    ],
    ids=["naive", "sklearn"],
)
def test_conformal_intervals_reach_nominal_coverage(make, noise):
    """Random walks (exchangeable increments): over 150 series and 3 steps, the 80% and 95%
    conformal intervals cover within 5 points of nominal, Gaussian or heavy-tailed."""
    df = random_walks(150, 80, seed=3, noise=noise)
    train = df.groupby("unique_id").head(77)
    future = df.groupby("unique_id").tail(3)
    out = make().fit(train).predict(level=[80, 95])
    y = future["y"].to_numpy()
    alias = out.columns[2]
    for level in (80, 95):
        inside = (out[f"{alias}-lo-{level}"].to_numpy() <= y) & (y <= out[f"{alias}-hi-{level}"])
        assert abs(inside.mean() * 100 - level) <= 5.0, (level, inside.mean())


def test_conformal_scores_survive_save_and_load(tmp_path):
    model = DLinear(h=3, input_size=12, intervals="conformal", conformal_windows=4, **TINY)
    model.fit(random_walks(2, 90, seed=4))
    loaded = tsattn.load(model.save(tmp_path / "d.safetensors"))
    pd.testing.assert_frame_equal(loaded.predict(level=[90]), model.predict(level=[90]))


def test_too_short_a_series_for_conformal_says_what_it_needs():
    with pytest.raises(ValueError, match="conformal intervals with conformal_windows=10"):
        Naive(h=5, intervals="conformal", conformal_windows=10).fit(random_walks(1, 30, seed=5))


def test_the_request_always_includes_the_median():
    assert 0.5 in QuantileRequest.make(level=[50]).probs
