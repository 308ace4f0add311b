"""The one-token-per-step models (``Transformer``, ``VanillaTransformer``: the
``StepTokenForecaster`` base) for users' series: channel-independent (unaligned series of any
length and date), windows centred on their last season, a CPU width and a look-back of two
seasons; the literature recipe keeps the paper's joint, paper-size models. The encoder-only
network's own checks are here too; VanillaTransformer's are in test_vanilla_transformer.py."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from tsattn.models import (
    PatchTST,
    Transformer,
    TransformerConfig,
    TransformerNetwork,
    VanillaTransformer,
    create_model,
    load,
)
from tsattn.models.recipes import DataFacts, recipe_defaults
from tsattn.models.transformer import fold_channels
from tsattn.nn import make_head

TINY = dict(input_size=12, horizon=5, n_channels=3, d_model=8, n_heads=2, d_ff=16, n_layers=1)


def tiny_network(head=None, **overrides) -> TransformerNetwork:
    torch.manual_seed(0)
    return TransformerNetwork(TransformerConfig(**{**TINY, **overrides}), head).eval()


def test_folding_c_channels_equals_running_each_channel_alone():
    """Channel-independent, (B, L, C) windows are B*C one-channel windows with shared
    weights: the same as each channel by itself, and no weight depends on C."""
    net = tiny_network(n_channels=1, channel_independent=True)
    wide = tiny_network(n_channels=5, channel_independent=True)
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in wide.parameters())
    x = torch.randn(2, 12, 3)
    out = net(x)
    assert out.shape == (2, 5, 3)
    for k in range(3):
        torch.testing.assert_close(out[:, :, k : k + 1], net(x[:, :, k : k + 1]))
    quantiles = tiny_network(make_head("quantile", (0.1, 0.5, 0.9)), channel_independent=True)
    out = quantiles(x)  # (B, H, C, K) with a distribution head
    assert out.shape == (2, 5, 3, 3)
    torch.testing.assert_close(out[:, :, 1:2], quantiles(x[:, :, 1:2]))
    # the helper keeps each window's own per-window tensors with each of its channels
    extra = torch.randn(2, 4)
    folded = fold_channels(lambda w, e: w[:, :2] + e[:, :2, None], x, extra)
    torch.testing.assert_close(folded, x[:, :2] + extra[:, :2, None])


def test_the_joint_network_mixes_channels():
    net = tiny_network()
    x = torch.randn(2, 12, 3)
    y = x.clone()
    y[:, :, 2] += 1.0
    assert not torch.allclose(net(x)[:, :, 0], net(y)[:, :, 0])  # channel 2 moves channel 0


@pytest.mark.parametrize("joint", [False, True])
def test_a_zeroed_output_forecasts_the_seasonal_naive_when_centred(joint):
    """Centred on the last season, a network whose head outputs zero forecasts each
    window's seasonal naive forecast (its last ``center_season`` values repeated)."""
    net = tiny_network(channel_independent=not joint, subtract_last=True, center_season=4)
    with torch.no_grad():
        net.head.linear.weight.zero_()
        net.head.linear.bias.zero_()
    x = torch.randn(3, 12, 3)
    torch.testing.assert_close(net(x), x[:, [8, 9, 10, 11, 8]])  # h = 5 of a season of 4
    assert not TransformerConfig(**TINY).subtract_last  # the reference centres nothing


