"""VanillaTransformer (Time-Series-Library's encoder-decoder Transformer): shapes, the
parameter count, decoder causality, pluggable attention, and the embedding and time
features recomputed independently here. The comparison with the reference implementation
itself is ``benchmarks/check_tslib_transformer.py`` (it needs the fetched source)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from tests.test_step_token_models import SMALL, unaligned_frame
from tsattn.attention import MLRScorer, SoftmaxScorer, list_attention
from tsattn.models import (
    VanillaTransformerConfig,
    VanillaTransformerNetwork,
    create_model,
    hourly_time_features,
    load,
)
from tsattn.nn import make_head
from tsattn.nn.decoder import DecoderLayer
from tsattn.nn.embedding import DataEmbedding

TINY = dict(input_size=12, horizon=5, n_channels=3, label_len=6, d_model=8, n_heads=2, d_ff=16)


def tiny_network(**overrides) -> VanillaTransformerNetwork:
    torch.manual_seed(0)
    return VanillaTransformerNetwork(VanillaTransformerConfig(**{**TINY, **overrides})).eval()


def test_output_shapes_with_and_without_time_features():
    net = tiny_network()
    x = torch.randn(4, 12, 3)
    assert net(x).shape == (4, 5, 3)
    assert net(x, torch.rand(4, 12, 4), torch.rand(4, 11, 4)).shape == (4, 5, 3)
    with pytest.raises(ValueError, match="both"):
        net(x, torch.rand(4, 12, 4))


def test_time_features_change_the_forecast():
    net = tiny_network()
    x = torch.randn(2, 12, 3)
    marks = torch.rand(2, 12, 4), torch.rand(2, 11, 4)
    assert not torch.allclose(net(x), net(x, *marks))


def test_parameter_count_matches_the_formula():
    c, d, f, ff, k = 3, 8, 4, 16, 2  # channels, d_model, time features, d_ff, encoder layers
    embedding = c * d * 3 + f * d  # conv (no bias) + time linear (no bias)
    attention = 4 * (d * d + d)  # q, k, v, out with bias
    feed_forward = d * ff + ff + ff * d + d
    encoder_layer = attention + feed_forward + 2 * 2 * d
    decoder_layer = 2 * attention + feed_forward + 3 * 2 * d
    projection = d * c + c
    expected = 2 * embedding + k * encoder_layer + 2 * d + decoder_layer + 2 * d + projection
    net = tiny_network(n_layers=k)
    assert sum(p.numel() for p in net.parameters()) == expected


def test_decoder_input_is_the_label_window_then_zeros():
    x = torch.randn(2, 12, 3)
    decoder_in = tiny_network().decoder_input(x)
    assert decoder_in.shape == (2, 11, 3)
    assert torch.equal(decoder_in[:, :6], x[:, -6:])
    assert not decoder_in[:, 6:].any()
    reference = VanillaTransformerConfig(input_size=96, horizon=24, d_model=8, n_heads=2)
    assert reference.label_len == 48  # default: half the input, the reference's 48 for 96


@pytest.mark.parametrize("attention", ["softmax", "mlr", "mlr_paper"])
def test_decoder_self_attention_is_causal(attention):
    torch.manual_seed(0)
    layer = DecoderLayer(8, 2, 16, seq_len=20, attention=attention).eval()
    x, memory = torch.randn(2, 20, 8), torch.randn(2, 9, 8)
    changed = x.clone()
    changed[:, 13:] = torch.randn(2, 7, 8)
    before, after = layer(x, memory), layer(changed, memory)
    torch.testing.assert_close(before[:, :13], after[:, :13])
    assert not torch.allclose(before[:, 13:], after[:, 13:])


def test_attention_is_pluggable_in_encoder_and_decoder():
    net = tiny_network(
        attention="mlr",
        attention_options={"ranks": [2, 1, 1]},
        decoder_attention="mlr_paper",
        decoder_attention_options={"ranks": [2, 2]},
    )
    encoder_scorer = net.encoder.layers[0].attention.scorer
    decoder_scorer = net.decoder.layers[0].self_attention.scorer
    assert isinstance(encoder_scorer, MLRScorer) and not encoder_scorer.causal
    assert encoder_scorer.ranks == [2, 1, 1] and encoder_scorer.seq_len == 12
    assert isinstance(decoder_scorer, MLRScorer) and decoder_scorer.causal
    assert decoder_scorer.normalize == "levels" and decoder_scorer.seq_len == 11
    default = tiny_network().decoder.layers[0].self_attention.scorer
    assert isinstance(default, SoftmaxScorer) and default.causal


@pytest.mark.parametrize("attention", list_attention())
def test_every_attention_trains_in_both_places(attention):
    net = tiny_network(attention=attention, decoder_attention=attention).train()
    x = torch.randn(3, 12, 3)
    out = net(x, torch.rand(3, 12, 4), torch.rand(3, 11, 4))
    out.square().mean().backward()
    assert torch.isfinite(out).all()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.any()]
    assert not missing


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="label_len"):
        VanillaTransformerConfig(**{**TINY, "label_len": 13})
    with pytest.raises(ValueError, match="post-LayerNorm"):
        VanillaTransformerConfig(**TINY, norm="batch")
    with pytest.raises(ValueError, match="softmax"):  # unknown names list the valid ones
        VanillaTransformerConfig(**TINY, decoder_attention="nope")


def test_embedding_recomputed_by_hand():
    torch.manual_seed(0)
    embed = DataEmbedding(n_channels=3, d_model=6, n_time_features=4).eval()
    x, marks = torch.randn(2, 10, 3), torch.rand(2, 10, 4)
    weight = embed.value.conv.weight.detach().numpy()  # (D, C, 3)
    xs, ms = x.numpy().astype(np.float64), marks.numpy().astype(np.float64)
    t_len, d = 10, 6
    expected = np.zeros((2, t_len, d))
    for t in range(t_len):
        for k in range(3):  # kernel tap k reads step t + k - 1, wrapping around
            expected[:, t] += xs[:, (t + k - 1) % t_len] @ weight[:, :, k].T
        for i in range(d):
            angle = t / 10000 ** ((i - i % 2) / d)
            expected[:, t, i] += math.sin(angle) if i % 2 == 0 else math.cos(angle)
    expected += ms @ embed.time.weight.detach().numpy().T.astype(np.float64)
    np.testing.assert_allclose(embed(x, marks).detach().numpy(), expected, atol=1e-5)


def test_hourly_time_features_by_hand():
    index = pd.DatetimeIndex(["2016-07-01 00:00", "2016-12-31 23:00"])
    expected = [
        [-0.5, 4 / 6 - 0.5, -0.5, 182 / 365 - 0.5],  # a Friday, day 183 of a leap year
        [0.5, 5 / 6 - 0.5, 30 / 30 - 0.5, 365 / 365 - 0.5],  # a Saturday, day 366
    ]
    np.testing.assert_allclose(hourly_time_features(index), expected)


def test_forecaster_by_name_fits_predicts_and_saves(tmp_path):
    dates = pd.date_range("2020-01-01", periods=60, freq="h")
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], 60),
            "ds": np.tile(dates, 2),
            "y": rng.normal(size=120).cumsum(),
        }
    )
    model = create_model(
        "vanilla_transformer:mlr",
        h=4,
        input_size=16,
        label_len=8,
        d_model=8,
        n_heads=2,
        d_ff=16,
        max_epochs=1,
        max_steps=2,
        progress=False,
        device="cpu",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # two steps of training lose to seasonal naive
        forecast = model.fit(df).predict()
    assert len(forecast) == 8 and forecast["VanillaTransformer"].notna().all()
    path = tmp_path / "vt.safetensors"
    model.save(path)
    again = load(path).predict()
    np.testing.assert_allclose(again["VanillaTransformer"], forecast["VanillaTransformer"])


# ---------------------------------------------------------------- channel-independent mode
def test_channel_independent_network_runs_each_channel_alone():
    """Channel-independent, the (B, L, C) windows are B*C one-channel windows with shared
    weights: the same as running each channel by itself, with its window's time features."""
    net = tiny_network(n_channels=1, channel_independent=True)
    one = tiny_network(n_channels=5, channel_independent=True)
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in one.parameters())
    x, marks = torch.randn(2, 12, 3), (torch.rand(2, 12, 4), torch.rand(2, 11, 4))
    for args in ((x,), (x, *marks)):
        out = net(*args)
        assert out.shape == (2, 5, 3)
        for k in range(3):
            alone = net(x[:, :, k : k + 1], *args[1:])  # (2, 5, 1)
            torch.testing.assert_close(out[:, :, k : k + 1], alone)
    torch.manual_seed(0)
    config = VanillaTransformerConfig(**{**TINY, "n_channels": 1, "channel_independent": True})
    quantiles = VanillaTransformerNetwork(config, make_head("quantile", (0.1, 0.5, 0.9))).eval()
    out = quantiles(x)  # (B, H, C, K) with a distribution head
    assert out.shape == (2, 5, 3, 3)
    torch.testing.assert_close(out[:, :, 1:2], quantiles(x[:, :, 1:2]))


