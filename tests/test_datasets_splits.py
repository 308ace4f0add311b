"""The literature split of arbitrary wide frames, and memory-light windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import StandardScaler

from tsattn.datasets import SlidingWindows, benchmark_split, n_windows, window_view


def wide_frame(rows: int = 1000, channels: int = 3, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        rng.normal(5.0, 2.0, size=(rows, channels)), columns=list("abc")[:channels]
    )
    frame.insert(0, "date", pd.date_range("2020-01-01", periods=rows, freq="h"))
    return frame


def test_ratio_split_of_a_frame():
    s = benchmark_split(wide_frame(), input_size=48, horizon=24)
    assert s.borders == {"train": (0, 700), "val": (652, 800), "test": (752, 1000)}
    assert s.n_windows == {"train": 629, "val": 77, "test": 177}
    assert s.columns == ["a", "b", "c"] and s.index[0] == pd.Timestamp("2020-01-01")
    assert all(s.array(k).dtype == np.float32 for k in ("train", "val", "test"))
    assert np.shares_memory(s.val, s.test)  # views of one standardized array


def test_scaler_uses_train_rows_only_and_inverts():
    frame = wide_frame()
    s = benchmark_split(frame, 48, 24)
    reference = StandardScaler().fit(frame.iloc[:700, 1:].to_numpy())
    np.testing.assert_allclose(s.scaler.mean_, reference.mean_)
    np.testing.assert_allclose(s.train.mean(axis=0), 0.0, atol=1e-5)
    restored = s.inverse_transform(s.test.astype(np.float64))
    np.testing.assert_allclose(restored, frame.iloc[752:, 1:].to_numpy(), rtol=1e-5)


def test_ett_rule_on_a_frame_ignores_rows_after_the_test_border():
    s = benchmark_split(wide_frame(rows=15000), 96, 96, split="ett_hour")
    assert s.borders["test"] == (11520 - 96, 14400)
    with pytest.raises(ValueError, match="at least 14400 rows"):
        benchmark_split(wide_frame(rows=14000), 96, 96, split="ett_hour")


def test_datetime_index_frame_is_accepted():
    s = benchmark_split(wide_frame().set_index("date"), 24, 24)
    assert s.columns == ["a", "b", "c"] and len(s.index) == 1000


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"input_size": 800, "horizon": 24}, "exceeds the 700 train rows"),
        ({"input_size": 24, "horizon": 250}, "the val split"),
        ({"input_size": 24, "horizon": 24, "split": "thirds"}, "valid names: ett_hour"),
        ({"input_size": 0, "horizon": 24}, "must be >= 1"),
    ],
)
def test_bad_split_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        benchmark_split(wide_frame(), **kwargs)


def test_nan_and_non_numeric_columns_are_refused():
    frame = wide_frame()
    frame.loc[3, "b"] = np.nan
    with pytest.raises(ValueError, match=r"'b': 1"):
        benchmark_split(frame, 24, 24)
    frame["b"] = "x"
    with pytest.raises(ValueError, match=r"non-numeric columns \['b'\]"):
        benchmark_split(frame, 24, 24)


def test_window_view_is_a_view_with_the_right_windows():
    array = np.arange(60, dtype=np.float32).reshape(20, 3)
    view = window_view(array, 5, 3)
    assert view.inputs.shape == (13, 5, 3) and view.targets.shape == (13, 3, 3)
    assert np.shares_memory(view.inputs, array) and np.shares_memory(view.targets, array)
    np.testing.assert_array_equal(view.inputs[7], array[7:12])
    np.testing.assert_array_equal(view.targets[7], array[12:15])


def test_sliding_windows_index_and_batch():
    array = np.arange(60, dtype=np.float32).reshape(20, 3)
    windows = SlidingWindows(array, 5, 3)
    assert len(windows) == 13
    x, y = windows[12]
    np.testing.assert_array_equal(x, array[12:17])
    np.testing.assert_array_equal(y, array[17:20])
    assert windows.slices(2) == (slice(2, 7), slice(7, 10))
    bx, by = windows.batch([0, 12, 4])
    assert bx.shape == (3, 5, 3) and by.shape == (3, 3, 3)
    np.testing.assert_array_equal(bx[1], x)
    with pytest.raises(IndexError):
        windows[13]
    with pytest.raises(IndexError):
        windows.batch([13])
    with pytest.raises(ValueError, match="too few"):
        SlidingWindows(array, 15, 6)


def test_split_windows_feed_a_torch_dataloader():
    torch = pytest.importorskip("torch")
    s = benchmark_split(wide_frame(), 48, 24)
    loader = torch.utils.data.DataLoader(s.windows("test"), batch_size=32)
    x, y = next(iter(loader))
    assert x.shape == (32, 48, 3) and y.shape == (32, 24, 3)
    assert sum(len(b[0]) for b in loader) == s.n_windows["test"]


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(2, 60),
    input_size=st.integers(1, 30),
    horizon=st.integers(1, 30),
    data=st.data(),
)
def test_every_window_matches_index_arithmetic(rows, input_size, horizon, data):
    count = n_windows(rows, input_size, horizon)
    array = np.random.default_rng(rows).normal(size=(rows, 2)).astype(np.float32)
    if count < 1:
        with pytest.raises(ValueError):
            window_view(array, input_size, horizon)
        return
    view, windows = (
        window_view(array, input_size, horizon),
        SlidingWindows(array, input_size, horizon),
    )
    assert len(view.inputs) == len(windows) == count == rows - input_size - horizon + 1
    i = data.draw(st.integers(0, count - 1))
    np.testing.assert_array_equal(view.inputs[i], array[i : i + input_size])
    np.testing.assert_array_equal(view.targets[i], windows[i][1])
