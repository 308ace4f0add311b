"""The benchmark runner on ETTh1 with the baselines that need no training."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from tests.data_dir import DATA_DIR, needs_data
from tsattn.benchmark.runner import format_table, run_benchmark
from tsattn.benchmark.scoring import score_windows
from tsattn.datasets import benchmark_split
from tsattn.datasets.windows import evaluated_windows
from tsattn.models import SeasonalNaive

pytestmark = needs_data


def test_every_test_window_is_scored_and_legacy_mode_drops_97(tmp_path):
    full = run_benchmark(
        "ETTh1", ["naive"], horizons=[96], out_dir=tmp_path / "a", data_dir=DATA_DIR
    )
    legacy = run_benchmark(
        "ETTh1",
        ["naive"],
        horizons=[96],
        out_dir=tmp_path / "b",
        data_dir=DATA_DIR,
        legacy_drop_last=128,
    )
    assert full["test_windows"].item() == 2785
    assert legacy["test_windows"].item() == 2785 - 97
    assert evaluated_windows(2785, 128) == 2688


def test_seasonal_naive_matches_a_direct_computation(tmp_path):
    result = run_benchmark(
        "ETTh1", ["seasonal_naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR
    )
    split = benchmark_split("ETTh1", 336, 96, data_dir=DATA_DIR)
    inputs, targets = split.window_view("test")
    forecast = np.tile(inputs[:, -24:], (1, 4, 1))  # (N, 96, C): the last day repeated
    expected = float(((forecast - targets) ** 2).mean())
    assert result["mse"].item() == pytest.approx(expected, rel=1e-6)
    assert result["paper_patchtst42_mse"].item() == 0.375
    assert result["threads"].item() == torch.get_num_threads()  # wall times depend on it


def test_finished_cells_are_skipped_on_resume(tmp_path, capsys):
    run_benchmark("ETTh1", ["naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR)
    written = pd.read_csv(tmp_path / "results.csv")
    (tmp_path / "results.csv").write_text(
        written.assign(mse=123.0).to_csv(index=False)
    )  # a resumed run must keep, not recompute, this cell
    again = run_benchmark(
        "ETTh1", ["naive", "seasonal_naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR
    )
    assert len(again) == 2
    assert again.loc[again.model == "naive", "mse"].item() == 123.0
    records = json.loads((tmp_path / "results.json").read_text())
    assert {r["model"] for r in records} == {"naive", "seasonal_naive"}
    assert "vs_rerun_%" in capsys.readouterr().out


def test_only_the_requested_cells_are_returned(tmp_path):
    run_benchmark("ETTh1", ["naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR)
    run_benchmark(
        "ETTh1", ["naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR, input_size=96
    )
    again = run_benchmark("ETTh1", ["naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR)
    assert len(pd.read_csv(tmp_path / "results.csv")) == 2
    assert again["input_size"].tolist() == [336]


def test_score_windows_per_step_errors_of_seasonal_naive_on_a_pure_cycle():
    t = np.arange(200, dtype=np.float32)
    data = np.stack([np.sin(2 * np.pi * t / 24), np.cos(2 * np.pi * t / 24)], axis=1)
    predict = SeasonalNaive(season_length=24, h=30).predict_windows
    scores = score_windows(predict, data, input_size=48, horizon=30)
    assert scores.n_windows == 200 - 48 - 30 + 1
    assert scores.mse < 1e-10


def test_format_table_handles_empty_results():
    assert format_table(pd.DataFrame()) == "(no results)"


def test_patchtst_architecture_defaults_apply_to_patchtst_only():
    from tsattn.models.factory import build_model, parse_model_spec

    built = {}
    for name in ("patchtst", "transformer"):
        spec = parse_model_spec(name)
        built[name] = build_model(
            spec, recipe="literature:ETTh1", h=24, input_size=96, max_epochs=2, device="cpu"
        )
    # ETTh1's PatchTST reference: d_model 16, lr 1e-4; the Transformer keeps its paper size
    assert built["patchtst"].d_model == 16
    assert built["transformer"].d_model == 512
    assert built["transformer"].lr == built["patchtst"].lr == 1e-4
    assert built["transformer"].max_epochs == 2
    assert built["patchtst"].lr_schedule == "type3_reference"
    assert built["patchtst"].recipe == "literature:ETTh1"


def test_processes_sharing_an_out_dir_keep_each_others_rows(tmp_path, monkeypatch):
    """A second run finishing into the same out_dir while the first is mid-cell (as a
    concurrent process would) must not lose its row when the first one writes."""
    from tsattn.benchmark import runner

    original = runner._run_cell
    interrupted = []

    def run_cell_with_a_concurrent_run(dataset, spec, split, seed, settings):
        if not interrupted:
            interrupted.append(spec.alias)
            run_benchmark(
                "ETTh1", ["seasonal_naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR
            )
        return original(dataset, spec, split, seed, settings)

    monkeypatch.setattr(runner, "_run_cell", run_cell_with_a_concurrent_run)
    run_benchmark("ETTh1", ["naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR)
    saved = pd.read_csv(tmp_path / "results.csv")
    assert interrupted == ["naive"]
    assert sorted(saved["model"]) == ["naive", "seasonal_naive"]


def test_legacy_drop_last_must_be_a_batch_size():
    assert evaluated_windows(2785, None) == 2785
    for bad in (0, -128, True, 12.0):
        with pytest.raises(ValueError, match="legacy_drop_last"):
            evaluated_windows(2785, bad)


def test_a_model_that_fits_per_series_is_refused_before_training(tmp_path):
    with pytest.raises(ValueError, match="fits per series.*benchmark runner"):
        run_benchmark(
            "ETTh1", ["seasonal_naive", "ets"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR
        )


def test_quick_mode_caps_windows_per_epoch_even_when_a_spec_sets_more():
    from tsattn.benchmark.runner import RunSettings, _build_model
    from tsattn.models.factory import parse_model_spec
    from tsattn.models.recipes import QUICK

    QUICK_WINDOWS_PER_EPOCH = QUICK["windows_per_epoch"]

    split = benchmark_split("ETTh1", 96, 24, data_dir=DATA_DIR)
    settings = RunSettings(
        input_size=96,
        quick=True,
        max_epochs=None,
        legacy_drop_last=None,
        device="cpu",
        progress=False,
    )
    for spec, expected in [
        ("dlinear", QUICK_WINDOWS_PER_EPOCH),
        ("dlinear:windows_per_epoch=100000", QUICK_WINDOWS_PER_EPOCH),
        ("dlinear:windows_per_epoch=100", 100),
    ]:
        model = _build_model("ETTh1", parse_model_spec(spec), split, 0, settings)
        assert model.training_config.windows_per_epoch == expected
        assert model.training_config.lr_schedule == "constant"
    naive = _build_model("ETTh1", parse_model_spec("seasonal_naive"), split, 0, settings)
    assert naive.season_length == 24 and naive.h == 24


def test_scores_do_not_depend_on_the_evaluation_batch():
    """The runner's evaluation batch is a speed setting: every batch size gives the same
    forecasts, bit for bit, and the same scores (up to the order of the float64 sums)."""
    import functools

    from tsattn.benchmark.runner import RunSettings
    from tsattn.models import PatchTST

    data = np.cumsum(np.random.default_rng(0).normal(size=(300, 3)), axis=0).astype(np.float32)
    model = PatchTST(
        h=8, input_size=32, d_model=8, n_heads=2, n_layers=1, max_epochs=1, seed=0,
        progress=False,
    ).fit_arrays(data[:200], data[170:240])  # fmt: skip
    windows = np.lib.stride_tricks.sliding_window_view(data[200:], 32, axis=0)  # (N, C, L)
    windows = np.ascontiguousarray(windows.transpose(0, 2, 1))  # (N, L, C)
    batches = (1, 7, 64, RunSettings(32, False, None, None, "cpu", False).eval_batch_size)
    forecasts = [model.predict_windows(windows, batch_size=b) for b in batches]
    assert all(np.array_equal(forecasts[0], f) for f in forecasts[1:])
    scores = [
        score_windows(functools.partial(model.predict_windows, batch_size=b), data[200:], 32, 8,
                      batch_size=b)
        for b in batches
    ]  # fmt: skip
    assert len({s.n_windows for s in scores}) == 1
    for s in scores[1:]:
        assert s.mse == pytest.approx(scores[0].mse, rel=1e-13, abs=0)
        assert s.mae == pytest.approx(scores[0].mae, rel=1e-13, abs=0)
        np.testing.assert_allclose(s.mse_by_step, scores[0].mse_by_step, rtol=1e-13)
