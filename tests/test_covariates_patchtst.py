"""PatchTST's own covariates: patch tokens that carry the covariates, horizon tokens for the
future-known ones (see :mod:`tsattn.models.patchtst`)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

import tsattn
from tsattn.attention import list_attention
from tsattn.models.patchtst import PatchTST, PatchTSTConfig, PatchTSTCovariateNetwork
from tsattn.nn.covariates import CovariateLayout

H = 6
#: a tiny, quiet, seeded PatchTST: 6 patch tokens of the look-back, 2 horizon tokens
TINY = {
    "h": H,
    "input_size": 24,
    "patch_len": 8,
    "stride": 4,
    "d_model": 16,
    "n_heads": 2,
    "n_layers": 1,
    "d_ff": 32,
    "progress": False,
    "device": "cpu",
    "seed": 0,
}


def driven(n: int = 400, seed: int = 0, n_series: int = 1) -> pd.DataFrame:
    """y = 3 x + 0.1 noise, x white noise (future-known), p white noise (past-only)."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n_series):
        x = rng.standard_normal(n)
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{k}",
                    "ds": pd.date_range("2020-01-01", periods=n, freq="D"),
                    "y": 3 * x + 0.1 * rng.standard_normal(n) + 2 * k,
                    "x": x,
                    "p": rng.standard_normal(n),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def split(df: pd.DataFrame, h: int = H) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history, the last h rows of each series)."""
    last = df.groupby("unique_id").tail(h)
    return df.drop(last.index), last


def statics(df: pd.DataFrame) -> pd.DataFrame:
    ids = df["unique_id"].unique()
    return pd.DataFrame({"unique_id": ids, "size": np.arange(len(ids), dtype=float) + 1.0})


def mae(forecast: pd.DataFrame, test: pd.DataFrame, column: str = "PatchTST") -> float:
    merged = forecast.merge(test, on=["unique_id", "ds"])
    return float(np.abs(merged[column] - merged["y"]).mean())


def test_patchtst_mixes_covariates_into_its_tokens():
    model = PatchTST(**TINY, max_steps=2, futr_exog_list=["x"], hist_exog_list=["p"])
    train, test = split(driven(120))
    model.fit(train)
    network = model.network_
    assert isinstance(network, PatchTSTCovariateNetwork)
    # 6 look-back patch tokens and 2 horizon tokens reach the encoder and the head
    assert network.n_patches == 6 and network.covariates.n_future == 2
    assert network.head.linear.in_features == (6 + 2) * TINY["d_model"]


def test_a_known_driver_at_least_halves_the_error():
    train, test = split(driven())
    options = {**TINY, "max_steps": 300}
    alone = PatchTST(**options).fit(train[["unique_id", "ds", "y"]]).predict()
    with_x = PatchTST(**options, futr_exog_list=["x"]).fit(train)
    forecast = with_x.predict(futr_df=test[["unique_id", "ds", "x"]])
    error, error_alone = mae(forecast, test), mae(alone, test)
    print(f"MAE with x {error:.3f}, without {error_alone:.3f}")
    assert error <= 0.5 * error_alone


def test_no_covariate_leaks_from_beyond_the_horizon_or_after_the_cutoff():
    df = driven(200)
    train, _ = split(df, 2 * H)  # futr_df below holds 2 h dates after the cutoff
    future = df.drop(train.index)[["unique_id", "ds", "x"]]
    model = PatchTST(**TINY, max_steps=5, futr_exog_list=["x"], hist_exog_list=["p"])
    model.fit(train)
    forecast = model.predict(futr_df=future)
    changed = future.copy()
    changed.iloc[H:, changed.columns.get_loc("x")] += 100.0  # dates after the h forecast dates
    pd.testing.assert_frame_equal(model.predict(futr_df=changed), forecast)

    # the network ignores the horizon rows of the target and the past-only channels
    network, layout = model.network_.eval(), model._layout
    x = torch.randn(4, TINY["input_size"] + H, layout.width)
    x[:, TINY["input_size"] :, layout.hidden_in_horizon] = 0.0  # as predict packs them
    other = x.clone()
    other[:, TINY["input_size"] :, layout.hidden_in_horizon] = torch.randn(4, H, 2) * 50
    with torch.no_grad():
        torch.testing.assert_close(network(other), network(x), rtol=0, atol=0)
        moved = x.clone()
        moved[:, TINY["input_size"] :, 1] += 1.0  # the future-known channel does matter
        assert not torch.equal(network(moved), network(x))


@pytest.mark.parametrize("attention", list_attention())
def test_every_attention_variant_runs_with_covariates(attention):
    df = driven(120, n_series=2)
    train, test = split(df)
    model = PatchTST(
        **TINY,
        max_steps=3,
        attention=attention,
        futr_exog_list=["x"],
        hist_exog_list=["p"],
        stat_exog_list=["size"],
    )
    model.fit(train, static_df=statics(df))
    forecast = model.predict(futr_df=test[["unique_id", "ds", "x"]])
    assert len(forecast) == 2 * H and np.isfinite(forecast["PatchTST"]).all()
    # the attention was built for the look-back patches plus the horizon tokens
    assert model.network_.encoder.layers[0].attention.scorer.seq_len == 6 + 2


def test_network_on_each_covariate_kind_alone_and_a_short_horizon():
    config = PatchTSTConfig(input_size=24, horizon=3, patch_len=8, stride=4, d_model=16)
    for layout in (CovariateLayout(1, 0, 0), CovariateLayout(0, 2, 0), CovariateLayout(0, 0, 3)):
        network = PatchTSTCovariateNetwork(config, layout)
        out = network(torch.randn(5, 24 + 3, layout.width))
        assert out.shape == (5, 3, 1) and torch.isfinite(out).all()
        extra = network.covariates.n_future
        assert extra == (2 if layout.n_futr else 0)  # 3 rows extended to one patch, + pad_end
        constant = torch.randn(5, 24 + 3, layout.width)
        constant[:, :, 0] = 0.0  # a constant window: RevIN's scale ~0, covariates stay finite
        assert torch.isfinite(network(constant)).all()
    # without RevIN the tokens take the covariates as they are
    layout = CovariateLayout(1, 1, 1)
    plain = PatchTSTCovariateNetwork(dataclasses.replace(config, revin=False), layout)
    assert plain(torch.randn(2, 27, layout.width)).shape == (2, 3, 1)


def test_save_load_keeps_the_covariate_forecasts(tmp_path):
    df = driven(150, n_series=2)
    train, test = split(df)
    model = PatchTST(
        **TINY, max_steps=5, futr_exog_list=["x"], hist_exog_list=["p"], stat_exog_list=["size"]
    )
    model.fit(train, static_df=statics(df))
    futr_df = test[["unique_id", "ds", "x"]]
    forecast = model.predict(futr_df=futr_df)
    model.save(tmp_path / "m.safetensors")
    loaded = tsattn.load(tmp_path / "m.safetensors")
    assert isinstance(loaded.network_, PatchTSTCovariateNetwork)
    pd.testing.assert_frame_equal(loaded.predict(futr_df=futr_df), forecast)


@pytest.mark.parametrize("loss", ["quantile", "normal"])
def test_distribution_heads_work_with_covariates(loss):
    df = driven(150)
    train, test = split(df)
    model = PatchTST(**TINY, max_steps=20, loss=loss, futr_exog_list=["x"], hist_exog_list=["p"])
    model.fit(train)
    forecast = model.predict(futr_df=test[["unique_id", "ds", "x"]], level=[80])
    lo, point, hi = (
        forecast[c].to_numpy() for c in ("PatchTST-lo-80", "PatchTST", "PatchTST-hi-80")
    )
    assert np.isfinite(point).all()
    assert (lo <= point).all() and (point <= hi).all() and (lo < hi).all()
