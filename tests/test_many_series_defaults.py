"""The user recipe's data rules that took the networks past the seasonal naive on M4 Hourly
(issue 23): seasonal centring when the season wins, a log transform for positive series, an
MAE loss, a look-back over two weekly cycles, short epochs on large data. Each rule is pinned
here; the literature recipe keeps none of them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import tsattn
from tsattn.models import DLinear, NLinear, PatchTST
from tsattn.models.recipes import DataFacts, recipe_defaults, resolve_options
from tsattn.models.user_defaults import epoch_windows, seasonal_naive_wins

FAST = dict(progress=False, device="cpu", max_steps=30)


def hourly(n_series: int = 2, n: int = 800, trend: float = 0.0, level: float = 50.0):
    rng = np.random.default_rng(0)
    t = np.arange(n)
    frames = []
    for k in range(n_series):
        y = level + trend * t + 10 * np.sin(2 * np.pi * t / 24 + k) + rng.normal(0, 0.5, n)
        ds = pd.date_range("2021-01-01", periods=n, freq="h")
        frames.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


def test_a_seasonal_history_centres_windows_on_the_last_season():
    model = NLinear(h=12, **FAST).fit(hourly())
    config = model.network_config(1)
    assert config.center_season == 24
    # with zero weights the network is the seasonal naive forecast
    network = model.network_
    torch.nn.init.zeros_(network.linear.shared.weight)
    torch.nn.init.zeros_(network.linear.shared.bias)
    df = hourly()
    forecast = model.predict()["NLinear"].to_numpy().reshape(2, 12)
    last_day = np.stack([g["y"].to_numpy()[-24:-12] for _, g in df.groupby("unique_id")])
    np.testing.assert_allclose(forecast, last_day, rtol=1e-4)


def test_a_trending_history_centres_windows_on_the_last_value():
    t = np.arange(300)
    trending = [5 * np.sin(2 * np.pi * t / 12) + 2.0 * t]
    assert not seasonal_naive_wins(trending, season=12, h=6)
    model = DLinear(h=6, **FAST).fit(hourly(trend=1.0, level=10.0))
    assert model.network_config(1).center_season in (1, 24)  # decided, never "auto"
    strong_trend = hourly(n=400).assign(y=lambda d: d.y + 5.0 * d.groupby("unique_id").cumcount())
    assert DLinear(h=6, **FAST).fit(strong_trend).network_config(1).center_season == 1


def test_positive_series_are_modelled_in_logs_and_others_as_they_are():
    positive = PatchTST(h=12, **FAST).fit(hourly())
    assert positive._scaler.log and positive.training_summary()
    signed = hourly(level=0.0)
    assert not PatchTST(h=12, **FAST).fit(signed)._scaler.log
    history = hourly().assign(y=lambda d: d.y - 100.0)  # a new history with values <= 0
    with pytest.raises(ValueError, match="series 's0' has a value <= 0.*target_transform"):
        positive.predict(history)
    assert PatchTST(h=12, target_transform="none", **FAST).fit(hourly())._scaler.log is False


def test_hourly_look_back_covers_two_weeks_when_the_data_allows():
    """Two weekly cycles when there are 20 training windows per look-back step (12 series of
    1,000 hours), else two seasons (two such series)."""
    assert NLinear(h=12, **FAST).fit(hourly(n_series=12, n=1000)).lookback == 336
    assert NLinear(h=12, **FAST).fit(hourly(n_series=2, n=1000)).lookback == 48


def test_a_panel_gets_logs_and_the_mae_and_one_series_keeps_its_values_and_the_mse():
    panel = DataFacts(lengths=(500, 500), season=24, positive=True, n_series=2)
    one = DataFacts(lengths=(500,), season=24, positive=True, n_series=1)
    options = [resolve_options(NLinear, h=12, data=facts).options for facts in (panel, one)]
    assert [(o["target_transform"], o["loss"]) for o in options] == [
        ("log", "mae"),
        ("none", "mse"),
    ]


def test_large_data_trains_in_short_sampled_epochs():
    assert epoch_windows(100, 32) is None
    facts = DataFacts(lengths=(800,) * 500, season=24)
    resolved = resolve_options(NLinear, h=24, data=facts)
    assert resolved.options["windows_per_epoch"] == 200 * 32


def test_the_literature_recipe_keeps_the_reference_behaviour():
    values = recipe_defaults(PatchTST, "literature:ETTh1")
    assert values["center_season"] == 1 and values["loss"] == "mse"
    assert values["target_transform"] == "none" and values["windows_per_epoch"] is None
    facts = DataFacts(lengths=(800,) * 500, season=24, seasonal=True, positive=True)
    resolved = resolve_options(PatchTST, 24, 96, "literature:ETTh1", data=facts).options
    assert resolved["center_season"] == 1 and resolved["target_transform"] == "none"


def test_season_and_log_survive_save_and_load(tmp_path):
    model = PatchTST(h=12, **FAST).fit(hourly())
    loaded = tsattn.load(model.save(tmp_path / "p.safetensors"))
    assert loaded.network_config(1).center_season == 24 and loaded._scaler.log
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


def test_an_explicit_season_serves_integer_time_steps():
    df = hourly().assign(ds=lambda d: d.groupby("unique_id").cumcount())
    model = NLinear(h=12, season_length=24, **FAST).fit(df)
    assert model.network_config(1).center_season == 24 and model.lookback == 48
    assert NLinear(h=12, **FAST).fit(df).network_config(1).center_season == 1
