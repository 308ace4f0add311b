"""The window-level entry every benchmarkable forecaster has: ``fit_arrays(train, val)`` and
``predict_windows(x (B, L, C)) -> (B, h, C)``, which the benchmark runner calls and nothing else."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.data_dir import DATA_DIR, needs_data
from tsattn.models import MODELS, Naive, SeasonalNaive
from tsattn.models.neural import NeuralForecaster

INPUT, HORIZON, CHANNELS = 32, 8, 3
TINY = {
    "patchtst": {
        "d_model": 8,
        "n_heads": 2,
        "d_ff": 16,
        "n_layers": 1,
        "patch_len": 8,
        "stride": 8,
    },
    "transformer": {"d_model": 8, "n_heads": 2, "d_ff": 16, "n_layers": 1},
    "vanilla_transformer": {"d_model": 8, "n_heads": 2, "d_ff": 16, "n_layers": 1},
}
NEURAL = sorted(name for name in MODELS.names() if issubclass(MODELS.get(name), NeuralForecaster))


def _series(rows: int = 200, channels: int = CHANNELS) -> np.ndarray:
    """(rows, channels) float32 sines of different phases."""
    t = np.arange(rows, dtype=np.float32)[:, None]
    return np.sin(t / 5.0 + np.arange(channels, dtype=np.float32)).astype(np.float32)


def _neural(name: str, **options) -> NeuralForecaster:
    settings = {"max_epochs": 1, "batch_size": 16, "progress": False, "device": "cpu"}
    return MODELS.get(name)(
        h=HORIZON, input_size=INPUT, **TINY.get(name, {}), **settings, **options
    )


def test_the_neural_models_are_found():
    assert {"patchtst", "transformer", "dlinear", "nlinear"} <= set(NEURAL)


@pytest.mark.parametrize("name", NEURAL)
def test_fit_arrays_then_predict_windows_shapes(name):
    data = _series()
    model = _neural(name).fit_arrays(data[:140], data[140 - INPUT :])
    x = np.stack([data[i : i + INPUT] for i in range(5)])  # (5, L, C)
    out = model.predict_windows(x)
    assert out.shape == (5, HORIZON, CHANNELS) and np.isfinite(out).all()
    # another batch size changes the matmul shapes, so only float rounding (why the runner
    # passes its own eval batch size: its numbers stay bitwise the same)
    np.testing.assert_allclose(model.predict_windows(x, batch_size=2), out, atol=1e-6)
    summary = model.training_summary()
    assert summary["epochs"] == 1 and summary["parameters"] > 0
    assert summary["best_val_loss"] is not None


@pytest.mark.parametrize("name", NEURAL)
def test_predict_windows_refuses_wrong_shapes_and_an_unfitted_model(name):
    model = _neural(name)
    with pytest.raises(ValueError, match="not fitted"):
        model.predict_windows(np.zeros((1, INPUT, CHANNELS)))
    model.fit_arrays(_series())
    with pytest.raises(ValueError, match="input_size"):
        model.predict_windows(np.zeros((1, INPUT + 1, CHANNELS)))
    with pytest.raises(ValueError, match="array"):
        model.predict_windows(np.zeros((INPUT, CHANNELS)))


@pytest.mark.parametrize("name", NEURAL)
def test_predict_and_predict_windows_agree_on_the_same_window(name):
    data = _series(rows=160)
    ds = pd.date_range("2024-01-01", periods=len(data), freq="h")
    wide = pd.DataFrame(data.astype(np.float64), columns=["a", "b", "c"]).assign(ds=ds)
    model = _neural(name).fit(wide)
    frame = model.predict()  # original scale, one row per (series, step)
    ids = ["a", "b", "c"]
    scaled = model._scaler.transform(ids, [data[:, i].astype(np.float64) for i in range(3)])
    window = np.stack(scaled, axis=1)[-INPUT:]  # (L, C) in the network's scale
    if model.joint_channels:
        out = model.predict_windows(window[None])[0].T  # (C, H)
    else:
        out = model.predict_windows(window.T[:, :, None])[:, :, 0]  # (C, H): one window each
    expected = model._scaler.inverse(ids, out.astype(np.float64), model._history.values)
    got = np.stack([frame.loc[frame.unique_id == i, model.name].to_numpy() for i in ids])
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_a_joint_model_refuses_other_channel_counts():
    model = _neural("transformer", channel_independent=False).fit_arrays(_series())
    with pytest.raises(ValueError, match="3 channels"):
        model.predict_windows(np.zeros((1, INPUT, 2), dtype=np.float32))


def test_naive_models_on_windows():
    x = _series()[None, :INPUT].repeat(4, axis=0)  # (4, L, C)
    naive = Naive(h=HORIZON).fit_arrays(_series())
    np.testing.assert_array_equal(naive.predict_windows(x), np.repeat(x[:, -1:], HORIZON, 1))
    seasonal = SeasonalNaive(season_length=5, h=HORIZON).fit_arrays(_series())
    out = seasonal.predict_windows(x)
    assert out.shape == (4, HORIZON, CHANNELS)
    np.testing.assert_array_equal(out[:, :5], x[:, -5:])
    np.testing.assert_array_equal(out[:, 5:], x[:, -5:-2])
    with pytest.raises(ValueError, match="season_length"):
        SeasonalNaive(season_length=INPUT + 1, h=2).predict_windows(x)


@pytest.mark.parametrize("name", ["ets", "theta", "sklearn"])
def test_models_that_fit_per_series_have_no_window_entry(name):
    cls = MODELS.get(name)
    assert not cls.supports_windows
    model = cls.__new__(cls)  # no constructor arguments needed to reach the refusal
    for call in (lambda: model.fit_arrays(_series()), lambda: model.predict_windows(None)):
        with pytest.raises(NotImplementedError, match="fits per series"):
            call()


@needs_data
def test_the_runner_reports_what_a_direct_naive_computation_gives(tmp_path):
    from tsattn.benchmark.runner import run_benchmark
    from tsattn.datasets import benchmark_split

    result = run_benchmark(
        "ETTh1",
        ["naive"],
        horizons=[24],
        input_size=96,
        out_dir=tmp_path,
        data_dir=DATA_DIR,
        legacy_drop_last=128,
    )
    split = benchmark_split("ETTh1", 96, 24, data_dir=DATA_DIR)
    inputs, targets = split.window_view("test")
    n = len(inputs) // 128 * 128
    error = np.repeat(inputs[:n, -1:], 24, axis=1).astype(np.float64) - targets[:n]
    assert result["test_windows"].item() == n
    assert result["mse"].item() == pytest.approx(float((error**2).mean()), rel=1e-9)
    assert result["mae"].item() == pytest.approx(float(np.abs(error).mean()), rel=1e-9)