def unaligned_frame(lengths=(90, 70), seed: int = 0, driver: bool = False) -> pd.DataFrame:
    """Hourly series of different lengths and start dates (a daily cycle; with ``driver``,
    y = 3 x + noise for a random future-known x)."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, n in enumerate(lengths):
        t = np.arange(n)
        ds = pd.date_range(f"2024-01-0{i + 1} 0{i}:00", periods=n, freq="h")
        y = 10 + i + np.sin(2 * np.pi * t / 24) + 0.1 * rng.normal(size=n)
        part = pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y})
        if driver:
            part["x"] = rng.normal(size=n)
            part["y"] = 3.0 * part["x"] + 0.1 * rng.normal(size=n) + i
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


SMALL = dict(
    input_size=16,
    d_model=8,
    n_heads=2,
    d_ff=16,
    n_layers=1,
    max_steps=5,
    progress=False,
    device="cpu",
    seed=0,
)


STEP_TOKEN = ["transformer", "vanilla_transformer"]


@pytest.mark.parametrize("name", STEP_TOKEN)
def test_channel_independent_fits_unaligned_series_predicts_and_saves(tmp_path, name):
    df = unaligned_frame()
    model = create_model(name, h=6, **SMALL)
    assert model.channel_independent and not model.joint_channels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # five steps lose to the seasonal naive
        forecast = model.fit(df).predict()
    assert forecast.groupby("unique_id").size().to_dict() == {"s0": 6, "s1": 6}
    last = df.groupby("unique_id")["ds"].max()
    first = forecast.groupby("unique_id")["ds"].min()
    assert (first - last == pd.Timedelta("1h")).all()  # each series continues its own dates
    assert model.network_.config.n_channels == 1 and forecast[model.name].notna().all()
    other = unaligned_frame(lengths=(40, 50, 60), seed=1)  # other series, any count
    assert len(model.predict(other)) == 18
    loaded = load(model.save(tmp_path / "t.safetensors"))
    assert loaded.channel_independent and loaded.subtract_last
    pd.testing.assert_frame_equal(loaded.predict(), forecast)
    pd.testing.assert_frame_equal(loaded.predict(other), model.predict(other))


@pytest.mark.parametrize("name", STEP_TOKEN)
def test_the_joint_model_still_refuses_unaligned_series(name):
    model = create_model(name, h=6, channel_independent=False, **SMALL)
    assert model.joint_channels
    with pytest.raises(ValueError, match="aligned"):
        model.fit(unaligned_frame())


def test_the_literature_recipe_keeps_the_papers_joint_model():
    paper = create_model("transformer", h=24, input_size=96, recipe="literature:ETTh1")
    assert paper.joint_channels and not paper.channel_independent and not paper.subtract_last
    assert (paper.d_model, paper.n_heads, paper.d_ff, paper.n_layers) == (512, 8, 2048, 2)
    assert (paper.dropout, paper.attention_dropout) == (0.1, 0.0)
    config = paper.network_config(n_channels=7)
    assert config.width == 7 and config.center_season == 1


@pytest.mark.parametrize("cls", [Transformer, VanillaTransformer])
def test_the_user_defaults_are_pinned(cls):
    defaults = recipe_defaults(cls, "user")
    assert {k: defaults[k] for k in cls.user_network_defaults} == {
        "channel_independent": True,
        "subtract_last": True,
        "d_model": 16,
        "n_heads": 2,
        "d_ff": 64,
        "attention_dropout": 0.0,
    }
    assert defaults["center_season"] == "auto" and defaults["n_layers"] == 2
    assert cls(h=48).joint_channels is False


@pytest.mark.parametrize("cls", [Transformer, VanillaTransformer])
def test_a_lookback_left_to_the_data_covers_two_seasons_not_the_week(cls):
    """One token per step: M4 Hourly's 414 series pick max(3 h, 2 days) = 144 steps, where
    PatchTST's patches take two weeks (336)."""
    facts = DataFacts(lengths=(700,) * 414, season=24, cycle=168, seasonal=True, n_series=414)
    assert cls(h=48).resolved(facts).lookback == 144
    assert PatchTST(h=48).resolved(facts).lookback == 336
    assert cls(h=48, input_size=200).resolved(facts).lookback == 200


@pytest.mark.parametrize("name", STEP_TOKEN)
def test_a_file_written_before_channel_independent_loads_as_the_joint_model(tmp_path, name):
    """Files saved before ``channel_independent`` and ``subtract_last`` existed lack them;
    they rebuild the joint, uncentred model they were (not today's user default)."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    aligned = unaligned_frame(lengths=(80, 80))
    aligned["ds"] = np.tile(pd.date_range("2024-01-01", periods=80, freq="h"), 2)
    options = dict(d_model=8, n_heads=2, d_ff=16, max_steps=3, progress=False)
    joint = dict(channel_independent=False, subtract_last=False)  # as such files were
    model = create_model(name, h=6, input_size=24, **joint, **options)
    model.fit(aligned)
    path = tmp_path / "new.tsattn"
    model.save(path)
    with safe_open(str(path), "pt") as handle:
        header, tensors = handle.metadata(), {k: handle.get_tensor(k) for k in handle.keys()}
    params = json.loads(header["params"])
    for key in ("channel_independent", "subtract_last", "center_season"):
        del params[key]
    header["params"] = json.dumps(params)
    old = tmp_path / "old.tsattn"
    save_file(tensors, str(old), metadata=header)
    loaded = load(old)
    assert loaded.joint_channels and not loaded.subtract_last
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
