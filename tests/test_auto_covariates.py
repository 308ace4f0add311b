"""AutoForecaster with exogenous covariates: candidates get the declaration for the kinds
they use, are validated and refit with the columns (and static_df), members forecast from
their own view of the data; futr_df errors, save / load, past-only, static and calendar
covariates, instances with their own declaration, tune=True. Tiny candidates: the naive and
a small NLinear."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import tsattn
from tsattn.auto import AutoForecaster
from tsattn.models import NLinear

H = 12
NLINEAR = "nlinear:input_size=24:max_steps=300"
MODELS = ["naive", NLINEAR]


def driven(n: int = 240, seed: int = 0, ids: tuple[str, ...] = ("a", "b")) -> pd.DataFrame:
    """y = 3 x + small noise (plus a level per series), x a random future-known covariate,
    w another one, z a past-only one."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, uid in enumerate(ids):
        x = rng.normal(0, 1, n)
        frame = {
            "unique_id": uid,
            "ds": pd.date_range("2024-01-01", periods=n, freq="h"),
            "y": 3 * x + rng.normal(0, 0.1, n) + 10 * k,
            "x": x,
            "w": rng.normal(0, 1, n),
            "z": rng.normal(0, 1, n),
        }
        parts.append(pd.DataFrame(frame))
    return pd.concat(parts, ignore_index=True)


def split(df: pd.DataFrame, h: int = H) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The series without their last ``h`` steps, and those steps."""
    rank = df.groupby("unique_id", sort=False).cumcount(ascending=False).to_numpy()
    return df[rank >= h].reset_index(drop=True), df[rank < h].reset_index(drop=True)


def mae(forecast: pd.DataFrame, test: pd.DataFrame) -> float:
    return float(np.mean(np.abs(forecast["AutoForecaster"].to_numpy() - test["y"].to_numpy())))


@pytest.fixture(scope="module")
def fitted():
    """An AutoForecaster with x as a future-known covariate, fitted on the training part."""
    train, test = split(driven())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        auto = AutoForecaster(H, futr_exog_list=["x"], models=MODELS).fit(train)
    return auto, train, test, caught


def test_the_candidate_that_uses_the_covariate_wins_and_halves_the_error(fitted):
    auto, train, test, _ = fitted
    board = auto.leaderboard().set_index("model")
    assert board.loc[NLINEAR, "weight"] >= 0.8
    with_x = mae(auto.predict(futr_df=test[["unique_id", "ds", "x"]]), test)
    plain = AutoForecaster(H, models=MODELS).fit(train[["unique_id", "ds", "y"]])
    without = mae(plain.predict(), test)
    assert with_x <= 0.5 * without, (with_x, without)


def test_candidates_get_the_declaration_for_the_kinds_their_class_uses(fitted):
    auto, _, _, caught = fitted
    assert auto.supports_covariates == ("futr", "hist", "stat")
    members = {m.name: m for m in auto.members_}
    assert members[NLINEAR].futr_exog_list == ["x"]
    # the naive (no covariates) competes without them, told nothing: no warning
    plain = AutoForecaster(H, futr_exog_list=["x"], models=["naive"])
    train, _ = split(driven())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain.fit(train)
    assert plain.members_[0].futr_exog_list is None
    assert not [w for w in caught if "ignore" in str(w.message)]


def test_predict_without_futr_df_names_it(fitted):
    auto, _, test, _ = fitted
    with pytest.raises(ValueError, match="futr_df"):
        auto.predict()
    with pytest.raises(ValueError, match="futr_df"):
        auto.predict(futr_df=test[["unique_id", "ds", "x"]].iloc[:-1])


def test_save_load_round_trip_gives_identical_forecasts(fitted, tmp_path):
    auto, _, test, _ = fitted
    futr = test[["unique_id", "ds", "x"]]
    path = auto.save(tmp_path / "auto.safetensors")
    loaded = tsattn.load(path)
    pd.testing.assert_frame_equal(loaded.predict(futr_df=futr), auto.predict(futr_df=futr))
    assert [m.futr_exog_list for m in loaded.members_] == [m.futr_exog_list for m in auto.members_]


def daily(n: int = 160, seed: int = 2) -> pd.DataFrame:
    """A daily cycle under unit noise (the naive loses to a model of the hour) and a
    past-only column z."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, uid in enumerate(("a", "b")):
        cycle = 5 * np.sin(2 * np.pi * np.arange(n) / 24)
        frame = {
            "unique_id": uid,
            "ds": pd.date_range("2024-01-01", periods=n, freq="h"),
            "y": cycle + rng.normal(0, 1, n) + 10 * k,
            "z": rng.normal(0, 1, n),
        }
        parts.append(pd.DataFrame(frame))
    return pd.concat(parts, ignore_index=True)


