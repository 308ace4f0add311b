"""Issue 12, parts 5 and 6 (per model): bad constructor arguments are a ValueError at
construction, and each model's ``_set_state`` refuses a forged or corrupt saved state with a
ValueError naming the field (never KeyError, RuntimeError or a silent NaN forecast)."""

from __future__ import annotations

import copy
import importlib.util

import numpy as np
import pytest
import torch

import tsattn
from tests.conformance import synthetic_long_frame
from tsattn.models.baselines import (
    ARIMA,
    ETS,
    AutoARIMA,
    GluonTSForecaster,
    Naive,
    SeasonalNaive,
    Theta,
)

TINY = {"h": 4, "input_size": 16, "max_epochs": 1, "batch_size": 32, "progress": False}
TINY_NET = {"d_model": 8, "n_heads": 2, "n_layers": 1, "d_ff": 16}
HAS_LIGHTNING = importlib.util.find_spec("lightning") is not None

# ---------------------------------------------------------------------- part 6: constructors
BAD_ARGUMENTS = {
    "patchtst stride 0": (lambda: tsattn.PatchTST(**TINY, stride=0), "stride"),
    "patchtst patch_len 0": (lambda: tsattn.PatchTST(**TINY, patch_len=0), "patch_len"),
    "attention_options list": (
        lambda: tsattn.PatchTST(**TINY, attention_options=[1]),
        r"attention_options must be a dict",
    ),
    "attention_options int keys": (
        lambda: tsattn.PatchTST(**TINY, attention_options={1: 2}),
        r"attention_options must be a dict with string keys",
    ),
    "dropout string": (lambda: tsattn.PatchTST(**TINY, dropout="x"), "dropout"),
    "head_dropout string": (lambda: tsattn.PatchTST(**TINY, head_dropout="x"), "head_dropout"),
    "revin_eps string": (lambda: tsattn.PatchTST(**TINY, revin_eps="x"), "revin_eps"),
    "revin_eps negative": (lambda: tsattn.PatchTST(**TINY, revin_eps=-1.0), "revin_eps"),
    "pad_end string": (lambda: tsattn.PatchTST(**TINY, pad_end="x"), "pad_end"),
    "revin string": (lambda: tsattn.PatchTST(**TINY, revin="yes"), "revin"),
    "device absent gpu index": (lambda: tsattn.PatchTST(**TINY, device="cuda:99"), "cuda:99"),
    "device absent mps": (
        lambda: tsattn.NLinear(**TINY, device="mps"),
        "mps",
    ),
    "transformer head_dropout 2": (
        lambda: tsattn.Transformer(**TINY, **TINY_NET, head_dropout=2.0),
        "head_dropout",
    ),
    "dlinear kernel_size string": (lambda: tsattn.DLinear(**TINY, kernel_size="x"), "kernel_size"),
    "dlinear kernel_size float": (lambda: tsattn.DLinear(**TINY, kernel_size=2.5), "kernel_size"),
    "nlinear individual int": (lambda: tsattn.NLinear(**TINY, individual=2), "individual"),
    "arima order string": (lambda: ARIMA(order="abc"), r"order must be a tuple of 3"),
    "arima order short": (lambda: ARIMA(order=(1, 0)), r"order must be a tuple of 3"),
    "arima order negative": (lambda: ARIMA(order=(1, 0, -1)), "order"),
    "arima seasonal period 1": (lambda: ARIMA(seasonal_order=(1, 0, 0, 1)), "s >= 2"),
    "arima trend": (lambda: ARIMA(trend="quadratic"), r"trend must be one of"),
    "auto_arima max_p": (lambda: AutoARIMA(max_p=-1), "max_p"),
    "auto_arima alpha": (lambda: AutoARIMA(alpha=2), "alpha"),
    "theta string": (lambda: Theta(theta="x"), r"theta must be a finite number >= 1"),
    "theta below 1": (lambda: Theta(theta=0.5), "theta"),
    "theta method": (lambda: Theta(method="median"), "method"),
    "theta season_length": (lambda: Theta(season_length=0), "season_length"),
    "ets error": (lambda: ETS(error="x"), r"error must be one of add, mul"),
    "ets damped without trend": (lambda: ETS(damped_trend=True), "damped_trend"),
    "ets damped string": (lambda: ETS(trend="add", damped_trend="yes"), "damped_trend"),
    "ets n_jobs 0": (lambda: ETS(n_jobs=0), "n_jobs"),
    "seasonal_naive 0": (lambda: SeasonalNaive(season_length=0), "season_length"),
    "gluonts estimator": (lambda: GluonTSForecaster("prophet"), "deepar, patchtst, dlinear"),
    "gluonts estimator_kwargs": (
        lambda: GluonTSForecaster(estimator_kwargs=[1]),
        "estimator_kwargs",
    ),
    "gluonts max_epochs": (lambda: GluonTSForecaster(max_epochs=0), "max_epochs"),
    "gluonts seed": (lambda: GluonTSForecaster(seed="x"), "seed"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGUMENTS))
