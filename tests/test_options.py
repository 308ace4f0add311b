"""Issue 16, part 3: neural options have one source of truth and a visible signature."""

from __future__ import annotations

import inspect
import pydoc

import numpy as np
import pandas as pd
import pytest
import torch

import tsattn
from tsattn.models import DLinear, PatchTST, Transformer
from tsattn.models.patchtst import PatchTSTConfig, PatchTSTNetwork
from tsattn.training import TrainingConfig

TINY = dict(progress=False, device="cpu", batch_size=16)


def frame(n: int = 80) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2024-01-01", periods=n, freq="h"),
            "y": np.sin(np.arange(n) / 4.0),
        }
    )


def test_assigning_an_option_takes_effect_in_training_and_in_get_params():
    model = DLinear(h=4, input_size=16, max_epochs=1, **TINY)
    model.max_epochs, model.lr = 3, 1e-3
    model.fit(frame())
    assert len(model.train_result_.history) == 3
    assert model.get_params()["lr"] == model.training_config.lr == 1e-3


def test_a_bad_assigned_option_is_refused_at_fit():
    model = DLinear(h=4, input_size=16, max_epochs=1, **TINY)
    model.batch_size = 0
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(frame())


@pytest.mark.parametrize("attention", ["mlr", "btt", "sliding"])
def test_seeded_weights_do_not_depend_on_validation(attention):
    """The network equals one built straight from the seed, whatever validation does."""
    model = PatchTST(h=4, input_size=32, attention=attention, seed=3, **TINY)
    config = model.network_config(n_channels=1)
    torch.manual_seed(3)
    direct = PatchTSTNetwork(config)
    torch.rand(1000)  # a moved global RNG must not matter either
    built = model.build_network(1)
    for (name, a), (_, b) in zip(direct.state_dict().items(), built.state_dict().items()):
        assert torch.equal(a, b), name


def test_constructing_a_model_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    PatchTST(h=4, input_size=32, attention="mlr", **TINY)
    Transformer(h=4, input_size=32, d_model=16, n_heads=2, **TINY)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("cls", [PatchTST, Transformer, DLinear, tsattn.NLinear])
def test_signature_and_help_list_every_option(cls):
    signature = inspect.signature(cls)
    network = [
        f
        for f in cls.config_class.__dataclass_fields__
        if f not in ("input_size", "horizon", "n_channels")
    ]
    training = list(TrainingConfig.__dataclass_fields__)
    for name in [*network, *training, "h", "input_size", "config", "training"]:
        assert name in signature.parameters, name
    text = pydoc.render_doc(cls)
    for name in [*network, *training]:
        assert f"{name}=" in text, name


def test_config_and_training_objects_set_options_and_keywords_win():
    model = PatchTST(
        h=4,
        input_size=32,
        config=PatchTSTConfig(input_size=32, horizon=4, d_model=8, n_heads=2, patch_len=8),
        training=TrainingConfig(lr=0.01, max_epochs=2),
        lr=0.02,
        **TINY,
    )
    assert (model.d_model, model.n_heads, model.patch_len) == (8, 2, 8)
    assert (model.lr, model.max_epochs) == (0.02, 2)
    assert "config" not in model.get_params() and "training" not in model.get_params()
    with pytest.raises(ValueError, match="training must be a TrainingConfig"):
        PatchTST(h=4, input_size=32, training={"lr": 0.1})


def test_an_unregistered_attention_class_is_refused_at_save(tmp_path):
    from tsattn.attention.softmax import SoftmaxScorer

    class Mine(SoftmaxScorer):
        pass

    model = PatchTST(h=4, input_size=32, attention=Mine, max_epochs=1, **TINY).fit(frame())
    assert model.get_params()["attention"] is Mine
    with pytest.raises(ValueError, match="unregistered class"):
        model.save(tmp_path / "m.safetensors")
    registered = PatchTST(h=4, input_size=32, attention=SoftmaxScorer, max_epochs=1, **TINY)
    assert registered.get_params()["attention"] == "softmax"