def test_past_only_static_and_calendar_covariates_end_to_end(tmp_path):
    train, _ = split(daily())
    static_df = pd.DataFrame({"unique_id": ["a", "b"], "s": [0.0, 1.0]})
    spec = "nlinear:input_size=24:max_steps=100"
    auto = AutoForecaster(
        H,
        hist_exog_list=["z"],
        stat_exog_list=["s"],
        calendar=["hour"],
        models=["naive", spec],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no candidate is told of covariates it cannot use
        auto.fit(train, static_df=static_df)
    board = auto.leaderboard().set_index("model")
    assert (board["status"].iloc[:-1] == "ok").all(), board["status"]
    member = {m.name: m for m in auto.members_}[spec]
    assert (member.hist_exog_list, member.stat_exog_list) == (["z"], ["s"])
    assert member.calendar == ["hour"]
    assert member._history.hist is not None and member._history.static is not None
    forecast = auto.predict()
    assert len(forecast) == 2 * H and np.isfinite(forecast["AutoForecaster"]).all()
    again = auto.predict(df=train, static_df=static_df)
    pd.testing.assert_frame_equal(again, forecast)
    loaded = tsattn.load(auto.save(tmp_path / "auto.safetensors"))
    pd.testing.assert_frame_equal(loaded.predict(), forecast)
    # the member reads z: another z in the history moves the forecast
    changed = train.assign(z=train["z"] + np.where(train.index % 7 == 0, 5.0, 0.0))
    moved = auto.predict(df=changed, static_df=static_df)
    assert not np.allclose(moved["AutoForecaster"], forecast["AutoForecaster"])


def test_an_instance_keeps_its_own_declaration_among_the_auto_ones():
    train, test = split(driven())
    own = NLinear(h=H, input_size=24, max_steps=300, futr_exog_list=["x"], alias="own")
    auto = AutoForecaster(H, futr_exog_list=["w", "x"], models=["naive", own])
    auto.fit(train)
    assert own._history is None  # the given instance is left as it was
    members = {m.name: m for m in auto.members_}
    assert members["own"].futr_exog_list == ["x"]
    futr = test[["unique_id", "ds", "w", "x"]]
    forecast = auto.predict(futr_df=futr)
    # each member forecasts from its own columns (x only for "own", none for the naive)
    board = auto.leaderboard().set_index("model")["weight"]
    expected = sum(
        board[name] * m.predict(futr_df=futr if m.futr_exog_list else None)[name].to_numpy()
        for name, m in members.items()
    )
    np.testing.assert_allclose(forecast["AutoForecaster"], expected, rtol=1e-9, atol=1e-9)
    assert board["own"] >= 0.8


def test_an_instance_reading_undeclared_covariates_is_refused():
    train, _ = split(driven())
    own = NLinear(h=H, input_size=24, max_steps=5, futr_exog_list=["w"], alias="own")
    auto = AutoForecaster(H, futr_exog_list=["x"], models=["naive", own])
    with pytest.raises(ValueError, match="own reads future-known covariates \\['w'\\]"):
        auto.fit(train)


def test_tune_passes_the_covariates_through():
    pytest.importorskip("optuna")
    train, test = split(driven(n=160))
    auto = AutoForecaster(
        H, futr_exog_list=["x"], models=["naive", "nlinear:input_size=24:max_steps=200"], tune=2
    )
    auto.fit(train)
    status = auto.leaderboard().set_index("model")["status"]
    assert "tuned (2 trials)" in status["nlinear:input_size=24:max_steps=200"]
    forecast = auto.predict(futr_df=test[["unique_id", "ds", "x"]])
    assert np.isfinite(forecast["AutoForecaster"]).all()


def test_it_runs_in_backtest_with_covariates_and_static_df():
    df = driven(n=120)
    static_df = pd.DataFrame({"unique_id": ["a", "b"], "s": [0.0, 1.0]})
    auto = AutoForecaster(
        H,
        futr_exog_list=["x"],
        stat_exog_list=["s"],
        models=["naive", "nlinear:input_size=24:max_steps=100"],
        n_windows=2,
    )
    result = tsattn.backtest(auto, df, h=H, n_windows=1, static_df=static_df)
    assert len(result) == 2 * H and np.isfinite(result["AutoForecaster"]).all()
    assert float(np.mean(np.abs(result["y"] - result["AutoForecaster"]))) < 1.5
