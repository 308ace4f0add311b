"""The two regimes as named recipes, resolved by one function (tsattn.models.recipes) that the
constructors, fit, fit_arrays and the benchmark runner all call."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import tsattn
from tsattn.models import DLinear, PatchTST, Transformer
from tsattn.models.recipes import (
    QUICK,
    DataFacts,
    parse_recipe,
    recipe_defaults,
    reference_hyperparameters,
    resolve_options,
)
from tsattn.models.user_defaults import step_budget
from tsattn.training.config import TrainingConfig

from .data_dir import DATA_DIR


@pytest.mark.parametrize("text", ["users", "literature", "literature:", "literature:ETTh1:slow"])
def test_an_unknown_recipe_names_the_accepted_forms(text):
    with pytest.raises(ValueError, match="unknown recipe.*'user'.*literature:<dataset>"):
        parse_recipe(text)
    with pytest.raises(ValueError, match="unknown recipe"):
        PatchTST(h=6, recipe=text)


def test_recipe_names_round_trip():
    for text in ("user", "literature:ETTh1", "literature:weather:quick"):
        assert parse_recipe(text).name == text


def test_precedence_recipe_then_training_object_then_keywords():
    training = TrainingConfig(lr=5e-3, batch_size=7)
    resolved = resolve_options(
        PatchTST, h=6, recipe="literature:ETTh1", training=training, keywords={"lr": 2e-3}
    ).options
    assert resolved["lr"] == 2e-3  # the keyword wins over the training object
    assert resolved["batch_size"] == 7  # the training object wins over the recipe
    assert resolved["lr_schedule"] == TrainingConfig().lr_schedule  # the object's own default
    assert resolved["d_ff"] == reference_hyperparameters("ETTh1").d_ff  # the recipe


def test_the_literature_architecture_is_patchtsts_only():
    ettm = reference_hyperparameters("ETTm1")
    patchtst = recipe_defaults(PatchTST, "literature:ETTm1")
    transformer = recipe_defaults(Transformer, "literature:ETTm1")
    assert patchtst["d_model"] == ettm.d_model == 128
    assert transformer["d_model"] == 512  # its own paper size, not the reference's 128
    assert transformer["lr_schedule"] == patchtst["lr_schedule"] == "onecycle"


def test_quick_caps_windows_per_epoch_even_over_keywords():
    def windows(value):
        keywords = {} if value is None else {"windows_per_epoch": value}
        resolved = resolve_options(DLinear, 6, 24, "literature:ETTh1:quick", keywords)
        return resolved.options["windows_per_epoch"]

    cap = QUICK["windows_per_epoch"]
    assert (windows(None), windows(10**6), windows(100)) == (cap, cap, 100)


def test_the_data_decides_look_back_holdout_and_budget():
    facts = DataFacts(lengths=(200, 300), season=12, seasonal=True)
    resolved = resolve_options(DLinear, h=6, data=facts)
    assert resolved.holdout == 6 and resolved.lookback == 24  # max(3 h, 2 x 12, 16)
    windows = (200 - 6 - 24 - 6 + 1) + (300 - 6 - 24 - 6 + 1)
    assert resolved.options["max_steps"] == step_budget(windows, 32)
    fixed = resolve_options(DLinear, h=6, input_size=30, keywords={"max_steps": 50}, data=facts)
    assert fixed.lookback == 30 and fixed.options["max_steps"] == 50
    assert resolve_options(DLinear, h=6, data=DataFacts((200,), val_size=0)).holdout == 0


def test_a_season_that_does_not_pay_stays_out_of_the_look_back():
    """Two seasons (or two of the longest cycle) of look-back only when the seasonal naive
    wins on the history; else max(3 h, 16)."""
    weekly = DataFacts(lengths=(700,), season=52, seasonal=False)
    assert resolve_options(DLinear, h=8, data=weekly).lookback == 24  # 3 h, not 104
    seasonal = dataclasses.replace(weekly, seasonal=True)
    assert resolve_options(DLinear, h=8, data=seasonal).lookback == 104  # 2 x 52
    many = DataFacts(lengths=(900,) * 400, season=24, cycle=168, seasonal=False)
    assert resolve_options(DLinear, h=48, data=many).lookback == 144  # 3 h, not 2 x 168
    assert resolve_options(DLinear, h=2, data=DataFacts((300,), season=7)).lookback == 16


def test_fit_arrays_keeps_the_user_step_budget(monkeypatch):
    """The issue's bug: fit_arrays turned max_steps="auto" into no limit. It now gets the
    same step budget a fit on the same windows gets."""
    import tsattn.models.neural as neural

    seen = {}
    original = neural.train_network

    def spy(network, train, val, lookback, h, config, **kwargs):
        seen["max_steps"] = config.max_steps
        return original(network, train, val, lookback, h, config, **kwargs)

    monkeypatch.setattr(neural, "train_network", spy)
    model = DLinear(h=4, input_size=16, max_epochs=1, progress=False, device="cpu")
    model.fit_arrays(np.sin(np.arange(500) / 3.0)[:, None].astype(np.float32))
    assert seen["max_steps"] == step_budget(500 - 16 - 4 + 1, 32)
    literature = DLinear(h=4, input_size=16, recipe="literature:ETTh1", max_epochs=1)
    literature.fit_arrays(np.sin(np.arange(100) / 3.0)[:, None].astype(np.float32))
    assert seen["max_steps"] is None  # the literature recipe counts epochs, not steps


def test_the_runner_builds_its_models_through_the_recipe():
    from tsattn.benchmark.runner import RunSettings, _build_model
    from tsattn.datasets import benchmark_split
    from tsattn.models.factory import parse_model_spec

    split = benchmark_split("ETTh1", 96, 24, data_dir=DATA_DIR)
    settings = RunSettings(96, True, None, None, "cpu", False)
    model = _build_model("ETTh1", parse_model_spec("patchtst:lr=3e-3"), split, 0, settings)
    expected = resolve_options(
        PatchTST, 24, 96, "literature:ETTh1:quick", {"lr": 3e-3, "device": "cpu"}
    ).options
    assert model.recipe == "literature:ETTh1:quick"
    assert {k: getattr(model, k) for k in ("lr", "d_ff", "max_epochs", "lr_schedule")} == {
        k: expected[k] for k in ("lr", "d_ff", "max_epochs", "lr_schedule")
    }


def test_a_misspelt_option_assignment_is_refused():
    model = PatchTST(h=6)
    model.lr = 5e-3  # an option: takes effect
    assert model.training_config.lr == 5e-3
    with pytest.raises(AttributeError, match="no option 'lrr' \\(did you mean 'lr'\\?\\)"):
        model.lrr = 1
    with pytest.raises(AttributeError, match="season_length"):
        tsattn.SeasonalNaive(h=2, season_length=3).seasonlength = 2


def test_attention_dropout_has_one_option():
    with pytest.raises(ValueError, match="attention_options may not set 'dropout'"):
        PatchTST(h=6, attention_options={"dropout": 0.1})
    assert PatchTST(h=6, attention_dropout=0.1).network_config(1).attention_dropout == 0.1


def test_the_recipe_survives_save_and_load(tmp_path):
    t = np.arange(120)
    df = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2020", periods=120, freq="h"), "y": np.sin(t)}
    )
    model = DLinear(h=6, input_size=24, recipe="literature:ETTh1", max_epochs=1, device="cpu")
    loaded = tsattn.load(model.fit(df).save(tmp_path / "d.safetensors"))
    assert loaded.recipe == "literature:ETTh1" and loaded.lr == 1e-4
