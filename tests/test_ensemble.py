"""``ensemble_size``: networks trained side by side, forecasting as their mean."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import tsattn
from tsattn.nn.ensemble import NetworkEnsemble
from tsattn.training.config import TrainingConfig
from tsattn.training.engine import train_network

TINY = {"max_steps": 30, "progress": False, "d_model": 8, "n_heads": 2, "d_ff": 16}


def hourly(n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 50 + 10 * np.sin(2 * np.pi * t / 24) + rng.normal(size=n)
    return pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2020-01-01", periods=n, freq="h"), "y": y}
    )


def test_training_mode_stacks_the_members_and_eval_mode_takes_their_mean():
    members = [nn.Linear(4, 3) for _ in range(3)]
    ensemble = NetworkEnsemble(members)
    x = torch.randn(5, 4)
    stacked = ensemble.train()(x)
    assert stacked.shape == (3, 5, 3)
    for k, member in enumerate(members):
        torch.testing.assert_close(stacked[k], member(x))
    torch.testing.assert_close(ensemble.eval()(x), stacked.mean(dim=0))


def test_an_ensemble_needs_two_members_and_a_size_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 2 members"):
        NetworkEnsemble([nn.Linear(2, 2)])
    with pytest.raises(ValueError, match="ensemble_size"):
        TrainingConfig(ensemble_size=0)
    with pytest.raises(ValueError, match="ensemble_size"):
        tsattn.PatchTST(h=4, ensemble_size=1.5)


def test_each_member_trains_exactly_as_it_would_alone():
    """Same batches, own loss, own gradient clipping: with no dropout, member 0 of an
    ensemble ends with the weights the same network gets trained alone from its init."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    train = rng.normal(size=(200, 1)).cumsum(axis=0).astype(np.float32)
    first = nn.Sequential(nn.Flatten(), nn.Linear(24, 6))
    second = nn.Sequential(nn.Flatten(), nn.Linear(24, 6))
    alone = copy.deepcopy(first)
    config = TrainingConfig(max_epochs=2, batch_size=16, lr=1e-2, grad_clip=0.5, progress=False)

    class Shaped(nn.Module):  # (B, 24, 1) -> (B, 6, 1)
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x)[..., None]

    ensemble = NetworkEnsemble([Shaped(first), Shaped(second)])
    train_network(ensemble, train, None, 24, 6, config)
    train_network(Shaped(alone), train, None, 24, 6, config)
    for a, b in zip(first.parameters(), alone.parameters()):
        torch.testing.assert_close(a, b)
    assert not torch.allclose(first[1].weight, second[1].weight)  # members differ


def test_the_forecaster_trains_an_ensemble_whose_members_differ():
    model = tsattn.PatchTST(h=12, ensemble_size=3, **TINY).fit(hourly())
    network = model.network_
    assert isinstance(network, NetworkEnsemble) and network.n_members == 3
    weights = [next(m.parameters()).detach() for m in network.members]
    assert not torch.allclose(weights[0], weights[1])
    assert model.get_params()["ensemble_size"] == 3
    assert model.predict()["PatchTST"].notna().all()


def test_the_ensemble_forecast_is_the_members_mean_in_the_original_scale():
    df = hourly()
    model = tsattn.NLinear(h=12, ensemble_size=2, max_steps=30, progress=False).fit(df)
    both = model.predict()["NLinear"].to_numpy()
    members = model.network_.members
    singles = []
    for member in members:
        model.network_ = member
        singles.append(model.predict()["NLinear"].to_numpy())
    np.testing.assert_allclose(both, np.mean(singles, axis=0), rtol=1e-5)
    assert not np.allclose(singles[0], singles[1])


def test_an_ensemble_saves_and_loads_and_a_forged_size_is_refused(tmp_path):
    model = tsattn.PatchTST(h=12, ensemble_size=2, **TINY).fit(hourly())
    path = tmp_path / "model.tsattn"
    model.save(path)
    loaded = tsattn.load(path)
    assert isinstance(loaded.network_, NetworkEnsemble)
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    single = tsattn.PatchTST(h=12, **TINY).fit(hourly())
    single_path = tmp_path / "single.tsattn"
    single.save(single_path)
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(single_path), "pt") as handle:
        header, tensors = handle.metadata(), {k: handle.get_tensor(k) for k in handle.keys()}
    header["params"] = header["params"].replace('"ensemble_size": 1', '"ensemble_size": 2')
    assert '"ensemble_size": 2' in header["params"]
    forged = tmp_path / "forged.tsattn"
    save_file(tensors, str(forged), metadata=header)
    refused = "larger than the file|saved network tensors do not match params"
    with pytest.raises(ValueError, match=refused):
        tsattn.load(forged)


def test_an_ensemble_of_quantile_networks_gives_ordered_intervals():
    model = tsattn.PatchTST(h=12, ensemble_size=2, loss="quantile", **TINY).fit(hourly())
    out = model.predict(level=[80, 95])
    lo95, lo80 = out["PatchTST-lo-95"], out["PatchTST-lo-80"]
    hi80, hi95 = out["PatchTST-hi-80"], out["PatchTST-hi-95"]
    assert (lo95 <= lo80).all() and (lo80 <= out["PatchTST"]).all()
    assert (out["PatchTST"] <= hi80).all() and (hi80 <= hi95).all()
