"""Issue 13: neural forecasters' defaults for users' own series (the literature recipe stays a
preset of the benchmark runner)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import tsattn
from tsattn.models import DLinear, NLinear, PatchTST
from tsattn.models.recipes import recipe_defaults
from tsattn.models.user_defaults import MAX_STEPS, default_input_size, step_budget

FAST = dict(progress=False, device="cpu", max_epochs=3)


def monthly(n: int = 120, trend: float = 0.5, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 100 + trend * t + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)
    return pd.DataFrame(
        {"unique_id": "m", "ds": pd.date_range("2010-01-01", periods=n, freq="MS"), "y": y}
    )


def test_input_size_may_be_omitted_and_follows_the_documented_rule(caplog):
    df = monthly(trend=0.1)  # the seasonal naive wins on its history
    with caplog.at_level(logging.INFO, logger="tsattn.models.neural"):
        model = PatchTST(h=6, **FAST).fit(df)
    # max(3 h, 2 x season 12, 16) = 24, within what the 120 points allow
    assert model.lookback == default_input_size(6, 12, 120, 6) == 24
    # with a steep trend the season does not pay: max(3 h, 16)
    assert PatchTST(h=6, **FAST).fit(monthly(trend=0.5)).lookback == 18
    assert model.input_size is None and model.get_params()["input_size"] is None
    assert "input_size=24" in caplog.text and "holdout 6 steps" in caplog.text
    assert np.isfinite(model.predict()["PatchTST"]).all()


def test_the_look_back_survives_save_and_load(tmp_path):
    model = NLinear(h=6, **FAST).fit(monthly())
    loaded = tsattn.load(model.save(tmp_path / "n.safetensors"))
    assert loaded.lookback == model.lookback
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


def test_a_short_series_gets_patches_that_fit_its_look_back(tmp_path):
    """29 yearly points leave a look-back of 29 - 6 - 8 = 15 (< the default patch_len 16): the
    patches shrink to fit instead of failing, and survive save and load."""
    df = monthly(29).assign(ds=pd.date_range("1970-01-01", periods=29, freq="YS"))
    model = PatchTST(h=6, **FAST).fit(df)
    config = model.network_config(1)
    assert model.lookback < 16 and config.patch_len == model.lookback // 2
    assert 1 <= config.stride <= config.patch_len
    loaded = tsattn.load(model.save(tmp_path / "p.safetensors"))
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    with pytest.raises(ValueError, match="patch_len"):
        PatchTST(h=6, input_size=8, **FAST).fit(df)


def test_the_step_budget_adapts_to_the_data():
    assert step_budget(100, 32) == 300  # a few hundred windows: the floor
    assert step_budget(100_000, 32) == MAX_STEPS  # the ceiling
    assert step_budget(1_000, 32) == 20 * 32


def test_fit_knows_its_holdout_error_and_the_seasonal_naive_one():
    model = DLinear(h=6, **FAST).fit(monthly())
    errors = model.holdout_errors_
    assert set(errors) == {"model_mae", "seasonal_naive_mae", "season_length"}
    assert errors["season_length"] == 12 and errors["model_mae"] > 0


def test_a_model_worse_than_seasonal_naive_warns():
    df = monthly(trend=0.0)  # a pure season: seasonal naive is hard to beat in 1 epoch
    untrained = {"lr": 1e-6, "max_epochs": 1, "center_season": 1}  # no seasonal anchor either
    with pytest.warns(UserWarning, match="worse than a seasonal naive"):
        PatchTST(h=12, progress=False, device="cpu", **untrained).fit(df)


def test_dlinear_follows_a_trend_instead_of_collapsing_to_a_fraction_of_the_level():
    """The GDP case of the issue: a steadily growing series far from zero. With subtract-last
    (the user default) DLinear forecasts near the last level; the paper's DLinear (the
    literature preset) without it is worse on the same budget."""
    df = monthly(n=150, trend=2.0)
    last = df["y"].iloc[-1]
    user = DLinear(h=6, **FAST).fit(df).predict()["DLinear"].to_numpy()
    assert np.abs(user / last - 1).max() < 0.1
    paper = DLinear(h=6, subtract_last=False, **FAST).fit(df).predict()["DLinear"].to_numpy()
    assert np.abs(user - last).mean() < np.abs(paper - last).mean()


def test_the_literature_regime_keeps_the_engine_defaults():
    values = recipe_defaults(DLinear, "literature:ETTh1")
    assert values["lr"] == 1e-4 and values["lr_schedule"] == "type3_reference"
    assert values["max_steps"] is None and values["subtract_last"] is False
    assert values["batch_size"] == 128 and values["patience"] == 100  # the reference's


def test_patchtst_centres_windows_on_their_last_value_for_users_only():
    """Users' PatchTST follows level shifts (RevIN subtract-last); the literature preset keeps
    the reference's window mean."""
    assert PatchTST(h=6, progress=False).revin_subtract_last is True
    assert PatchTST(h=6, revin_subtract_last=False, progress=False).revin_subtract_last is False
    assert recipe_defaults(PatchTST, "literature:ETTh1")["revin_subtract_last"] is False
    assert PatchTST(h=6, recipe="literature:ETTh1").revin_subtract_last is False


def test_patchtst_follows_a_level_shift():
    """A series without a clear season that jumps to a new level a few steps before the cutoff:
    centred on the last value, the forecast sits near the new level (a window mean would pull
    it back down). A clearly seasonal series is centred on its last season instead, which keeps
    the season and follows a shift only as far as the network learns it
    (``tests/test_many_series_defaults.py``)."""
    df = monthly(n=150, trend=0.0).assign(
        y=lambda d: 100 + np.random.default_rng(1).normal(0, 1, 150)
    )
    df.loc[df.index[-6:], "y"] += 200.0
    new_level = df["y"].iloc[-6:].mean()

    def error(**options) -> float:
        forecast = PatchTST(h=6, **FAST, **options).fit(df).predict()["PatchTST"].to_numpy()
        return float(np.abs(forecast - new_level).mean())

    user, window_mean = error(), error(revin_subtract_last=False)
    assert user < 0.5 * 200.0 and user < window_mean
