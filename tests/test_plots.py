"""plot_backtest and plot_benchmark write image files and reject frames they cannot draw."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from tsattn.evaluation.plots import plot_backtest, plot_benchmark

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def backtest_frame() -> pd.DataFrame:
    """Two series, two windows of 5 steps, two model columns: a backtest result's layout."""
    rows = []
    for uid in ("a", "b"):
        for cutoff in pd.to_datetime(["2024-01-10", "2024-01-15"]):
            ds = pd.date_range(cutoff, periods=6, freq="D")[1:]
            y = np.arange(5.0)
            forecasts = {"Naive": y[0], "PatchTST": y + 0.1}
            rows.append(
                pd.DataFrame({"unique_id": uid, "ds": ds, "cutoff": cutoff, "y": y, **forecasts})
            )
    return pd.concat(rows, ignore_index=True)


@pytest.fixture
def benchmark_results() -> pd.DataFrame:
    """Two models at two horizons, two seeds each: a run_benchmark result's key columns."""
    return pd.DataFrame(
        {
            "dataset": "ETTh1",
            "model": ["patchtst:mlr", "patchtst:softmax"] * 4,
            "horizon": [96, 96, 192, 192] * 2,
            "seed": [0] * 4 + [1] * 4,
            "mse": [0.38, 0.39, 0.41, 0.42, 0.37, 0.40, 0.42, 0.43],
            "mae": [0.40, 0.41, 0.42, 0.43, 0.40, 0.41, 0.42, 0.44],
        }
    )


def assert_png(path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert len(data) > 1000


def test_plot_backtest_writes_one_panel_per_series(backtest_frame, tmp_path):
    history = backtest_frame[["unique_id", "ds", "y"]]
    path = tmp_path / "nested" / "backtest.png"
    fig = plot_backtest(backtest_frame, history=history, path=path)
    assert_png(path)
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["history", "actual", "Naive", "PatchTST"]
    assert fig.axes[-1].get_xlabel() and fig.axes[0].get_ylabel()


def test_plot_backtest_draws_only_the_chosen_series(backtest_frame):
    fig = plot_backtest(backtest_frame, unique_ids=["b"])
    assert [ax.get_title() for ax in fig.axes] == ["b"]


def test_plot_benchmark_writes_metric_by_horizon(benchmark_results, tmp_path):
    path = tmp_path / "benchmark.png"
    fig = plot_benchmark(benchmark_results, metric="mae", path=path)
    assert_png(path)
    (ax,) = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("horizon", "MAE", "ETTh1")
    mlr = next(line for line in ax.get_lines() if line.get_label() == "patchtst:mlr")
    assert mlr.get_ydata() == pytest.approx([0.40, 0.42])  # seeds averaged


def test_plot_benchmark_styles_a_model_alike_in_every_panel_with_one_legend(benchmark_results):
    softmax_only = benchmark_results[benchmark_results["model"] == "patchtst:softmax"]
    fig = plot_benchmark(pd.concat([benchmark_results, softmax_only.assign(dataset="ETTh2")]))
    first, second = ({line.get_label(): line for line in ax.get_lines()} for ax in fig.axes)
    assert list(second) == ["patchtst:softmax"]
    assert second["patchtst:softmax"].get_color() == first["patchtst:softmax"].get_color()
    assert len({line.get_color() for line in first.values()}) == len(first)
    (legend,) = fig.legends
    assert sorted(t.get_text() for t in legend.get_texts()) == sorted(first)


def test_plot_benchmark_writes_svg_by_extension(benchmark_results, tmp_path):
    plot_benchmark(benchmark_results, path=tmp_path / "benchmark.svg")
    assert b"<svg" in (tmp_path / "benchmark.svg").read_bytes()[:1000]


@pytest.mark.parametrize("column", ["unique_id", "ds", "cutoff", "y"])
def test_plot_backtest_rejects_a_frame_without_a_key_column(backtest_frame, column):
    with pytest.raises(ValueError, match=column):
        plot_backtest(backtest_frame.drop(columns=column))


@pytest.mark.parametrize("column", ["dataset", "model", "horizon", "mse"])
def test_plot_benchmark_rejects_results_without_a_needed_column(benchmark_results, column):
    with pytest.raises(ValueError, match=column):
        plot_benchmark(benchmark_results.drop(columns=column), metric="mse")


def test_plot_draws_one_small_panel_per_covariate_under_each_series(backtest_frame, tmp_path):
    from tsattn import plot

    history = backtest_frame[["unique_id", "ds", "y"]].assign(x=1.0, z=2.0)
    plain = plot(backtest_frame, history=history)
    fig = plot(backtest_frame, history=history, covariates=["x", "z"], path=tmp_path / "c.png")
    assert_png(tmp_path / "c.png")
    assert len(plain.axes) == 2 and len(fig.axes) == 2 * (1 + 2)  # series x (panel + covariates)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["a", "", "", "b", "", ""]
    assert [ax.get_ylabel() for ax in fig.axes[:3]] == ["y", "x", "z"]
    assert fig.axes[1].get_shared_x_axes().joined(fig.axes[0], fig.axes[1])
    (line,) = fig.axes[1].get_lines()
    assert list(line.get_ydata()) == [1.0] * line.get_ydata().size
    # a covariate column of the frame is drawn, not taken for a model
    forecast = backtest_frame.drop(columns="cutoff").query("ds < '2024-01-16'").assign(x=3.0)
    one = plot(forecast, unique_ids=["a"], covariates=["x"])
    assert len(one.axes) == 2
    assert [line.get_label() for line in one.axes[0].get_lines()] == ["actual", "Naive", "PatchTST"]


def test_plot_names_a_covariate_it_cannot_find(backtest_frame):
    from tsattn import plot

    with pytest.raises(ValueError, match=r"\['price'\]"):
        plot(backtest_frame, covariates=["price"])
