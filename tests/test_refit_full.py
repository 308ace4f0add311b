"""``refit_full``: after early stopping, a fresh network trained on every window (the
validation holdout's included) for the steps of the kept epoch replaces the first one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import tsattn
from tsattn.training.config import TrainingConfig

QUIET = {"max_steps": 60, "progress": False}


def trending(n: int = 200) -> pd.DataFrame:
    """A series whose last steps (the holdout) differ from the rest: a level shift."""
    t = np.arange(n)
    y = 10 + np.sin(2 * np.pi * t / 24) + np.where(t >= n - 12, 3.0, 0.0)
    return pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2020-01-01", periods=n, freq="h"), "y": y}
    )


def test_refit_trains_on_every_window_for_the_kept_epochs_steps():
    df = trending()
    plain = tsattn.NLinear(h=12, **QUIET).fit(df)
    refit = tsattn.NLinear(h=12, refit_full=True, **QUIET).fit(df)
    kept = refit.train_result_.history[refit.train_result_.best_epoch].steps
    assert refit.refit_result_.history[-1].steps == kept
    assert refit.refit_result_.history[-1].val_loss is None  # no holdout the second time
    assert refit.training_summary()["refit_steps"] == kept
    assert plain.refit_result_ is None and "refit_steps" not in plain.training_summary()
    # the holdout errors are the first network's (the same seed: the plain model's)
    assert refit.holdout_errors_ == plain.holdout_errors_
    # the refit network has seen the shifted holdout: its forecast differs
    assert not np.allclose(refit.predict()["NLinear"], plain.predict()["NLinear"])


def test_a_refit_model_saves_and_loads(tmp_path):
    model = tsattn.PatchTST(h=12, refit_full=True, d_model=8, n_heads=2, d_ff=16, **QUIET)
    model.fit(trending())
    model.save(tmp_path / "m.safetensors")
    loaded = tsattn.load(tmp_path / "m.safetensors")
    assert loaded.get_params()["refit_full"] is True
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


def test_refit_full_is_checked_by_name():
    with pytest.raises(ValueError, match="refit_full"):
        TrainingConfig(refit_full="yes")
    with pytest.raises(ValueError, match="refit_full"):
        tsattn.DLinear(h=4, refit_full=1.5)


def test_without_a_holdout_there_is_nothing_to_refit():
    model = tsattn.NLinear(h=12, refit_full=True, **QUIET).fit(trending(), val_size=0)
    assert model.refit_result_ is None
    assert torch.isfinite(torch.as_tensor(model.predict()["NLinear"].to_numpy())).all()