def test_bad_constructor_argument_is_a_value_error_at_construction(case):
    make, pattern = BAD_ARGUMENTS[case]
    with pytest.raises(ValueError, match=pattern):
        make()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_device_without_cuda_fails_at_construction():
    with pytest.raises(ValueError, match=r"'cuda' is not available.*device='auto'"):
        tsattn.PatchTST(**TINY, device="cuda")


def test_bad_value_in_message_is_truncated():
    with pytest.raises(ValueError) as err:
        ARIMA(order="x" * 10_000)
    assert len(str(err.value)) < 200


UNKNOWN_KEYWORDS = {
    "ets seasonal_periods": (lambda: ETS(seasonal_periods=12), "seasonal_periods", "season_length"),
    "seasonal_naive season": (lambda: SeasonalNaive(season=12), "season", "season_length"),
    "naive horizon": (lambda: Naive(horizon=3), "horizon", "h"),
    "arima seasonal": (lambda: ARIMA(seasonal=(1, 0, 0, 12)), "seasonal", "seasonal_order"),
    "theta period": (lambda: Theta(period=12), "period", "season_length"),
    "gluonts epochs": (lambda: GluonTSForecaster(epochs=3), "epochs", "max_epochs"),
}


@pytest.mark.parametrize("case", sorted(UNKNOWN_KEYWORDS))
def test_unknown_baseline_keyword_lists_the_accepted_ones(case):
    make, given, accepted = UNKNOWN_KEYWORDS[case]
    with pytest.raises(ValueError, match=rf"\['{given}'\].*did you mean '{accepted}'.*accepted: "):
        make()


def test_valid_arguments_are_normalised():
    model = ARIMA(order=[np.int64(1), 0, 1], seasonal_order=[0, 0, 0, 0])
    assert model.order == (1, 0, 1) and type(model.order[0]) is int
    assert ETS(error="mul", trend="add", damped_trend=np.True_).damped_trend is True


# ---------------------------------------------------------------------- part 5: saved state
def fitted(model):
    return model.fit(synthetic_long_frame(n_series=2, length=96))


def forged(model, change) -> pytest.ExceptionInfo:
    """Apply ``change(meta, tensors)`` to the model's saved state and restore it into a
    fresh model with the same parameters; return the ValueError raised."""
    meta, tensors = model._get_state()
    meta, tensors = copy.deepcopy(meta), {k: v.clone() for k, v in tensors.items()}
    change(meta, tensors)
    fresh = type(model)(**model.get_params())
    with pytest.raises(ValueError) as err:
        fresh._set_state(meta, tensors)
    return err


def test_state_round_trip_still_restores_every_model():
    """What held up keeps working: the checks accept every genuine saved state."""
    for model in (
        fitted(ETS(trend="add", h=3)),
        fitted(AutoARIMA(max_p=1, max_q=1, max_d=1, h=3)),
        fitted(tsattn.PatchTST(**TINY, **TINY_NET)),
        fitted(tsattn.Transformer(**TINY, **TINY_NET)),
    ):
        meta, tensors = model._get_state()
        fresh = type(model)(**model.get_params())
        fresh._set_state(meta, tensors)
        fresh._history = model._history
        np.testing.assert_allclose(
            fresh.predict()[model.name], model.predict()[model.name], rtol=1e-6
        )


@pytest.fixture(scope="module")
def ets():
    return fitted(ETS(error="add", trend="add", damped_trend=False, seasonal=None, h=3))


def test_ets_parameter_tensor_of_the_wrong_length(ets):
    err = forged(ets, lambda meta, t: t.update({"params.0": t["params.0"][:-1]}))
    assert "params.0" in str(err.value) and "expected 4 parameters" in str(err.value)


def test_ets_nan_parameters(ets):
    err = forged(ets, lambda meta, t: t["params.1"].fill_(float("nan")))
    assert "params.1" in str(err.value) and "NaN" in str(err.value)


