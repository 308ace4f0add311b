"""AutoForecaster (issue 24): selection, greedy ensemble, failures, time limit, leaderboard,
intervals, save / load (nested members, forged files), backtest and the CLI. Tiny and fast:
naive-family candidates on short generated series."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from safetensors import safe_open
from safetensors.torch import save_file

import tsattn
from tsattn import cli
from tsattn.auto import AutoForecaster, AutoWarning
from tsattn.auto.combine import WINDOWS_PER_CANDIDATE, better_half, greedy_ensemble
from tsattn.models.baselines import Naive, SeasonalNaive
from tsattn.models.persistence import tensor_digest

CHEAP = ["naive", "seasonal_naive:season_length=24"]


def hourly(values: dict[str, np.ndarray]) -> pd.DataFrame:
    """One hourly series per entry."""
    parts = [
        pd.DataFrame(
            {"unique_id": uid, "ds": pd.date_range("2024-01-01", periods=len(y), freq="h"), "y": y}
        )
        for uid, y in values.items()
    ]
    return pd.concat(parts, ignore_index=True)


def seasonal(n: int = 240, seed: int = 0) -> np.ndarray:
    """A strong daily cycle: the seasonal naive wins."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 10 + 5 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.1, n)


def walk(n: int = 240, seed: int = 1) -> np.ndarray:
    """A random walk with a small daily ripple: the naive wins."""
    rng = np.random.default_rng(seed)
    return 50 + np.cumsum(rng.normal(0, 1.0, n)) + 0.05 * np.sin(2 * np.pi * np.arange(n) / 24)


class Failing(Naive):
    """A candidate whose fit always raises."""

    def _fit(self, data, val_size):
        raise RuntimeError("this candidate always fails")


class FailsOnLongSeries(Naive):
    """A candidate that validates (on the shorter training part) but cannot be refit."""

    def _fit(self, data, val_size):
        if data.min_length > 230:  # the validation fits on 222 points, the refit on 240
            raise RuntimeError("too long for me")
        super()._fit(data, val_size)


class Slow(Naive):
    """A naive forecast that takes its time to fit."""

    def _fit(self, data, val_size):
        time.sleep(0.3)
        super()._fit(data, val_size)


# ---------------------------------------------------------------------- choosing


def test_selection_picks_the_better_candidate_of_each_series():
    df = hourly({"season": seasonal(), "walk": walk()})
    auto = AutoForecaster(h=12, models=CHEAP, method="select").fit(df)
    weights = dict(zip(auto._series_ids, auto._weights.tolist()))
    names = [m.name for m in auto.members_]
    assert names == CHEAP
    assert weights["season"] == [0.0, 1.0]  # seasonal naive
    assert weights["walk"] == [1.0, 0.0]  # naive
    forecast = auto.predict().set_index(["unique_id", "ds"])["AutoForecaster"]
    by_member = {m.name: m.predict().set_index(["unique_id", "ds"])[m.name] for m in auto.members_}
    np.testing.assert_allclose(forecast.loc["season"], by_member[CHEAP[1]].loc["season"])
    np.testing.assert_allclose(forecast.loc["walk"], by_member["naive"].loc["walk"])


def test_the_global_ensemble_chooses_the_seasonal_naive_on_seasonal_data():
    df = hourly({"a": seasonal(seed=0), "b": seasonal(seed=3)})
    auto = AutoForecaster(h=12, models=CHEAP).fit(df)
    board = auto.leaderboard().set_index("model")
    assert board.loc[CHEAP[1], "weight"] == 1.0 and board.loc["naive", "weight"] == 0.0
    assert board.loc[CHEAP[1], "mase"] < board.loc["naive", "mase"]
    assert [m.name for m in auto.members_] == [CHEAP[1]]  # the weightless one is not refit


def test_greedy_weights_sum_to_one_and_the_loss_falls_at_every_step():
    rng = np.random.default_rng(0)
    actual = rng.normal(size=300)
    forecasts = actual[:, None] + rng.normal(size=(300, 5)) * [0.5, 0.6, 0.7, 1.0, 3.0]
    fit = greedy_ensemble(forecasts, actual, np.ones(300))
    assert fit.weights.sum() == pytest.approx(1.0) and (fit.weights >= 0).all()
    assert len(fit.path) > 2 and all(b < a for a, b in zip(fit.path, fit.path[1:]))
    single = np.abs(actual[:, None] - forecasts).mean(axis=0).min()
    assert fit.path[0] == pytest.approx(single) and fit.path[-1] < single


