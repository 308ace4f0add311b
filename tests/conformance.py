"""The one conformance check every forecaster passes (neural nets and baselines alike).

Per-model tests call :func:`check_forecaster` with a factory that builds a fresh, small,
seeded model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import tsattn
from tsattn.models import Forecaster


def synthetic_long_frame(n_series: int = 2, length: int = 240, seed: int = 0) -> pd.DataFrame:
    """Hourly series with a daily cycle, a trend and noise, in the canonical long format."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2024-01-01", periods=length, freq="h")
    t = np.arange(length)
    frames = []
    for i in range(n_series):
        y = 10 + 3 * np.sin(2 * np.pi * t / 24 + i) + 0.01 * t + rng.normal(0, 0.3, length)
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


def check_forecaster(make: Callable[[], Forecaster], tmp_path: Path, h: int = 12) -> None:
    """Fit, predict, determinism and save/load round trip for ``make()``'s model."""
    df = synthetic_long_frame()
    model = make().fit(df)
    forecast = model.predict()

    assert list(forecast.columns) == ["unique_id", "ds", model.name]
    assert len(forecast) == 2 * h
    assert not forecast[model.name].isna().any()
    assert np.isfinite(forecast[model.name]).all()
    for uid, group in forecast.groupby("unique_id"):
        last = df.loc[df.unique_id == uid, "ds"].max()
        expected = pd.date_range(last, periods=h + 1, freq="h")[1:]
        assert (pd.DatetimeIndex(group["ds"]) == expected).all()
    # forecasts are in the original scale: each series' forecast mean is within half the
    # level (~12) of its last day's mean (a normalised, shifted or doubled forecast is not)
    level = df.groupby("unique_id")["y"].apply(lambda y: y.iloc[-24:].mean())
    means = forecast.groupby("unique_id")[model.name].mean()
    np.testing.assert_allclose(means[level.index], level, rtol=0.5)

    again = make().fit(df).predict()
    np.testing.assert_allclose(again[model.name], forecast[model.name], rtol=1e-6, atol=1e-6)

    # predicting from a given history gives forecasts dated after that history
    history = df.groupby("unique_id").head(200)
    from_history = model.predict(df=history)
    assert from_history["ds"].min() == pd.Timestamp("2024-01-01") + pd.Timedelta(hours=200)

    path = model.save(tmp_path / "model.safetensors")
    loaded = tsattn.load(path)
    np.testing.assert_allclose(loaded.predict()[model.name], forecast[model.name], rtol=1e-6)
    np.testing.assert_allclose(
        loaded.predict(df=history)[model.name], from_history[model.name], rtol=1e-6
    )