def test_subtract_last_forecasts_the_seasonal_naive_plus_the_output():
    """Centred on the last season, a network whose projection is zero forecasts each
    window's seasonal naive forecast (the last ``center_season`` values repeated)."""
    net = tiny_network(n_channels=1, channel_independent=True, subtract_last=True, center_season=4)
    with torch.no_grad():
        net.projection.weight.zero_()
        net.projection.bias.zero_()
    x = torch.randn(3, 12, 2)
    expected = x[:, [8, 9, 10, 11, 8]]  # h = 5 steps of the last season of 4
    torch.testing.assert_close(net(x), expected)
    assert not VanillaTransformerConfig(**TINY).subtract_last  # the reference centres nothing


def test_covariates_are_each_series_own_time_features_when_channel_independent(tmp_path):
    df = unaligned_frame(lengths=(200, 170), driver=True)
    groups = df.groupby("unique_id", sort=False)
    train, test = groups.head(-6).reset_index(drop=True), groups.tail(6)
    options = {**SMALL, "input_size": 24, "d_model": 16, "d_ff": 32, "max_steps": 200}
    plain = create_model("vanilla_transformer", h=6, **options).fit(train).predict()
    model = create_model("vanilla_transformer", h=6, futr_exog_list=["x"], **options)
    forecast = model.fit(train).predict(futr_df=test[["unique_id", "ds", "x"]])
    assert model.network_.config.n_time_features == 1  # its own series' x only
    error = lambda f: np.abs(f["VanillaTransformer"].to_numpy() - test["y"].to_numpy()).mean()  # noqa: E731
    assert error(forecast) <= 0.5 * error(plain)
    loaded = load(model.save(tmp_path / "vt.safetensors"))
    pd.testing.assert_frame_equal(loaded.predict(futr_df=test), forecast)


def test_the_literature_recipe_keeps_the_papers_joint_model():
    paper = create_model("vanilla_transformer", h=24, input_size=96, recipe="literature:ETTh1")
    assert paper.joint_channels and not paper.channel_independent and not paper.subtract_last
    assert (paper.d_model, paper.n_heads, paper.d_ff, paper.n_layers) == (512, 8, 2048, 2)
    assert (paper.decoder_layers, paper.dropout, paper.attention_dropout) == (1, 0.1, 0.1)
    config = paper.network_config(n_channels=7)
    assert config.width == 7 and config.label_len == 48