@pytest.mark.parametrize("method", ["auto", "ensemble", "select", "per_series", "top"])
def test_every_method_gives_weights_that_sum_to_one(method):
    df = hourly({"season": seasonal(), "walk": walk()})
    auto = AutoForecaster(h=6, models=[*CHEAP, "nlinear:input_size=24:max_steps=5"], method=method)
    auto.fit(df)
    np.testing.assert_allclose(auto._weights.sum(axis=1), 1.0)
    assert auto._global.sum() == pytest.approx(1.0)
    board = auto.leaderboard()
    assert board["weight"].iloc[:-1].sum() == pytest.approx(1.0)
    combined = board["mase"].iloc[-1]
    if method in ("ensemble", "select", "per_series"):  # fitted weights, in-sample
        assert combined <= board["mase"].iloc[:-1].min() + 1e-12  # never worse
    else:  # 2 series x 3 windows: too few to fit weights, the better half's mean
        ranked = board.iloc[:-1].sort_values("mase", kind="stable")
        assert ranked["weight"].tolist() == pytest.approx([0.5, 0.5, 0.0])


def test_the_better_half_takes_equal_weights_on_the_lowest_validation_errors():
    rng = np.random.default_rng(0)
    actual = rng.normal(size=60)
    noise = rng.normal(size=(60, 5)) * [3.0, 0.5, 2.0, 0.7, 1.0]
    fit = better_half(actual[:, None] + noise, actual, np.ones(60))
    assert fit.weights.tolist() == pytest.approx([0, 1 / 3, 0, 1 / 3, 1 / 3])
    assert better_half(actual[:, None] + noise[:, :2], actual, np.ones(60)).weights[1] == 1.0


def test_auto_fits_greedy_weights_only_with_ten_validation_windows_per_candidate():
    """Two candidates need 20 windows: 7 series x 3 windows (21) get the greedy ensemble,
    6 series (18) the better half (here the single best)."""
    a_walk = [walk(seed=s) + 0.8 * seasonal(seed=s) for s in range(7)]  # both forecasts help
    many = AutoForecaster(h=6, models=CHEAP, method="auto").fit(
        hourly({f"s{k}": y for k, y in enumerate(a_walk)})
    )
    few = AutoForecaster(h=6, models=CHEAP, method="auto").fit(
        hourly({f"s{k}": y for k, y in enumerate(a_walk[:6])})
    )
    greedy = AutoForecaster(h=6, models=CHEAP, method="ensemble").fit(
        hourly({f"s{k}": y for k, y in enumerate(a_walk)})
    )
    assert WINDOWS_PER_CANDIDATE == 10
    np.testing.assert_allclose(many._global, greedy._global)
    assert many.leaderboard()["status"].iloc[-1] == (
        "combination: greedy ensemble (method='auto': 21 validation windows for 2 "
        "candidates, 10.5 per candidate, at least 10)"
    )
    assert (
        few.leaderboard()["status"]
        .iloc[-1]
        .startswith(
            "combination: equal mean of the better half (method='auto': 18 validation windows"
        )
    )
    assert greedy.leaderboard()["status"].iloc[-1] == "combination: greedy ensemble"
    assert 0 < many._global.min()  # a real mix of the two
    assert sorted(few.leaderboard()["weight"].iloc[:2]) == [0.0, 1.0]


# ---------------------------------------------------------------------- failures, budget


def test_a_failing_candidate_is_dropped_with_a_warning():
    df = hourly({"a": seasonal()})
    auto = AutoForecaster(h=6, models=[Failing(alias="broken"), *CHEAP])
    with pytest.warns(AutoWarning, match="broken is left out: failed: RuntimeError"):
        auto.fit(df)
    board = auto.leaderboard().set_index("model")
    assert board.loc["broken", "status"].startswith("failed: RuntimeError")
    assert np.isnan(board.loc["broken", "mase"]) and board.loc["broken", "weight"] == 0.0
    assert np.isfinite(auto.predict()["AutoForecaster"]).all()


def test_a_member_that_fails_at_refit_is_dropped_and_the_rest_combined_again():
    df = hourly({"a": walk()})
    models = [FailsOnLongSeries(alias="fragile"), "seasonal_naive:season_length=24"]
    with pytest.warns(AutoWarning, match="fragile is left out: failed at refit"):
        auto = AutoForecaster(h=6, models=models).fit(df)
    board = auto.leaderboard().set_index("model")
    assert board.loc["fragile", "status"].startswith("failed at refit")
    assert [m.name for m in auto.members_] == ["seasonal_naive:season_length=24"]
    with pytest.raises(ValueError, match="no candidate of AutoForecaster is left"):
        AutoForecaster(h=6, models=models[:1]).fit(df)


def test_on_error_raise_stops_the_fit():
    auto = AutoForecaster(h=6, models=[Failing(alias="broken"), "naive"], on_error="raise")
    with pytest.raises(RuntimeError, match="always fails"):
        auto.fit(hourly({"a": seasonal()}))


