"""Covariates through the common API: reading, errors, the neural models' use of them, no
leakage, backtests and save/load. (Statistical models and PatchTST's own tokens have their
own files.)"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import tsattn
from tsattn.datasets import read_series
from tsattn.models import DLinear, NLinear, Transformer, VanillaTransformer
from tsattn.models.baselines import ETS, SeasonalNaive

H = 6
TINY = {"input_size": 24, "max_steps": 150, "progress": False, "seed": 0}


def driver_frame(n: int = 240, n_series: int = 2, seed: int = 0) -> pd.DataFrame:
    """Series that follow a future-known driver ``x`` (y = 3 x + small noise, x random, so
    the history alone cannot predict y), a past-only ``w`` and an hourly calendar."""
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n_series):
        x, w = rng.normal(size=n), rng.normal(size=n)
        y = 3.0 * x + 0.1 * rng.normal(size=n) + i
        ds = pd.date_range("2024-01-01", periods=n, freq="h")
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y, "x": x, "w": w}))
    return pd.concat(parts, ignore_index=True)


def split(df: pd.DataFrame, h: int = H) -> tuple[pd.DataFrame, pd.DataFrame]:
    groups = df.groupby("unique_id", sort=False)
    return groups.head(len(df) // df["unique_id"].nunique() - h), groups.tail(h)


def mae(forecast: pd.DataFrame, actual: pd.DataFrame, name: str) -> float:
    return float(np.abs(forecast[name].to_numpy() - actual["y"].to_numpy()).mean())


# ---------------------------------------------------------------- reading
def test_read_series_keeps_covariates_long_and_wide():
    df = driver_frame(n=10)
    long = read_series(df, covariate_cols=["x"])
    assert list(long.columns) == ["unique_id", "ds", "y", "x"]
    np.testing.assert_array_equal(long["x"].to_numpy(), df["x"].to_numpy())
    wide = pd.DataFrame(
        {"ds": pd.date_range("2024", periods=3, freq="D"), "a": [1.0, 2, 3], "b": [4.0, 5, 6]}
    )
    wide["temp"] = [10.0, 11.0, 12.0]
    frame = read_series(wide, covariate_cols=["temp"])
    assert frame["unique_id"].unique().tolist() == ["a", "b"]  # temp is no series
    assert frame["temp"].tolist() == [10.0, 11.0, 12.0] * 2  # shared by every series


def test_a_wide_frame_with_a_shared_covariate_fits_and_forecasts():
    rng = np.random.default_rng(1)
    n = 200
    temp = rng.normal(size=n + H)
    ds = pd.date_range("2024-01-01", periods=n + H, freq="h")
    wide = pd.DataFrame({"ds": ds, "a": 2 * temp, "b": 10 + temp, "temp": temp})
    model = NLinear(h=H, futr_exog_list=["temp"], **TINY).fit(wide.iloc[:n])
    forecast = model.predict(futr_df=wide.iloc[n:][["ds", "temp"]])  # no ids: every series
    assert forecast["unique_id"].unique().tolist() == ["a", "b"]
    actual = np.concatenate([2 * temp[n:], 10 + temp[n:]])
    plain = NLinear(h=H, **TINY).fit(wide.iloc[:n][["ds", "a", "b"]]).predict()
    error, plain_error = (np.abs(f["NLinear"] - actual).mean() for f in (forecast, plain))
    assert error <= 0.5 * plain_error


def test_covariate_nan_is_named_or_filled():
    df = driver_frame(n=10)
    df.loc[3, "x"] = np.nan
    with pytest.raises(ValueError, match="column 'x' has 1 NaN"):
        read_series(df, covariate_cols=["x"])
    assert read_series(df, covariate_cols=["x"], fill="ffill")["x"].notna().all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"futr_exog_list": "x"}, "must be a list of column names"),
        ({"futr_exog_list": ["x", "x"]}, "lists 'x' twice"),
        ({"calendar": ["hours"]}, "did you mean 'hour'"),
    ],
)
def test_bad_covariate_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NLinear(h=H, **kwargs)


def test_missing_covariate_column_is_named():
    train, _ = split(driver_frame())
    with pytest.raises(ValueError, match="'price'"):
        NLinear(h=H, futr_exog_list=["price"], **TINY).fit(train)
    with pytest.raises(ValueError, match="cannot also be a covariate"):
        NLinear(h=H, futr_exog_list=["y"], **TINY).fit(train)


def test_models_without_covariates_refuse_them_unless_told():
    with pytest.raises(ValueError, match="ETS cannot use future-known covariates"):
        ETS(h=H, futr_exog_list=["x"])
    with pytest.raises(ValueError, match="ignore_covariates=True"):
        SeasonalNaive(h=H, calendar=True)
    train, _ = split(driver_frame(n=60, n_series=1))
    model = SeasonalNaive(h=H, season_length=24, hist_exog_list=["w"], ignore_covariates=True)
    with pytest.warns(UserWarning, match="ignores its past-only covariates"):
        forecast = model.fit(train).predict()
    plain = SeasonalNaive(h=H, season_length=24).fit(train).predict()
    pd.testing.assert_frame_equal(forecast, plain)


# ---------------------------------------------------------------- predict's inputs
def test_predict_needs_the_future_values_and_names_what_lacks():
    train, test = split(driver_frame())
    model = NLinear(h=H, futr_exog_list=["x"], **TINY).fit(train)
    with pytest.raises(ValueError, match="predict needs futr_df="):
        model.predict()
    with pytest.raises(ValueError, match=r"futr_df lacks x for series 's1' at 1 of its 6"):
        model.predict(futr_df=test.iloc[:-1])
    with pytest.raises(ValueError, match="futr_df has no column 'x'"):
        model.predict(futr_df=test.drop(columns="x"))


def test_static_covariates_need_a_row_per_series():
    train, _ = split(driver_frame())
    model = NLinear(h=H, stat_exog_list=["size"], **TINY)
    with pytest.raises(ValueError, match="needs static_df="):
        model.fit(train)
    with pytest.raises(ValueError, match="no row for 1 series"):
        model.fit(train, static_df=pd.DataFrame({"unique_id": ["s0"], "size": [1.0]}))
    static = pd.DataFrame({"unique_id": ["s0", "s1"], "size": [1.0, 5.0]})
    assert len(model.fit(train, static_df=static).predict()) == 2 * H


# ---------------------------------------------------------------- the networks use them
@pytest.mark.parametrize("cls", [NLinear, DLinear])
def test_a_known_driver_halves_the_error(cls):
    train, test = split(driver_frame())
    plain = cls(h=H, **TINY).fit(train).predict()
    with_driver = cls(h=H, futr_exog_list=["x"], **TINY).fit(train)
    forecast = with_driver.predict(futr_df=test[["unique_id", "ds", "x"]])
    assert mae(forecast, test, cls.__name__) <= 0.5 * mae(plain, test, cls.__name__)


VANILLA = {"input_size": 24, "d_model": 16, "n_heads": 2, "d_ff": 32, "n_layers": 1}


def test_vanilla_transformer_takes_covariates_as_its_time_features(tmp_path):
    """The joint encoder-decoder reads every series' covariates as time features."""
    train, test = split(driver_frame())
    options = {**TINY, **VANILLA, "max_steps": 200, "channel_independent": False}
    plain = VanillaTransformer(h=H, **options).fit(train).predict()
    model = VanillaTransformer(h=H, futr_exog_list=["x"], **options).fit(train)
    forecast = model.predict(futr_df=test)
    assert mae(forecast, test, "VanillaTransformer") <= 0.5 * mae(plain, test, "VanillaTransformer")
    assert model.network_.config.n_time_features == 2  # x of each of the two series
    loaded = tsattn.load(model.save(tmp_path / "v.safetensors"))
    pd.testing.assert_frame_equal(loaded.predict(futr_df=test), forecast)


