"""tsattn.tune and AutoForecaster(tune=...) (issue 24): tiny networks, a few trials."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import tsattn
from tsattn.auto import AutoForecaster, default_search_space, tune
from tsattn.auto.tune import ATTENTION_VARIANTS, build

optuna = pytest.importorskip("optuna", reason='Optuna is not installed: pip install "tsattn[tune]"')

#: a PatchTST that trains in a blink
TINY = "patchtst:max_steps=8:n_layers=1:d_ff=16:n_heads=2:batch_size=16:device=cpu"


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    t = np.arange(200)
    rng = np.random.default_rng(0)
    y = 5 + np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.1, 200)
    ds = pd.date_range("2024-01-01", periods=200, freq="h")
    return pd.DataFrame({"unique_id": "a", "ds": ds, "y": y})


def test_the_default_space_searches_the_attention_beside_the_usual_options():
    space = default_search_space("patchtst", h=12, max_input=100)
    assert {"attention", "input_size", "patch_len", "d_model", "lr", "dropout"} <= set(space)
    assert {"softmax", "mlr", "btt", "none"} <= set(space["attention"])
    assert space["input_size"] == [None, 24, 48, 96]
    assert "attention" not in default_search_space("dlinear", h=12, max_input=100)
    with pytest.raises(ValueError, match="no default search space"):
        default_search_space("ets", h=12, max_input=100)


@pytest.mark.parametrize("variant", list(ATTENTION_VARIANTS))
def test_every_attention_variant_builds_a_model(variant):
    base = tsattn.PatchTST(h=6, d_model=16, n_heads=2)
    model = build(base, {"attention": variant, "patch_len": 8, "input_size": 24})
    expected, _ = ATTENTION_VARIANTS[variant]
    assert model.attention == expected and model.stride == 4
    if variant == "none":
        assert model.attention_options == {"window": 0}  # each patch sees itself only


def test_a_search_finds_a_model_no_worse_than_the_defaults(df):
    space = {"attention": ["btt", "softmax", "none"], "lr": ("log", 1e-3, 1e-2)}
    result = tune(TINY, df, h=6, search_space=space, n_trials=4, n_windows=2)
    trials = result.trials
    assert len(trials) == 4 and set(trials["state"]) <= {"COMPLETE", "PRUNED"}
    assert trials.loc[0, "params_attention"] == "btt"  # the defaults (users': BTT) come first
    assert trials.loc[0, "params_lr"] == pytest.approx(1e-3)
    assert result.value <= trials.loc[0, "value"]
    assert isinstance(result.model, tsattn.PatchTST)
    assert result.model.attention == ATTENTION_VARIANTS[result.params["attention"]][0]
    assert np.isfinite(result.model.fit(df).predict()[result.model.name]).all()


def test_a_resumed_study_continues_its_trials(df, tmp_path):
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    space = {"lr": ("log", 1e-3, 1e-2)}
    first = tune(TINY, df, h=6, search_space=space, n_trials=2, storage=storage)
    assert len(first.trials) == 2
    again = tune(TINY, df, h=6, search_space=space, n_trials=3, storage=storage)
    assert list(again.trials["number"]) == [0, 1, 2]  # one more trial, the first two kept
    kept = again.trials.loc[:1, "params_lr"].to_numpy()
    np.testing.assert_allclose(kept, first.trials["params_lr"].to_numpy())
    done = tune(TINY, df, h=6, search_space=space, n_trials=3, storage=storage)
    assert len(done.trials) == 3  # nothing left to do


def test_a_callable_space_and_a_class(df):
    def space(trial):
        return {"input_size": trial.suggest_categorical("lookback", [24, 48]), "max_steps": 5}

    result = tune(tsattn.DLinear, df, h=6, search_space=space, n_trials=2, n_windows=1)
    assert isinstance(result.model, tsattn.DLinear) and result.model.input_size in (24, 48)


def test_without_optuna_the_error_says_what_to_install(df, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ImportError, match=r'pip install "tsattn\[tune\]"'):
        tune(TINY, df, h=6, n_trials=1)


def test_auto_forecaster_tunes_its_networks_before_validating(df):
    models = ["naive", TINY]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auto = AutoForecaster(h=6, models=models, n_windows=2, tune=2).fit(df)
    board = auto.leaderboard().set_index("model")
    assert board.loc[TINY, "status"].startswith("ok; tuned (2 trials): ")
    assert "attention=" in board.loc[TINY, "status"]
    assert board.loc["naive", "status"] == "ok"
    with pytest.raises(ValueError, match="tune"):
        AutoForecaster(h=6, tune=0)
