"""The backtest harness against known answers: cutoffs, training windows, refits, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsattn.evaluation import backtest, evaluate, metrics_by_step
from tsattn.models import Forecaster
from tsattn.models.baselines import Naive, SeasonalNaive


def recorder(alias: str | None = None) -> tuple[Forecaster, list]:
    """A naive forecaster that logs ("fit" | "predict", length of each series it sees).

    The log lives in a class made per call, so deep copies made by backtest share it.
    """
    log: list[tuple[str, list[int]]] = []

    class Recorder(Forecaster):
        def __init__(self, h: int = 1, **kwargs):
            super().__init__(h, **kwargs)

        def _fit(self, data, val_size):
            log.append(("fit", [len(v) for v in data.values]))

        def _predict(self, data, h):
            log.append(("predict", [len(v) for v in data.values]))
            return np.stack([np.full(h, v[-1]) for v in data.values])

        def min_train_length(self, val_size=0):
            return 1

    return Recorder(alias=alias), log


def series(n: int = 20, slope: float = 1.0, uid: str = "a", start="2024-01-01") -> pd.DataFrame:
    ds = pd.date_range(start, periods=n, freq="D")
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": slope * np.arange(n, dtype=float)})


def days(*numbers: int) -> list[pd.Timestamp]:
    return [pd.Timestamp(f"2024-01-{d:02d}") for d in numbers]


def cutoffs(frame: pd.DataFrame) -> list[pd.Timestamp]:
    return list(pd.DatetimeIndex(frame["cutoff"].unique()))


def fits(log):
    return [lengths[0] for kind, lengths in log if kind == "fit"]


def predicts(log):
    return [lengths[0] for kind, lengths in log if kind == "predict"]


def test_naive_on_a_line_has_error_k_times_slope_at_step_k():
    frame = backtest(Naive(), series(30, slope=2.0), h=4, n_windows=5, step=1)
    assert list(frame.columns) == ["unique_id", "ds", "cutoff", "y", "Naive"]
    assert len(frame) == 5 * 4
    by_step = metrics_by_step(frame, metrics=["mae"])
    np.testing.assert_allclose(by_step["Naive"], [2.0, 4.0, 6.0, 8.0])
    train = series(30, slope=2.0)
    overall = evaluate(frame, metrics=["mae", "mase"], train_df=train, season_length=1)
    np.testing.assert_allclose(overall["Naive"], [5.0, 2.5])  # MASE scale: the slope, 2


def test_expanding_windows_end_at_the_end_of_the_series():
    model, log = recorder()
    frame = backtest(model, series(20), h=3, n_windows=3)
    assert cutoffs(frame) == days(11, 14, 17)  # positions 10, 13, 16; 16 = 20 - 1 - 3
    assert frame["ds"].max() == pd.Timestamp("2024-01-20")
    assert fits(log) == [11, 14, 17]
    assert predicts(log) == [11, 14, 17]


def test_sliding_windows_train_on_the_last_train_length_steps():
    model, log = recorder()
    frame = backtest(model, series(20), h=3, n_windows=3, window="sliding", train_length=5)
    assert cutoffs(frame) == days(11, 14, 17)
    assert fits(log) == [5, 5, 5]


@pytest.mark.parametrize(
    "start, step, expected",
    [
        (0.5, 2, days(10, 12, 14, 16)),  # int(0.5 * 20) = 10 observations in the first window
        (12, 4, days(13, 17)),  # position 12
        (-8, 1, days(13, 14, 15, 16, 17)),  # position 20 - 8 = 12
        ("2024-01-08 12:00", 3, days(8, 11, 14, 17)),  # last observation at or before it
        (pd.Timestamp("2024-01-17"), None, days(17)),
    ],
)
def test_start_and_step(start, step, expected):
    model, log = recorder()
    frame = backtest(model, series(20), h=3, start=start, step=step)
    assert cutoffs(frame) == expected
    assert fits(log) == [c.day for c in expected]  # training data: days 1..cutoff
    assert frame.groupby("cutoff").size().eq(3).all()


@pytest.mark.parametrize(
    "refit, expected_fits", [(True, [14, 15, 16, 17, 18]), (False, [14]), (2, [14, 16, 18])]
)
def test_refit_happens_exactly_as_often_as_asked(refit, expected_fits):
    model, log = recorder()
    backtest(model, series(20), h=2, n_windows=5, step=1, refit=refit)
    assert fits(log) == expected_fits
    assert predicts(log) == [14, 15, 16, 17, 18]  # every window forecasts from its cutoff


def test_refit_false_predicts_from_the_sliding_window():
    model, log = recorder()
    backtest(model, series(20), h=2, n_windows=3, refit=False, window="sliding", train_length=6)
    assert fits(log) == [6]
    assert predicts(log) == [6, 6, 6]


def test_several_models_side_by_side_and_models_are_not_mutated():
    naive, seasonal = Naive(), SeasonalNaive(season_length=7)
    frame = backtest([naive, seasonal], series(40), h=7, n_windows=2)
    assert list(frame.columns) == ["unique_id", "ds", "cutoff", "y", "Naive", "SeasonalNaive"]
    assert naive._history is None and seasonal._history is None
    table = evaluate(frame, metrics=["mae"])
    assert list(table.columns) == ["metric", "Naive", "SeasonalNaive"]
    # on y = t the last season lags by 7 steps: error 7 at every step
    np.testing.assert_allclose(table["SeasonalNaive"], [7.0])


def test_ragged_series_get_their_own_windows():
    df = pd.concat([series(20, uid="a"), series(15, uid="b")], ignore_index=True)
    model, log = recorder()
    frame = backtest(model, df, h=3, start="2024-01-05", step=3)
    assert cutoffs(frame[frame.unique_id == "a"]) == days(5, 8, 11, 14, 17)
    assert cutoffs(frame[frame.unique_id == "b"]) == days(5, 8, 11)
    assert [lengths for kind, lengths in log if kind == "fit"][-1] == [17]  # b has no window 4


def test_wide_frames_and_progress_bar():
    wide = pd.DataFrame(
        {
            "ds": pd.date_range("2024-01-01", periods=12, freq="h"),
            "x": np.arange(12.0),
            "z": np.ones(12),
        }
    )
    frame = backtest(Naive(), wide, h=2, n_windows=2, progress=True)
    assert sorted(frame["unique_id"].unique()) == ["x", "z"]
    assert len(frame) == 2 * 2 * 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"h": 0}, "h must be a positive integer"),
        ({"n_windows": 10}, "n_windows=10 windows"),
        ({"n_windows": 2, "start": 5}, "not both"),
        ({"window": "rolling"}, "window must be one of"),
        ({"window": "sliding"}, "needs train_length"),
        ({"train_length": 5}, "sliding"),
        ({"window": "sliding", "train_length": 19, "n_windows": 2}, "fewer than train_length"),
        ({"start": 1.5}, "float start"),
        ({"start": 40}, "outside series"),
        ({"start": "2023-06-01"}, "before the first timestamp"),
        ({"start": "not a date"}, "start must be"),
        ({"start": 18}, "no complete window"),
        ({"refit": 0}, "refit must be"),
        ({"step": -1}, "step must be"),
    ],
)
def test_impossible_settings_are_clear_errors(kwargs, message):
    kwargs = {"h": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        backtest(Naive(), series(20), **kwargs)


def test_model_list_errors():
    with pytest.raises(ValueError, match="unique"):
        backtest([Naive(), Naive()], series(20), h=2)
    with pytest.raises(ValueError, match="Forecasters"):
        backtest([object()], series(20), h=2)
    with pytest.raises(ValueError, match="needs at least 7|need at least 7"):
        backtest(SeasonalNaive(season_length=7), series(20), h=3, start=2)


def test_progress_bar_names_the_model_and_window_running(capsys):
    backtest([Naive(), SeasonalNaive(season_length=2)], series(20), h=2, n_windows=2, progress=True)
    err = capsys.readouterr().err
    for name in ("Naive", "SeasonalNaive"):
        assert f"backtest {name} window 1/2" in err and f"backtest {name} window 2/2" in err
    assert "4/4" in err
