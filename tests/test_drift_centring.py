"""Centring on the naive forecast with drift (issue 23): when the last value plus the slope of
the last ``h`` steps clearly beats the last value on a series' history (an accelerating yearly
series), the networks' windows are centred on that line, so a network that outputs zeros
forecasts the naive with drift; elsewhere nothing changes."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
import torch

import tsattn
from tsattn.models import DLinear, NLinear, PatchTST, Transformer, VanillaTransformer
from tsattn.models.recipes import recipe_defaults
from tsattn.models.user_defaults import drift_wins

FAST = dict(progress=False, device="cpu", max_steps=20)


def yearly(values: np.ndarray) -> pd.DataFrame:
    ds = pd.date_range("1950-01-01", periods=len(values), freq="YS")
    return pd.DataFrame({"unique_id": "y", "ds": ds, "y": values})


def accelerating(n: int = 60) -> pd.DataFrame:
    t = np.arange(n, dtype=float)
    return yearly(100 + 3.0 * t**2 + np.random.default_rng(0).normal(0, 5, n))


def test_the_rule_reads_the_history():
    t = np.arange(60.0)
    assert drift_wins([t**2], h=6)
    walk = np.cumsum(np.random.default_rng(1).normal(size=300))
    assert not drift_wins([walk], h=6) and not drift_wins([np.sin(t)], h=6)
    assert not drift_wins([t[:5]], h=6)  # too short for one origin: no drift


@pytest.mark.parametrize("cls", [NLinear, DLinear, PatchTST, Transformer, VanillaTransformer])
def test_an_accelerating_series_centres_every_network_on_the_drift(cls):
    step_tokens = cls in (Transformer, VanillaTransformer)
    options = dict(d_model=8, n_heads=2, d_ff=16) if step_tokens else {}
    model = cls(h=6, **FAST, **options).fit(accelerating())
    config = model.network_config(1)
    assert (config.center_drift, config.center_season) == (6, 1)
    assert np.isfinite(model.predict()[cls.__name__]).all()


def test_the_fit_log_says_what_the_data_decided(caplog):
    with caplog.at_level(logging.INFO, logger="tsattn.models.neural"):
        NLinear(h=6, **FAST).fit(accelerating())
    assert "center_season=1, center_drift=6" in caplog.text


def test_a_zeroed_network_forecasts_the_naive_with_drift():
    df = accelerating()
    model = NLinear(h=6, **FAST).fit(df)
    torch.nn.init.zeros_(model.network_.linear.shared.weight)
    torch.nn.init.zeros_(model.network_.linear.shared.bias)
    y = df["y"].to_numpy()
    slope = (y[-1] - y[-7]) / 6
    expected = y[-1] + slope * np.arange(1, 7)
    np.testing.assert_allclose(model.predict()["NLinear"], expected, rtol=1e-4)


def test_no_drift_where_it_does_not_pay_or_when_asked_not_to():
    walk = np.cumsum(np.random.default_rng(2).normal(size=200)) + 50
    assert NLinear(h=6, **FAST).fit(yearly(walk)).network_config(1).center_drift == 0
    off = NLinear(h=6, center_drift=0, **FAST).fit(accelerating())
    assert off.network_config(1).center_drift == 0
    assert recipe_defaults(PatchTST, "literature:ETTh1")["center_drift"] == 0
    with pytest.raises(ValueError, match="center_drift must be an integer >= 0"):
        NLinear(h=6, center_drift=-1, **FAST).fit(accelerating())


def test_drift_survives_save_and_load_and_older_files_load_without_it(tmp_path):
    from safetensors import safe_open
    from safetensors.torch import save_file

    model = DLinear(h=6, **FAST).fit(accelerating())
    path = model.save(tmp_path / "d.safetensors")
    loaded = tsattn.load(path)
    assert loaded.network_config(1).center_drift == 6
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    with safe_open(str(path), "pt") as handle:
        header, tensors = handle.metadata(), {k: handle.get_tensor(k) for k in handle.keys()}
    params, state = json.loads(header["params"]), json.loads(header["state"])
    del params["center_drift"], state["drift"]
    header.update(params=json.dumps(params), state=json.dumps(state))
    save_file(tensors, str(tmp_path / "old.safetensors"), metadata=header)
    old = tsattn.load(tmp_path / "old.safetensors")
    assert old.network_config(1).center_drift == 0  # as files before drift were fitted
