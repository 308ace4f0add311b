"""Issue 27, item 1: the training bar counts the unit that ends the run, with a true total,
and names the model being trained."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from tsattn.training import engine
from tsattn.training.config import TrainingConfig


@pytest.fixture
def bars(monkeypatch) -> list:
    """Every tqdm bar the engine creates (their total, unit, desc and final count)."""
    made = []
    real = engine.tqdm

    def spy(*args, **kwargs):
        kwargs["disable"] = False
        bar = real(*args, **kwargs, file=io.StringIO())
        made.append(bar)
        return bar

    monkeypatch.setattr(engine, "tqdm", spy)
    return made


def _series(n: int = 200) -> pd.DataFrame:
    t = np.arange(n)
    ds = pd.date_range("2024-01-01", periods=n, freq="h")
    noise = np.random.default_rng(0).normal(0, 0.3, n)
    return pd.DataFrame({"unique_id": "a", "ds": ds, "y": np.sin(2 * np.pi * t / 24) + noise})


TINY = {"d_model": 8, "n_heads": 2, "n_layers": 1, "input_size": 24, "batch_size": 16}


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_steps_bar_when_max_steps_binds(bars):
    from tsattn import PatchTST

    PatchTST(h=6, max_steps=5, max_epochs=1000, alias="mine", **TINY).fit(_series())
    (bar,) = bars
    assert (bar.total, bar.unit, bar.desc, bar.n) == (5, "step", "mine", 5)
    assert bar.postfix.startswith("epoch=")  # epochs shown beside the steps


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_epochs_bar_when_epochs_bind(bars):
    from tsattn import PatchTST

    PatchTST(h=6, max_steps=10_000, max_epochs=2, **TINY).fit(_series())
    (bar,) = bars
    assert (bar.total, bar.unit, bar.desc, bar.n) == (2, "epoch", "PatchTST", 2)


@pytest.mark.parametrize(
    ("max_epochs", "max_steps", "expected"),
    [(1000, 100, ("steps", 100)), (3, 100, ("epochs", 3)), (10, None, ("epochs", 10)),
     (25, 100, ("epochs", 25)), (24, 96, ("epochs", 24)), (24, 95, ("steps", 95))],
)  # fmt: skip
def test_plan_total_is_the_minimum(max_epochs, max_steps, expected):
    config = TrainingConfig(max_epochs=max_epochs, max_steps=max_steps)
    assert engine.Progress.plan(config, steps_per_epoch=4) == expected


def test_array_training_bar_is_labelled(bars):
    from tsattn.models.linear import NLinearConfig, NLinearNetwork

    net = NLinearNetwork(NLinearConfig(input_size=24, horizon=6))
    data = np.sin(np.arange(300) / 4.0)[:, None]
    config = TrainingConfig(max_epochs=50, max_steps=3, lr=1e-2, batch_size=64)
    engine.train_network(net, data[:240], data[216:], 24, 6, config, label="NLinear")
    (bar,) = bars
    assert (bar.total, bar.unit, bar.desc, bar.n) == (3, "step", "NLinear", 3)
