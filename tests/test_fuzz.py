"""Fuzzing the data path: generated frames through read_series, fit, predict and backtest.

Every call on a generated frame either returns a frame without NaN or raises a
``ValueError`` with a message; any other exception type (TypeError, KeyError, IndexError,
ZeroDivisionError...) is a bug. Frames mix the usual problems: NaN / inf, duplicate and
unsorted timestamps, irregular steps, tiny or empty series, strings and objects, missing
columns, mixed valid and invalid series, wide and long layouts.

Hypothesis runs derandomized with few examples so that CI is deterministic and quick.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FACTORIES, model_params
from tsattn import backtest
from tsattn.datasets import read_series
from tsattn.models.baselines import Naive, SeasonalNaive

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NEURAL = settings(FUZZ, max_examples=15)

START = pd.Timestamp("2024-01-01")
FILLS = st.sampled_from([None, None, "ffill", "interpolate", "zero"])

# ---- strategies --------------------------------------------------------------------------

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(min_value=-1e3, max_value=1e3),
    st.integers(-5, 5),
    st.sampled_from(
        [None, "", "1.5", "abc", True, [1.0], {"a": 1}, np.nan, pd.NA, 1e300, 10**400, 2j, START]
    ),
)
times = st.one_of(
    st.integers(0, 40).map(lambda i: START + pd.Timedelta(days=i)),
    st.integers(0, 40).map(lambda i: (START + pd.Timedelta(days=i)).strftime("%Y-%m-%d")),
    st.integers(0, 40 * 24).map(lambda i: START + pd.Timedelta(hours=i)),
    st.sampled_from([None, pd.NaT, "not a date", "", 7, 1.5, "2024-13-45"]),
)
ids = st.one_of(
    st.sampled_from(["a", "b", "c"]),
    st.integers(0, 2),
    st.sampled_from([None, 1.5, "1", ("t",), START]),
)


@st.composite
def clean_series(draw, uid: object) -> pd.DataFrame:
    """One regular daily series of 2-40 points at scale 1, 1e-9 or 1e9."""
    n = draw(st.sampled_from([2, 3, 5, 12, 20, 30, 40]))
    y = np.sin(np.arange(n) / 3.0) * draw(st.sampled_from([1.0, 1e-9, 1e9])) + 1.0
    frame = pd.DataFrame(
        {
            "unique_id": pd.Series([uid] * n, dtype=object),
            "ds": pd.date_range(START, periods=n, freq="D"),
            "y": y,
        }
    )
    return frame


@st.composite
def spoil(draw, frame: pd.DataFrame) -> pd.DataFrame:
    """Apply a few random corruptions to a long frame."""
    frame = frame.copy()
    for _ in range(draw(st.integers(0, 3))):
        if frame.empty:
            break
        kind = draw(
            st.sampled_from(
                ["value", "time", "id", "duplicate", "shuffle", "drop_row", "object", "truncate"]
            )
        )
        i = draw(st.integers(0, len(frame) - 1))
        if kind in ("value", "time", "id", "object"):
            column = {"value": "y", "time": "ds", "id": "unique_id", "object": "y"}[kind]
            strategy = {"value": values, "time": times, "id": ids | st.just(["x"])}.get(
                kind, values
            )
            cells = frame[column].tolist()
            cells[i] = draw(strategy)
            frame[column] = pd.Series(cells, index=frame.index, dtype=object)
        elif kind == "duplicate":
            frame = pd.concat([frame, frame.iloc[[i]]], ignore_index=True)
        elif kind == "shuffle":
            seed = draw(st.integers(0, 2**16))
            frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
        elif kind == "drop_row":
            frame = frame.drop(index=frame.index[i]).reset_index(drop=True)
        else:
            frame = frame.iloc[: draw(st.integers(0, 5))].reset_index(drop=True)
    return frame


@st.composite
def long_frames(draw) -> pd.DataFrame:
    """Long frames: 0-3 series, each clean or spoilt, sometimes a missing/extra column."""
    n_series = draw(st.sampled_from([1, 1, 2, 2, 3, 0]))
    uids = draw(st.lists(ids, min_size=n_series, max_size=n_series, unique=True))
    parts = [draw(clean_series(uid=uid)) for uid in uids]
    frame = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({"unique_id": [], "ds": [], "y": []})
    )
    if draw(st.sampled_from([False, False, True])):
        frame = draw(spoil(frame))
    layout = draw(
        st.sampled_from(
            ["long"] * 6 + ["drop_column", "extra", "wide", "no_columns", "twice", "categorical"]
        )
    )
    if layout == "drop_column":
        frame = frame.drop(columns=draw(st.sampled_from(["unique_id", "ds", "y"])))
    elif layout == "extra":
        frame = frame.assign(note="x")
    elif layout == "wide" and not frame.empty:
        frame = _widen(frame)
    elif layout == "no_columns":
        frame = pd.DataFrame(index=range(draw(st.integers(0, 3))))
    elif layout == "twice":  # a column name used twice
        frame = pd.concat([frame, frame[[draw(st.sampled_from(["ds", "y"]))]]], axis=1)
    elif layout == "categorical" and not frame.empty:
        categories = [*frame["unique_id"].dropna().unique(), "unused"]
        with contextlib.suppress(TypeError, ValueError):
            frame["unique_id"] = pd.Categorical(frame["unique_id"], categories=categories)
    return frame


def _widen(frame: pd.DataFrame) -> pd.DataFrame:
    """A wide variant of a long frame (best effort; the pivot itself may be impossible)."""
    try:
        return frame.pivot_table(index="ds", columns="unique_id", values="y", aggfunc="first")
    except Exception:  # noqa: BLE001 - the generator only wants some wide frame
        return frame.drop(columns="unique_id").rename(columns={"y": "a"})


# ---- the contract ------------------------------------------------------------------------


def _check(call) -> pd.DataFrame | None:
    """Run ``call``: a frame without NaN, or a ValueError with a message; nothing else."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = call()
    except ValueError as err:
        assert str(err).strip(), f"empty ValueError message from {call}"
        return None
    assert isinstance(result, pd.DataFrame)
    assert not result.isna().any().any(), result
    return result


