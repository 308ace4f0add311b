"""Numerical robustness of the neural forecasters on CPU.

Same seed and data give bit-identical forecasts; constant series (zero standard
deviation), values at 1e9 and 1e-9 scale and one-step horizons give finite forecasts through
RevIN and the per-series scaling, in the scale of the data; a constant series is forecast as
(close to) its constant.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsattn.models import DLinear, NLinear, PatchTST, Transformer
from tsattn.nn import RevIN

TINY = dict(batch_size=32, progress=False, device="cpu")
ENCODER = dict(d_model=8, n_heads=2, n_layers=1, d_ff=16)

MODELS = {
    "patchtst": lambda h, epochs=1: PatchTST(
        h=h, input_size=24, patch_len=8, stride=4, max_epochs=epochs, **ENCODER, **TINY
    ),
    "dlinear": lambda h, epochs=1: DLinear(h=h, input_size=24, max_epochs=epochs, **TINY),
    "nlinear": lambda h, epochs=1: NLinear(h=h, input_size=24, max_epochs=epochs, **TINY),
    "transformer": lambda h, epochs=1: Transformer(
        h=h, input_size=32, max_epochs=epochs, **ENCODER, **TINY
    ),
}


def frame(values: np.ndarray, n_series: int = 2) -> pd.DataFrame:
    """``n_series`` hourly series; series i is ``values * (1 + 0.1 i)``."""
    ds = pd.date_range("2024-01-01", periods=len(values), freq="h")
    parts = [
        pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": values * (1 + 0.1 * i)})
        for i in range(n_series)
    ]
    return pd.concat(parts, ignore_index=True)


def wave(n: int = 120, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 1.0 + 0.3 * np.sin(2 * np.pi * t / 24) + 0.05 * rng.standard_normal(n)


def forecast(model, df: pd.DataFrame) -> np.ndarray:
    return model.fit(df).predict()[model.name].to_numpy()


# ---- determinism -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["patchtst", "dlinear"])
@pytest.mark.parametrize("epochs", [1, 2])
def test_same_seed_same_data_identical_forecasts(name, epochs):
    df = frame(wave())
    first = forecast(MODELS[name](6, epochs), df)
    torch.manual_seed(1234)  # the global RNG state must not leak into a seeded fit
    np.random.seed(1234)
    torch.rand(3)
    second = forecast(MODELS[name](6, epochs), df)
    assert np.array_equal(first, second)


def test_different_seeds_differ():
    df = frame(wave())
    options = dict(h=6, input_size=24, patch_len=8, stride=4, max_epochs=1, **ENCODER, **TINY)
    a = forecast(PatchTST(**options), df)
    assert not np.array_equal(a, forecast(PatchTST(**options, seed=1), df))


# ---- extreme scales ----------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("scale", [1e9, 1e-9], ids=["1e9", "1e-9"])
@pytest.mark.parametrize("h", [1, 6])
def test_extreme_scales_give_finite_forecasts_in_the_data_scale(name, scale, h):
    values = wave() * scale
    out = forecast(MODELS[name](h), frame(values))
    assert out.shape == (2 * h,)
    assert np.isfinite(out).all()
    # the networks are barely trained, but forecasts must live at the data's scale
    # (1e-9 data forecast at 1e-3 means an absolute epsilon swamped the data)
    assert np.all(np.abs(out) < 10 * scale), out
    assert np.mean(np.abs(out)) > 0.1 * scale, out


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("level", [0.0, 5.0, -3.0, 1e9, 1e-9], ids=str)
@pytest.mark.parametrize("h", [1, 6])
def test_constant_series_forecast_is_the_constant(name, level, h):
    out = forecast(MODELS[name](h), frame(np.full(120, level), n_series=1))
    assert np.isfinite(out).all()
    if name == "patchtst":
        # RevIN: a constant window has scale sqrt(eps) * min(1, |level|), so the untrained
        # network's output moves the forecast by a small fraction of the level only
        np.testing.assert_allclose(out, level, rtol=1e-2, atol=1e-12)
    else:
        # per-series standardisation maps a zero-std series to zeros with std 1, so the
        # forecast is the level plus the (barely trained) network's output at zero input:
        # bounded in absolute terms, exact relative to large levels
        np.testing.assert_allclose(out, level, rtol=1e-6, atol=1.0)


def test_constant_series_history_in_predict():
    """A model fitted on varying data forecasts a constant history without NaN."""
    for name, make in MODELS.items():
        model = make(4).fit(frame(wave() * 10))
        history = frame(np.full(60, 7.0))
        out = model.predict(df=history)[model.name].to_numpy()
        assert np.isfinite(out).all(), name


def test_mixed_scales_in_one_fit():
    """Series at 1e-9 and 1e9 fitted together: each forecast stays at its own scale."""
    ds = pd.date_range("2024-01-01", periods=120, freq="h")
    df = pd.concat(
        [
            pd.DataFrame({"unique_id": "small", "ds": ds, "y": wave() * 1e-9}),
            pd.DataFrame({"unique_id": "large", "ds": ds, "y": wave(seed=1) * 1e9}),
        ],
        ignore_index=True,
    )
    for name in ("patchtst", "dlinear", "nlinear"):
        out = MODELS[name](6).fit(df).predict()
        for uid, scale in (("small", 1e-9), ("large", 1e9)):
            values = out.loc[out.unique_id == uid, out.columns[-1]].to_numpy()
            assert np.isfinite(values).all()
            assert 0.1 * scale < np.mean(np.abs(values)) < 10 * scale, (name, uid, values)


# ---- RevIN itself ------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-30, 1e-9, 1.0, 1e9, 1e30])
def test_revin_normalises_by_the_window_spread_at_any_scale(scale):
    torch.manual_seed(0)
    x = (torch.randn(4, 48, 2, dtype=torch.float64) * scale + 3 * scale).float()
    z, stats = RevIN(n_channels=2).normalize(x)
    assert torch.isfinite(z).all()
    # unit spread after normalising, whatever the scale
    torch.testing.assert_close(z.std(dim=1, unbiased=False), torch.ones(4, 2), rtol=1e-3, atol=0)
    back = RevIN(n_channels=2).denormalize(z, stats)
    torch.testing.assert_close(back, x, rtol=1e-4, atol=0)


@pytest.mark.parametrize("level", [0.0, 1e-9, 7.0, 3e9])
def test_revin_constant_window(level):
    x = torch.full((2, 24, 1), level)
    z, stats = RevIN().normalize(x)
    assert torch.isfinite(z).all() and torch.isfinite(stats.scale).all()
    assert (stats.scale > 0).all()
    out = RevIN().denormalize(torch.ones(2, 6, 1), stats)  # a unit network output
    torch.testing.assert_close(out, torch.full((2, 6, 1), level), rtol=1e-2, atol=1e-30)