def test_no_candidate_left_is_a_value_error():
    with pytest.warns(AutoWarning), pytest.raises(ValueError, match="no candidate"):
        AutoForecaster(h=6, models=[Failing(alias="broken")]).fit(hourly({"a": seasonal()}))


def test_the_time_limit_skips_the_remaining_candidates():
    df = hourly({"a": seasonal()})
    auto = AutoForecaster(h=6, models=[Slow(alias="slow"), *CHEAP], time_limit=0.2).fit(df)
    board = auto.leaderboard().set_index("model")
    assert board.loc["slow", "status"] == "ok" and board.loc["slow", "validation_s"] >= 0.3
    for name in CHEAP:
        assert board.loc[name, "status"] == "skipped: time_limit spent"
    assert [m.name for m in auto.members_] == ["slow"]


class SlowSeasonal(SeasonalNaive):
    """A seasonal naive forecast that takes 0.8 s to fit."""

    def _fit(self, data, val_size):
        time.sleep(0.8)
        super()._fit(data, val_size)


class SlowerNaive(Naive):
    """A naive forecast that takes 0.8 s to fit."""

    def _fit(self, data, val_size):
        time.sleep(0.8)
        super()._fit(data, val_size)


def test_the_time_limit_leaves_out_members_whose_refit_would_pass_it():
    """Each validates in 0.8 s (the second starts before the 1.5 s half of the limit, with
    0.7 s to spare), so both get weight (each is best on one series); refitting both would
    end past 1.6 + 1.6 > 3 s: the lighter member is left out, the heavier refit."""
    df = hourly({"a": seasonal(), "b": walk()})
    models = [SlowSeasonal(season_length=24, alias="seasonal"), SlowerNaive(alias="naive")]
    auto = AutoForecaster(h=6, models=models, method="select", time_limit=3.0).fit(df)
    board = auto.leaderboard().set_index("model")
    assert (board.loc[["seasonal", "naive"], "validation_s"] >= 0.8).all()  # both validated
    left_out = board[board["status"].str.startswith("left out at refit")]
    assert len(left_out) == 1 and left_out["refit_s"].iloc[0] == 0.0
    assert len(auto.members_) == 1


def test_short_series_use_fewer_windows_and_drop_candidates_that_need_more():
    df = hourly({"a": seasonal(40)})
    with pytest.warns(AutoWarning, match="needs"):
        auto = AutoForecaster(h=6, n_windows=10, models=["naive", "nlinear:input_size=30"])
        auto.fit(df)
    board = auto.leaderboard().set_index("model")
    assert board.loc["naive", "status"] == "ok"
    assert board.loc["nlinear:input_size=30", "status"].startswith("needs")
    assert auto._scores.shape == (5, 6)  # (40 - 7) // 6 = 5 windows of the one series
    with pytest.raises(ValueError, match="needs at least 13"):
        AutoForecaster(h=6, models=["naive"]).fit(hourly({"a": seasonal(12)}))


def test_bad_arguments_are_value_errors():
    for bad in (
        {"models": "naive"},
        {"models": []},
        {"models": ["auto"]},
        {"models": [{"model": "naive"}]},
        {"method": "vote"},
        {"time_limit": 0},
        {"on_error": "ignore"},
        {"n_windows": 0},
    ):
        with pytest.raises(ValueError):
            AutoForecaster(h=3, **bad)


# ---------------------------------------------------------------------- intervals, backtest


def test_intervals_come_from_the_combination_validation_errors():
    df = hourly({"a": seasonal(), "b": walk()})
    auto = AutoForecaster(h=6, models=CHEAP, n_windows=4).fit(df)
    out = auto.predict(level=[80, 95])
    point = out["AutoForecaster"]
    assert (out["AutoForecaster-lo-95"] <= out["AutoForecaster-lo-80"]).all()
    assert (out["AutoForecaster-lo-80"] <= point).all() and (
        point <= out["AutoForecaster-hi-80"]
    ).all()
    assert (out["AutoForecaster-hi-80"] <= out["AutoForecaster-hi-95"]).all()
    width = (out["AutoForecaster-hi-95"] - out["AutoForecaster-lo-95"]).groupby(out["unique_id"])
    assert width.mean()["b"] > width.mean()["a"]  # the random walk is the harder series


def test_it_runs_in_backtest():
    df = hourly({"a": seasonal(), "b": walk()})
    frame = tsattn.backtest(AutoForecaster(h=6, models=CHEAP), df, h=6, n_windows=2, level=[80])
    assert {"AutoForecaster", "AutoForecaster-lo-80"} <= set(frame.columns)
    assert len(frame) == 2 * 2 * 6 and frame["AutoForecaster"].notna().all()


# ---------------------------------------------------------------------- files


