"""Issue 27, item 4: ``evaluate(..., metrics=["mase"], train_df=df)`` infers the season from
the frequency, as the CLI does, and says so in a log line."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from tsattn import SeasonalNaive, backtest, evaluate


@pytest.fixture(scope="module")
def monthly() -> pd.DataFrame:
    t = np.arange(96)
    rng = np.random.default_rng(0)
    y = 100 + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, len(t))
    ds = pd.date_range("2015-01-01", periods=len(t), freq="MS")
    return pd.DataFrame({"unique_id": "jobs", "ds": ds, "y": y})


def test_mase_uses_the_frequency_season_and_says_so(monthly, caplog):
    frame = backtest(SeasonalNaive(h=6), monthly, h=6, n_windows=2)
    with caplog.at_level(logging.INFO, logger="tsattn.evaluation"):
        inferred = evaluate(frame, metrics=["mase"], train_df=monthly)
    assert "season_length=12" in caplog.text
    explicit = evaluate(frame, metrics=["mase"], train_df=monthly, season_length=12)
    one = evaluate(frame, metrics=["mase"], train_df=monthly, season_length=1)
    assert inferred["SeasonalNaive"].item() == explicit["SeasonalNaive"].item()
    assert inferred["SeasonalNaive"].item() != one["SeasonalNaive"].item()


def test_too_short_a_history_for_the_season_falls_back_to_one_and_says_so(caplog):
    train = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=5, freq="D"),
         "y": [0.0, 1.0, 3.0, 4.0, 6.0]}
    )  # fmt: skip
    frame = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2024-01-06", periods=2, freq="D"),
         "y": [7.0, 8.0], "M": [6.5, 7.5]}
    )  # fmt: skip
    with caplog.at_level(logging.INFO, logger="tsattn.evaluation"):
        table = evaluate(frame, metrics=["mase"], train_df=train)
    assert "season_length=1" in caplog.text and "season (7)" in caplog.text
    assert table["M"].item() == pytest.approx(0.5 / 1.5)


def test_integer_steps_keep_season_one(monthly):
    steps = monthly.assign(ds=np.arange(len(monthly)))
    frame = backtest(SeasonalNaive(h=6, season_length=12), steps, h=6, n_windows=1)
    inferred = evaluate(frame, metrics=["mase"], train_df=steps)
    one = evaluate(frame, metrics=["mase"], train_df=steps, season_length=1)
    assert inferred["SeasonalNaive"].item() == one["SeasonalNaive"].item()