def test_joint_models_without_a_covariate_path_refuse_them():
    with pytest.raises(ValueError, match="Transformer cannot use future-known"):
        Transformer(h=H, futr_exog_list=["x"])
    train, _ = split(driver_frame())
    with pytest.raises(ValueError, match="individual=False"):
        NLinear(h=H, individual=True, futr_exog_list=["x"], **TINY).fit(train)


def test_only_the_horizon_of_futr_df_matters():
    df = driver_frame()
    train, test = split(df)
    model = NLinear(h=H, futr_exog_list=["x"], **TINY).fit(train)
    later = test.assign(ds=test["ds"] + pd.Timedelta(hours=H), x=99.0)  # after the horizon
    base = model.predict(futr_df=test)
    pd.testing.assert_frame_equal(base, model.predict(futr_df=pd.concat([test, later])))
    moved = model.predict(futr_df=test.assign(x=test["x"] + 1.0))
    assert not np.allclose(moved["NLinear"], base["NLinear"])  # inside it, they do


def test_past_only_values_after_the_cutoff_are_never_seen():
    df = driver_frame()
    model = NLinear(h=H, hist_exog_list=["w"], **TINY)
    frame = tsattn.backtest(model, df, h=H, n_windows=1, progress=False)
    changed = df.copy()
    future = changed.groupby("unique_id").cumcount() >= len(df) // 2 - H  # after the cutoff
    changed.loc[future, "w"] = 1e3
    again = tsattn.backtest(model, changed, h=H, n_windows=1, progress=False)
    pd.testing.assert_frame_equal(frame, again)