def test_save_load_round_trip_gives_identical_forecasts(tmp_path):
    df = hourly({"season": seasonal(), "walk": walk()})
    models = ["naive", tsattn.SeasonalNaive(season_length=24, alias="sn"), "theta"]
    auto = AutoForecaster(h=6, models=models, method="per_series").fit(df)
    path = auto.save(tmp_path / "auto.safetensors")
    loaded = tsattn.load(path)
    assert type(loaded) is AutoForecaster and loaded.method == "per_series"
    pd.testing.assert_frame_equal(loaded.predict(level=[90]), auto.predict(level=[90]))
    history = df.groupby("unique_id").head(200)
    pd.testing.assert_frame_equal(loaded.predict(df=history), auto.predict(df=history))
    pd.testing.assert_frame_equal(loaded.leaderboard(), auto.leaderboard())
    assert loaded.get_params()["models"][1] == {
        "model": "seasonal_naive",
        "params": models[1].get_params(),
    }
    refit = loaded.fit(df).predict()  # the saved candidates build again
    pd.testing.assert_frame_equal(refit, auto.predict())


def _rewrite(path, change) -> None:
    """Edit a model file's header (``change(header, tensors)``) and fix its digest."""
    with safe_open(path, framework="pt") as fh:
        header = dict(fh.metadata())
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118
    change(header, tensors)
    header["digest"] = tensor_digest(tensors)
    save_file(tensors, path, metadata=header)


def _state(change):
    def edit(header, tensors):
        state = json.loads(header["state"])
        change(state, tensors)
        header["state"] = json.dumps(state)

    return edit


FORGERIES = {
    "a member of an unknown class": _state(lambda s, t: s["members"][0].update(model="os.system")),
    "an AutoForecaster as a member": _state(lambda s, t: s["members"][0].update(model="auto")),
    "a member without its state": _state(lambda s, t: s["members"][0].pop("state")),
    "weights that do not sum to one": _state(lambda s, t: t["weights"].mul_(2.0)),
    "weights of the wrong shape": _state(
        lambda s, t: t.update(weights=t["weights"][:, :1].contiguous())
    ),
    "a stray member tensor": _state(lambda s, t: t.update({"member.9.x": t["weights"].clone()})),
    "no scores": _state(lambda s, t: t.pop("scores")),
    "an unknown state field": _state(lambda s, t: s.update(exec="print(1)")),
    "a malformed leaderboard": _state(lambda s, t: s.update(leaderboard=[["x"]])),
    "a member's forged parameter": _state(
        lambda s, t: s["members"][0].update(params=json.dumps({"h": 6, "evil": 1}))
    ),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_forged_file_is_refused_with_a_value_error(tmp_path, forgery):
    df = hourly({"a": seasonal(), "b": walk()})
    auto = AutoForecaster(h=6, models=CHEAP, method="select").fit(df)
    path = auto.save(tmp_path / "auto.safetensors")
    _rewrite(path, FORGERIES[forgery])
    with pytest.raises(ValueError, match="corrupt tsattn model file"):
        tsattn.load(path)


# ---------------------------------------------------------------------- registry, CLI


def test_it_is_registered_and_buildable_by_name():
    assert "auto" in tsattn.list_models()
    model = tsattn.create_model('auto:models=["naive","theta"]:method=select', h=4)
    assert isinstance(model, AutoForecaster) and model.models == ["naive", "theta"]


def test_the_cli_fits_backtests_and_predicts_with_auto(tmp_path, capsys):
    csv = tmp_path / "series.csv"
    hourly({"a": seasonal(120), "b": walk(120)}).to_csv(csv, index=False)
    spec = 'auto:models=["naive","seasonal_naive"]'
    code = cli.main(["backtest", "--csv", str(csv), "--h", "6", "--models", spec, "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "mae" in out
    model = tmp_path / "auto.safetensors"
    argv = ["fit", "--csv", str(csv), "--h", "6", "--model", spec, "--save", str(model)]
    assert cli.main([*argv, "--no-progress"]) == 0
    capsys.readouterr()
    assert cli.main(["predict", "--model-path", str(model), "--level", "80"]) == 0
    out, err = capsys.readouterr()
    assert "lo-80" in out, err


def test_integer_time_steps_and_wide_frames():
    steps = pd.DataFrame({"unique_id": "a", "ds": np.arange(100, 340), "y": seasonal()})
    out = AutoForecaster(h=6, models=CHEAP).fit(steps).predict()
    assert out["ds"].tolist() == list(range(340, 346))
    wide = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=240, freq="h"), "x": walk()})
    out = AutoForecaster(h=6, models=CHEAP).fit(wide).predict()
    assert out["unique_id"].unique().tolist() == ["x"] and len(out) == 6
