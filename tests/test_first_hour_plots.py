"""Issue 27, item 6: ``tsattn.plot`` is the public entry; forecast plots zoom on the last
seasons before the first cutoff; benchmark markers of equal values stay visible."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import tsattn
from tsattn.evaluation.plots import plot_backtest


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def hourly_year() -> pd.DataFrame:
    t = np.arange(24 * 365)
    ds = pd.date_range("2023-01-01", periods=len(t), freq="h")
    return pd.DataFrame({"unique_id": "temp", "ds": ds, "y": np.sin(2 * np.pi * t / 24)})


def _history_line(fig):
    return next(line for line in fig.axes[0].get_lines() if line.get_label() == "history")


def test_backtest_plot_zooms_to_the_last_seasons_before_the_first_cutoff(hourly_year):
    frame = tsattn.backtest(tsattn.SeasonalNaive(h=24), hourly_year, h=24, n_windows=3)
    first_cutoff = frame["cutoff"].min()
    fig = tsattn.plot(frame, history=hourly_year)
    shown = pd.to_datetime(_history_line(fig).get_xdata())
    assert shown.min() == first_cutoff - pd.Timedelta(hours=3 * 24 - 1)  # 3 seasons of 24 h
    left, right = fig.axes[0].get_xlim()
    assert right - left < 10  # days on matplotlib's axis: not the whole year
    whole = plot_backtest(frame, history=hourly_year, seasons=None)
    assert pd.to_datetime(_history_line(whole).get_xdata()).min() == hourly_year["ds"].min()


def test_plot_draws_a_forecast_after_its_history_with_bands(hourly_year):
    forecast = tsattn.SeasonalNaive(h=12).fit(hourly_year).predict(level=[80, 95])
    fig = tsattn.plot(forecast, history=hourly_year, seasons=2)
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["history", "SeasonalNaive"]
    assert len(_history_line(fig).get_xdata()) == 2 * 24  # the last two days
    assert len(ax.collections) == 2  # the 80% and 95% bands


def test_plot_dispatches_benchmark_results(tmp_path):
    results = pd.DataFrame(
        {"dataset": "ETTh1", "model": ["a", "b", "c"] * 2, "horizon": [96] * 3 + [192] * 3,
         "mse": [0.4, 0.4, 0.4, 0.5, 0.5, 0.5]}
    )  # fmt: skip
    fig = tsattn.plot(results, path=tmp_path / "b.png")
    lines = fig.axes[0].get_lines()
    markers = {line.get_marker() for line in lines}
    assert len(markers) == 3  # equal values: each model its own marker...
    xs = [tuple(line.get_xdata()) for line in lines]
    assert len(set(xs)) == 3  # ...beside the others, around the true horizon
    assert all(abs(x[0] - 96) < 10 and abs(x[1] - 192) < 10 for x in xs)
    assert list(fig.axes[0].get_xticks()) == [96, 192]
    assert (tmp_path / "b.png").stat().st_size > 1000


def test_plot_is_public_and_documented():
    assert "plot" in tsattn.__all__
    assert "backtest" in tsattn.plot.__doc__ and "predict" in tsattn.plot.__doc__