def _check_model(make, frame: pd.DataFrame, h: int, fill: str | None, windows: dict) -> None:
    """fit, predict (from the training data and from a given history) and backtest."""
    model = make(h, fill)

    def fit() -> pd.DataFrame:
        model.fit(frame)
        return pd.DataFrame({"fitted": [True]})

    if _check(fit) is not None:
        forecast = _check(model.predict)
        assert forecast is not None, "fit succeeded but predict() raised"
        assert list(forecast.columns) == ["unique_id", "ds", model.name]
        assert np.isfinite(forecast[model.name]).all()
        _check(lambda: model.predict(df=frame, h=h))
        _check(lambda: model.predict(df=frame.iloc[::-1]))
    _check(lambda: backtest(make(h, fill), frame, h=h, fill=fill, **windows))


#: backtest window settings: n_windows, start (position, fraction, date), sliding windows
WINDOWS = st.sampled_from(
    [
        {"n_windows": 2},
        {"n_windows": 1, "refit": False},
        {"start": 0.5, "step": 2, "refit": 2},
        {"start": -4},
        {"start": "2024-01-05"},
        {"n_windows": 2, "window": "sliding", "train_length": 3},
    ]
)


@FUZZ
@given(frame=long_frames(), fill=FILLS)
def test_read_series_accepts_or_refuses_clearly(frame, fill):
    out = _check(lambda: read_series(frame, fill=fill))
    if out is not None:
        assert list(out.columns) == ["unique_id", "ds", "y"]
        assert np.isfinite(out["y"]).all()
        assert len(out) > 0


@FUZZ
@given(frame=long_frames(), h=st.integers(1, 3), fill=FILLS, windows=WINDOWS)
def test_baselines_fit_predict_backtest(frame, h, fill, windows):
    _check_model(lambda h, fill: Naive(h=h, fill=fill), frame, h, fill, windows)
    _check_model(
        lambda h, fill: SeasonalNaive(season_length=2, h=h, fill=fill), frame, h, fill, windows
    )


#: fewer examples for the models whose fit is slow (gluonts runs lightning per fit)
EXAMPLES = {"gluonts": 5}


@pytest.mark.parametrize("name", model_params())
def test_every_model_fit_predict_backtest(name):
    """Every registered model (tiny, a 4-step look-back) on generated frames."""

    @settings(NEURAL, max_examples=EXAMPLES.get(name, NEURAL.max_examples))
    @given(frame=long_frames(), h=st.integers(1, 2), fill=FILLS)
    def run(frame, h, fill):
        def make(h, fill):
            return FACTORIES[name](h, context=4, fill=fill)

        _check_model(make, frame, h, fill, {"n_windows": 2, "refit": False})

    run()
