"""A small PatchTST learns a daily cycle with a trend: it beats the naive forecast widely."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import tsattn

H, LOOKBACK = 24, 96


def _cycle_with_trend(length: int = 1200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    y = 10 + 3 * np.sin(2 * np.pi * t / 24) + 0.01 * t + rng.normal(0, 0.3, length)
    ds = pd.date_range("2024-01-01", periods=length, freq="h")
    return pd.DataFrame({"unique_id": "a", "ds": ds, "y": y})


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_patchtst_beats_the_naive_forecast(one_thread):
    df = _cycle_with_trend()
    model = tsattn.PatchTST(
        h=H,
        input_size=LOOKBACK,
        d_model=16,
        n_heads=4,
        n_layers=1,
        d_ff=32,
        dropout=0.1,
        lr=3e-3,
        lr_schedule="constant",
        batch_size=64,
        max_epochs=5,
        progress=False,
        seed=0,
    ).fit(df.iloc[:1000])
    errors, naive_errors = [], []
    for cutoff in range(1000, 1200 - H + 1, 22):
        truth = df["y"].to_numpy()[cutoff : cutoff + H]
        forecast = model.predict(df=df.iloc[:cutoff])["PatchTST"].to_numpy()
        errors.append(np.abs(forecast - truth).mean())
        naive_errors.append(np.abs(df["y"].iloc[cutoff - 1] - truth).mean())
    mae, naive_mae = float(np.mean(errors)), float(np.mean(naive_errors))
    assert mae < 0.3 * naive_mae, (mae, naive_mae)  # measured: 0.30 vs 2.38
