"""The benchmark runner scores quantile forecasts (issue 14): CRPS, weighted quantile loss and
80%/95% coverage on the same test windows and scale as MSE/MAE; empty for point models."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.data_dir import DATA_DIR, needs_data
from tsattn.benchmark.runner import PROBABILISTIC_COLUMNS, run_benchmark
from tsattn.benchmark.scoring import score_windows
from tsattn.datasets import benchmark_split
from tsattn.evaluation import evaluate
from tsattn.evaluation.quantile_metrics import coverage, mean_weighted_quantile_loss
from tsattn.models import Naive, NLinear

pytestmark = needs_data

QUANTILE_SPEC = "nlinear:loss=quantile:windows_per_epoch=256"
TINY = dict(horizons=[24], input_size=48, max_epochs=1, device="cpu", progress=False)


def test_a_quantile_model_gets_finite_scores_and_a_point_model_empty_ones(tmp_path):
    result = run_benchmark(
        "ETTh1", [QUANTILE_SPEC, "naive"], out_dir=tmp_path, data_dir=DATA_DIR, **TINY
    )
    prob = result[result.model == QUANTILE_SPEC].iloc[0]
    point = result[result.model == "naive"].iloc[0]
    assert np.isfinite(prob[PROBABILISTIC_COLUMNS].astype(float)).all()
    assert 0 < prob["crps"] < prob["mae"] * 2 and prob["wql"] > 0
    assert 0 <= prob["coverage_80"] <= prob["coverage_95"] <= 100
    assert point[PROBABILISTIC_COLUMNS].isna().all()
    saved = pd.read_csv(tmp_path / "results.csv")
    assert set(PROBABILISTIC_COLUMNS) <= set(saved.columns)
    assert saved.loc[saved.model == "naive", PROBABILISTIC_COLUMNS].isna().all(axis=None)


def _fitted_quantile_model(split):
    model = NLinear(
        h=split.horizon,
        input_size=split.input_size,
        loss="quantile",
        max_epochs=1,
        windows_per_epoch=256,
        seed=0,
        device="cpu",
        progress=False,
    )
    return model.fit_arrays(split.train, split.val)


def test_runner_scores_equal_evaluate_on_the_same_forecasts():
    split = benchmark_split("ETTh1", 48, 24, data_dir=DATA_DIR)
    model = _fitted_quantile_model(split)
    probs = np.asarray(model.quantiles)
    inputs, targets = split.window_view("test")
    n = 40  # a few windows: the runner's streamed sums over chunks vs evaluate's pooled frame
    scores = score_windows(
        model.predict_windows,
        split.test[: split.input_size + split.horizon + n - 1],
        split.input_size,
        split.horizon,
        batch_size=64,
        quantiles=model.predict_window_quantiles,
        probs=probs,
    ).quantiles
    yq = model.predict_window_quantiles(np.asarray(inputs[:n]), probs)  # (n, H, C, Q)
    y = np.asarray(targets[:n], dtype=np.float64)
    frame = pd.DataFrame({"unique_id": "all", "ds": np.arange(y.size), "y": y.ravel()})
    frame["m"] = yq[..., list(probs).index(0.5)].ravel()
    for k, q in enumerate(probs):
        frame[f"m-q-{q:g}"] = yq[..., k].ravel()
    table = evaluate(frame, metrics=["crps", "mean_wql"], models=["m"]).set_index("metric")
    assert scores.crps == pytest.approx(table.loc["crps", "m"], rel=1e-9)
    assert scores.wql == pytest.approx(table.loc["mean_wql", "m"], rel=1e-9)
    flat = yq.reshape(y.size, -1)
    assert scores.wql == pytest.approx(mean_weighted_quantile_loss(y.ravel(), flat, probs))
    for level, (lo, hi) in {80: (0.1, 0.9), 95: (0.025, 0.975)}.items():
        columns = [list(probs).index(lo), list(probs).index(hi)]
        expected = coverage(y.ravel(), flat[:, columns[0]], flat[:, columns[1]])
        assert scores.coverage[level] == pytest.approx(expected, rel=1e-12)


def test_point_models_have_no_window_quantiles():
    with pytest.raises(NotImplementedError, match="no quantiles at the window level"):
        Naive(h=3).predict_window_quantiles(np.zeros((1, 4, 1)), [0.5])
    split = benchmark_split("ETTh1", 48, 24, data_dir=DATA_DIR)
    point = NLinear(
        h=24, input_size=48, max_epochs=1, windows_per_epoch=64, device="cpu", progress=False
    ).fit_arrays(split.train)
    with pytest.raises(NotImplementedError, match="point loss"):
        point.predict_window_quantiles(np.zeros((1, 48, 7), np.float32), [0.5])


def test_an_old_results_csv_without_the_columns_resumes(tmp_path, capsys):
    source = Path(__file__).resolve().parents[1] / "benchmarks/results/patchtst_etth/results.csv"
    if not source.exists():
        pytest.skip(f"{source} not found")
    shutil.copy(source, tmp_path / "results.csv")
    old = pd.read_csv(source)
    assert not set(PROBABILISTIC_COLUMNS) & set(old.columns)
    first = old.iloc[0]
    resumed = run_benchmark(  # the old cell is kept, not rerun; a new one is appended
        first["dataset"],
        [first["model"], "naive"],
        horizons=[int(first["horizon"])],
        input_size=int(first["input_size"]),
        max_epochs=int(first["max_epochs"]) or None,
        out_dir=tmp_path,
        data_dir=DATA_DIR,
        device="cpu",
        progress=False,
    )
    kept = resumed[resumed.model == first["model"]]
    assert kept["mse"].item() == first["mse"]
    saved = pd.read_csv(tmp_path / "results.csv")
    assert len(saved) == len(old) + 1
    assert saved[PROBABILISTIC_COLUMNS].isna().all(axis=None)
    pd.testing.assert_frame_equal(saved.iloc[: len(old)][old.columns], old)
    assert "vs_rerun_%" in capsys.readouterr().out
