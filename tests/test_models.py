"""Neural forecasters: the shared conformance check for every model and attention, and the
user-facing API (options, validation split, save/load)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import tsattn
from tests.conformance import check_forecaster, synthetic_long_frame
from tests.conftest import ATTENTION_MODELS, FACTORIES, NEURAL, available_models, model_params
from tsattn.attention import MLRScorer, list_attention
from tsattn.models import MODELS, TrainingConfig, create_network, list_models, split_options
from tsattn.models.recipes import BEFORE_DATA, USER_TRAINING

TRAINING = {"max_epochs": 2, "batch_size": 32, "progress": False, "seed": 0}
TINY = {"h": 12, "input_size": 48, **TRAINING}
TINY_ENCODER = {"d_model": 8, "n_heads": 2, "n_layers": 1, "d_ff": 16}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread (and do not fight other jobs for cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_factories_cover_the_registry():
    """Every registered model has a tiny factory in conftest, so every model is tested."""
    assert sorted(FACTORIES) == list_models()
    for name in available_models():
        assert type(FACTORIES[name](12)) is MODELS.get(name), name
        assert type(tsattn.create_model(name, **_required(name))) is MODELS.get(name), name


def _required(name: str) -> dict:
    """The arguments a registered model cannot be built without (neural: h, input_size)."""
    return {"h": 12, "input_size": 48} if name in NEURAL else {}


@pytest.mark.parametrize("name", model_params())
def test_every_registered_model_conforms(name, tmp_path):
    check_forecaster(lambda: FACTORIES[name](12), tmp_path)


@pytest.mark.parametrize("attention", list_attention())
@pytest.mark.parametrize("name", ATTENTION_MODELS)
def test_attention_models_conform_with_every_attention(name, attention, tmp_path):
    check_forecaster(lambda: FACTORIES[name](12, attention=attention), tmp_path)


@pytest.mark.parametrize(
    "make",
    [
        lambda: tsattn.DLinear(**TINY, individual=True, kernel_size=5),
        lambda: tsattn.NLinear(**TINY, individual=True),
        lambda: tsattn.PatchTST(**TINY, **TINY_ENCODER, revin_affine=True, norm="layer"),
    ],
    ids=["dlinear-individual", "nlinear-individual", "patchtst-variant"],
)
def test_model_variants_conform(make, tmp_path):
    check_forecaster(make, tmp_path)


def test_options_are_split_by_config_fields():
    model = tsattn.PatchTST(**TINY, attention="mlr", attention_options={"ranks": [2, 1, 1]})
    # the constructors' defaults are the recipe for users' series; max_steps="auto" is
    # resolved from the data at fit, so the config holds None until then
    before_data = {k: v for k, v in BEFORE_DATA.items() if k in USER_TRAINING}
    user = {**USER_TRAINING, **before_data, **TRAINING}
    assert model.training_config == TrainingConfig(**user)
    assert model.network_config(n_channels=1).attention_options == {"ranks": [2, 1, 1]}
    params = model.get_params()
    assert params["h"] == 12 and params["lr"] == 1e-3 and params["d_model"] == 16
    assert params["patch_len"] == 16 and params["attention"] == "mlr"
    assert tsattn.PatchTST(**params).get_params() == params


def test_shared_options_are_never_relisted():
    training = {f.name for f in dataclasses.fields(TrainingConfig)}
    for cls in map(MODELS.get, list_models()):
        if hasattr(cls, "config_class"):
            network = {f.name for f in dataclasses.fields(cls.config_class)}
            assert not network & training, cls
            assert not network & {"h", "alias", "fit", "predict", "name"}, cls


def test_reference_configuration_is_the_default():
    net = create_network("patchtst", 336, 96, 7)
    c = net.config
    assert (c.d_model, c.n_heads, c.n_layers, c.d_ff, c.dropout) == (16, 4, 3, 128, 0.3)
    assert (c.norm, c.pre_norm, c.residual_attention, c.patch_len, c.stride) == (
        "batch",
        False,
        True,
        16,
        8,
    )
    assert c.revin and not c.revin_affine and not c.revin_subtract_last
    layer = net.encoder.layers[0]  # the reference drops the attention output twice
    assert layer.projection_dropout.p == layer.attention_dropout.p == 0.3
    assert net.n_patches == 42 and net.head.linear.in_features == 16 * 42
    assert net(torch.randn(2, 336, 7)).shape == (2, 96, 7)
    network_options, training = split_options("patchtst", {"attention": "mlr", "lr": 1e-3})
    assert network_options == {"attention": "mlr"} and training.lr == 1e-3


def test_validation_split_is_used_for_early_stopping():
    df = synthetic_long_frame()
    model = tsattn.PatchTST(**{**TINY, "max_epochs": 3}, **TINY_ENCODER).fit(df, val_size=24)
    history = model.train_result_.history
    assert len(history) == 3 and all(e.val_loss is not None for e in history)
    assert model.train_result_.best_epoch == int(np.argmin([e.val_loss for e in history]))


def test_predict_shorter_horizon_and_not_longer():
    model = tsattn.NLinear(**TINY).fit(synthetic_long_frame())
    full = model.predict()
    short = model.predict(h=5)
    assert len(short) == 2 * 5
    np.testing.assert_allclose(
        short["NLinear"], full.groupby("unique_id").head(5)["NLinear"], rtol=1e-6
    )
    with pytest.raises(ValueError, match="h=13"):
        model.predict(h=13)


def test_saved_attention_class_becomes_its_name(tmp_path):
    model = tsattn.PatchTST(**TINY, **TINY_ENCODER, attention=MLRScorer)
    model.fit(synthetic_long_frame())
    loaded = tsattn.load(model.save(tmp_path / "m.safetensors"))
    assert loaded.attention == "mlr"
    np.testing.assert_allclose(loaded.predict()["PatchTST"], model.predict()["PatchTST"])


def test_saving_an_attention_instance_is_a_clear_error(tmp_path):
    instance = MLRScorer(8, 2, 7)
    model = tsattn.PatchTST(**TINY, **TINY_ENCODER, attention=instance)
    model.fit(synthetic_long_frame())
    assert np.isfinite(model.predict()["PatchTST"]).all()
    with pytest.raises(ValueError, match="registered name"):
        model.save(tmp_path / "m.safetensors")


def test_unseen_series_use_their_own_statistics():
    model = tsattn.DLinear(**TINY).fit(synthetic_long_frame())
    other = synthetic_long_frame(seed=1)
    other["unique_id"] = other["unique_id"] + "_new"
    other["y"] += 100.0
    forecast = model.predict(df=other)
    assert 100 < forecast["DLinear"].mean() < 125


def test_series_ids_name_the_fitted_series_in_order_and_survive_save_load(tmp_path):
    df = synthetic_long_frame(n_series=2, length=120)
    model = tsattn.SeasonalNaive(h=12, season_length=24)
    assert model.series_ids == []
    model.fit(df)
    assert model.series_ids == list(dict.fromkeys(df["unique_id"]))
    model.save(tmp_path / "m.tsattn")
    assert tsattn.load(tmp_path / "m.tsattn").series_ids == model.series_ids