def test_backtest_gives_each_window_its_future_values():
    df = driver_frame()
    with_driver = NLinear(h=H, futr_exog_list=["x"], alias="with_x", **TINY)
    plain = NLinear(h=H, alias="plain", **TINY)
    frame = tsattn.backtest([with_driver, plain], df, h=H, n_windows=2, progress=False)
    assert list(frame.columns) == ["unique_id", "ds", "cutoff", "y", "with_x", "plain"]
    errors = {name: float((frame[name] - frame["y"]).abs().mean()) for name in ("with_x", "plain")}
    assert errors["with_x"] <= 0.5 * errors["plain"]


def test_scaling_is_fitted_on_training_rows_only():
    train, _ = split(driver_frame())
    holdout = NLinear(h=H, futr_exog_list=["x"], **TINY).fit(train, val_size=H)
    shifted = train.copy()
    last = shifted.groupby("unique_id").cumcount() >= len(train) // 2 - H  # the holdout
    shifted.loc[last, "x"] += 100.0
    again = NLinear(h=H, futr_exog_list=["x"], **TINY).fit(shifted, val_size=H)
    for kind in ("futr",):
        np.testing.assert_array_equal(
            holdout._covariate_scaler.stats[kind][0], again._covariate_scaler.stats[kind][0]
        )


def test_calendar_features_need_no_futr_df():
    n = 24 * 20
    ds = pd.date_range("2024-01-01", periods=n, freq="h")
    daily = 10.0 * np.sin(2 * np.pi * ds.hour / 24)
    df = pd.DataFrame({"unique_id": "a", "ds": ds, "y": daily})
    model = NLinear(h=H, calendar=["hour"], **TINY).fit(df)
    forecast = model.predict()
    assert forecast["ds"].iloc[0] == ds[-1] + pd.Timedelta(hours=1)
    assert model._layout.n_futr == 2  # hour's sine and cosine
    integer = df.assign(ds=np.arange(n))
    with pytest.raises(ValueError, match="integer"):
        NLinear(h=H, calendar=True, **TINY).fit(integer)


def test_conformal_intervals_with_covariates():
    train, test = split(driver_frame())
    model = NLinear(h=H, futr_exog_list=["x"], intervals="conformal", **TINY).fit(train)
    forecast = model.predict(futr_df=test, level=[80])
    assert (forecast["NLinear-lo-80"] <= forecast["NLinear"]).all()
    assert (forecast["NLinear"] <= forecast["NLinear-hi-80"]).all()


# ---------------------------------------------------------------- files
def test_save_load_keeps_covariates_and_their_scaling(tmp_path):
    train, test = split(driver_frame())
    static = pd.DataFrame({"unique_id": ["s0", "s1"], "size": [1.0, 5.0]})
    model = NLinear(
        h=H,
        futr_exog_list=["x"],
        hist_exog_list=["w"],
        stat_exog_list=["size"],
        calendar=["hour"],
        **TINY,
    ).fit(train, static_df=static)
    loaded = tsattn.load(model.save(tmp_path / "m.safetensors"))
    pd.testing.assert_frame_equal(loaded.predict(futr_df=test), model.predict(futr_df=test))
    assert loaded.futr_exog_list == ["x"] and loaded.stat_exog_list == ["size"]
    history = train.groupby("unique_id").head(len(train) // 2 - 10)
    pd.testing.assert_frame_equal(  # a new history: static rows known from fit
        loaded.predict(df=history, futr_df=_next(history, test)),
        model.predict(df=history, futr_df=_next(history, test)),
    )


def _next(history: pd.DataFrame, template: pd.DataFrame) -> pd.DataFrame:
    """Future-known values for the H dates after each series of ``history``."""
    rows = []
    for uid, part in history.groupby("unique_id", sort=False):
        ds = pd.date_range(part["ds"].iloc[-1], periods=H + 1, freq="h")[1:]
        rows.append(pd.DataFrame({"unique_id": uid, "ds": ds, "x": np.linspace(-1, 1, H)}))
    return pd.concat(rows, ignore_index=True)


def test_a_file_with_forged_covariate_widths_is_refused(tmp_path):
    from safetensors import safe_open
    from safetensors.torch import save_file

    train, _ = split(driver_frame())
    path = NLinear(h=H, futr_exog_list=["x"], **TINY).fit(train).save(tmp_path / "m.safetensors")
    with safe_open(path, framework="pt") as fh:
        header = fh.metadata()
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118
    header["state"] = header["state"].replace('"futr": 1', '"futr": 10000')
    save_file(tensors, tmp_path / "forged.safetensors", metadata=header)
    with warnings.catch_warnings(), pytest.raises(ValueError, match="corrupt"):
        tsattn.load(tmp_path / "forged.safetensors")