def test_local_state_missing_fields_and_tensors(ets):
    assert "'ids'" in str(forged(ets, lambda meta, t: meta.pop("ids")).value)
    assert "params.1" in str(forged(ets, lambda meta, t: t.pop("params.1")).value)
    err = forged(ets, lambda meta, t: meta.update(meta=[{}]))
    assert "'meta' entries" in str(err.value)
    err = forged(ets, lambda meta, t: meta.update(ids=[1, 2]))
    assert "ids" in str(err.value)


def test_arima_parameter_tensor_of_the_wrong_length():
    model = fitted(ARIMA(order=(1, 0, 0), h=3))
    err = forged(model, lambda meta, t: t.update({"params.0": torch.zeros(7, dtype=torch.float64)}))
    assert "expected 3 parameters" in str(err.value)


def test_auto_arima_forged_order_or_trend():
    model = fitted(AutoARIMA(max_p=1, max_q=1, max_d=1, h=3))
    err = forged(model, lambda meta, t: meta["meta"][0].update(order=[9, 0, 0]))
    assert "search bounds" in str(err.value)
    err = forged(model, lambda meta, t: meta["meta"][0].update(order="abc"))
    assert "order" in str(err.value)
    err = forged(model, lambda meta, t: meta["meta"][0].update(trend="ct"))
    assert "trend" in str(err.value)


def test_theta_refuses_stored_parameters():
    model = fitted(Theta(h=3))
    err = forged(model, lambda meta, t: t.update({"params.0": torch.ones(3, dtype=torch.float64)}))
    assert "Theta stores no fitted parameters" in str(err.value)


@pytest.fixture(scope="module")
def patchtst():
    return fitted(tsattn.PatchTST(**TINY, **TINY_NET))


@pytest.mark.parametrize("key", ["scaler.mean", "scaler.std"])
def test_scaler_statistics_of_the_wrong_length(patchtst, key):
    err = forged(patchtst, lambda meta, t: t.update({key: t[key][:1]}))
    assert key in str(err.value) and "expected 2 values" in str(err.value)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_scaler_statistics(patchtst, value):
    err = forged(patchtst, lambda meta, t: t["scaler.mean"].fill_(value))
    assert "scaler.mean" in str(err.value) and "NaN or infinite" in str(err.value)


def test_zero_scaler_std(patchtst):
    err = forged(patchtst, lambda meta, t: t["scaler.std"].fill_(0.0))
    assert "scaler.std" in str(err.value)


def test_nan_network_weights(patchtst):
    key = "network.head.linear.weight"
    err = forged(patchtst, lambda meta, t: t[key].fill_(float("nan")))
    assert key in str(err.value) and "NaN" in str(err.value)


def test_network_weights_missing_or_misshapen(patchtst):
    key = "network.patch_embedding.weight"
    err = forged(patchtst, lambda meta, t: t.pop(key))
    assert "network weights do not fit" in str(err.value)
    err = forged(patchtst, lambda meta, t: t.update({key: torch.zeros(3, 3)}))
    assert "network weights do not fit" in str(err.value)


def test_forged_channel_count(patchtst):
    err = forged(patchtst, lambda meta, t: meta.update(n_channels=2))
    assert "n_channels" in str(err.value) and "channel-independent" in str(err.value)


def test_transformer_channel_ids_must_match_the_channels():
    model = fitted(tsattn.Transformer(**TINY, **TINY_NET, channel_independent=False))
    err = forged(model, lambda meta, t: meta.update(channel_ids=["s0"]))
    assert "channel_ids" in str(err.value)
    err = forged(model, lambda meta, t: meta.update(scaler_ids="s0"))
    assert "scaler_ids" in str(err.value)


def test_gluonts_nan_weights():
    if not HAS_LIGHTNING:
        pytest.skip('lightning is not installed: pip install "tsattn[gluonts]" to run this')
    options = {"num_batches_per_epoch": 2, "batch_size": 16, "context_length": 12}
    model = fitted(GluonTSForecaster("dlinear", h=4, max_epochs=1, estimator_kwargs=options))
    key = next(k for k, v in model._get_state()[1].items() if v.is_floating_point())
    err = forged(model, lambda meta, t: t[key].fill_(float("nan")))
    assert key in str(err.value)
    err = forged(model, lambda meta, t: meta.update(freq="0h"))
    assert "freq" in str(err.value)
