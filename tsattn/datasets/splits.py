"""The literature train/val/test protocol (Informer, Autoformer, PatchTST, Time-Series-Library).

Split rules are registered by name in :data:`SPLIT_RULES`; each maps a row count to the end
rows of train, val and test. Val and test inputs start ``input_size`` rows before their
border, so every target lies inside its split and the window counts do not depend on the
lookback. A ``StandardScaler`` is fitted on the train rows only.

>>> import numpy as np, pandas as pd
>>> frame = pd.DataFrame({"a": np.arange(100.0), "OT": np.arange(100.0) ** 0.5})
>>> s = benchmark_split(frame, input_size=8, horizon=4)
>>> s.borders
{'train': (0, 70), 'val': (62, 80), 'test': (72, 100)}
>>> s.n_windows
{'train': 59, 'val': 7, 'test': 17}
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tsattn.datasets.windows import SlidingWindows, WindowView, n_windows, window_view
from tsattn.registry import Registry

if TYPE_CHECKING:  # sklearn is imported where a scaler is fitted: CLI start-up stays light
    from sklearn.preprocessing import StandardScaler

SPLIT_NAMES = ("train", "val", "test")
SplitRule = Callable[[int], tuple[int, int, int]]
SPLIT_RULES: Registry[SplitRule] = Registry("split rule")


def _fixed_borders(train: int, val: int, test: int) -> SplitRule:
    def rule(rows: int) -> tuple[int, int, int]:
        if rows < test:
            raise ValueError(f"this split rule needs at least {test} rows, got {rows}")
        return train, val, test

    return rule


SPLIT_RULES.register("ett_hour")(_fixed_borders(8640, 11520, 14400))  # 12/4/4 months of 30 days
SPLIT_RULES.register("ett_minute")(_fixed_borders(4 * 8640, 4 * 11520, 4 * 14400))


@SPLIT_RULES.register("ratio_70_10_20")
def _ratio_70_10_20(rows: int) -> tuple[int, int, int]:
    n_train, n_test = int(rows * 0.7), int(rows * 0.2)
    return n_train, rows - n_test, rows


@dataclass(frozen=True, eq=False)
class BenchmarkSplit:
    """Standardized float32 arrays (rows x channels) of each split, and how they were made.

    ``borders[s]`` are the file rows ``[start, end)`` of split ``s`` (val and test start
    ``input_size`` rows before the previous split ends). ``n_windows[s]`` is the exact
    number of stride-1 windows, ``rows - input_size - horizon + 1``.
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    scaler: StandardScaler
    columns: list[str]
    borders: dict[str, tuple[int, int]]
    input_size: int
    horizon: int
    index: pd.DatetimeIndex | None = field(default=None, repr=False)

    def array(self, split: str) -> np.ndarray:
        """The standardized array of ``split`` ("train", "val" or "test")."""
        if split not in SPLIT_NAMES:
            raise ValueError(f"unknown split {split!r}; valid: {', '.join(SPLIT_NAMES)}")
        return getattr(self, split)

    @property
    def n_windows(self) -> dict[str, int]:
        return {
            s: n_windows(len(self.array(s)), self.input_size, self.horizon) for s in SPLIT_NAMES
        }

    def windows(self, split: str) -> SlidingWindows:
        """Index-based windows of ``split`` (map-style dataset; no copies until batched)."""
        return SlidingWindows(self.array(split), self.input_size, self.horizon)

    def window_view(self, split: str) -> WindowView:
        """Strided views of every window of ``split``: ``(inputs, targets)``."""
        return window_view(self.array(split), self.input_size, self.horizon)

    def inverse_transform(self, values: np.ndarray) -> np.ndarray:
        """Undo the scaling on any array whose last axis is the channels."""
        values = np.asarray(values)
        scale = self.scaler.scale_.astype(values.dtype, copy=False)
        return values * scale + self.scaler.mean_.astype(values.dtype, copy=False)


def benchmark_split(
    data: str | pd.DataFrame,
    input_size: int,
    horizon: int,
    *,
    split: str | None = None,
    data_dir: str | os.PathLike | None = None,
    time_col: str = "date",
) -> BenchmarkSplit:
    """Split a benchmark dataset (by name) or a wide frame by the literature protocol.

    For a name, the dataset is loaded with :func:`~tsattn.datasets.load_dataset` and its own
    rule is used ("ett_hour", "ett_minute" or "ratio_70_10_20"); for a frame, ``split``
    defaults to "ratio_70_10_20" and every column but ``time_col`` (optional; a
    DatetimeIndex also works) is a channel.

    >>> s = benchmark_split("ETTh1", input_size=336, horizon=96)  # doctest: +SKIP
    >>> s.n_windows["test"]  # doctest: +SKIP
    2785
    """
    if isinstance(data, str):
        from tsattn.datasets.loaders import load_dataset
        from tsattn.datasets.specs import get_spec

        split = split or get_spec(data).split
        data = load_dataset(data, data_dir)
    values, columns, index = _channels(data, time_col)
    borders = _borders(SPLIT_RULES.get(split or "ratio_70_10_20"), len(values), input_size, horizon)
    train_start, train_end = borders["train"]
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(values[train_start:train_end])
    used = borders["test"][1]  # rows after the test border are never used
    scaled = _standardize(values[:used], scaler)
    arrays = {s: scaled[start:end] for s, (start, end) in borders.items()}  # views
    return BenchmarkSplit(
        **arrays,
        scaler=scaler,
        columns=columns,
        borders=borders,
        input_size=input_size,
        horizon=horizon,
        index=index,
    )


def _standardize(values: np.ndarray, scaler: StandardScaler, chunk: int = 4096) -> np.ndarray:
    """``scaler.transform(values)`` as float32, in row chunks (no full float64 copy)."""
    out = np.empty(values.shape, dtype=np.float32)
    for start in range(0, len(values), chunk):
        out[start : start + chunk] = scaler.transform(values[start : start + chunk])
    return out


def _borders(
    rule: SplitRule, rows: int, input_size: int, horizon: int
) -> dict[str, tuple[int, int]]:
    if input_size < 1 or horizon < 1:
        raise ValueError(f"input_size and horizon must be >= 1, got {input_size}, {horizon}")
    train_end, val_end, test_end = rule(rows)
    if input_size > train_end:
        raise ValueError(f"input_size {input_size} exceeds the {train_end} train rows")
    borders = {
        "train": (0, train_end),
        "val": (train_end - input_size, val_end),
        "test": (val_end - input_size, test_end),
    }
    for name, (start, end) in borders.items():
        if n_windows(end - start, input_size, horizon) < 1:
            raise ValueError(
                f"the {name} split (rows {start}..{end}) has no window of input_size "
                f"{input_size} + horizon {horizon}; use a shorter input_size or horizon"
            )
    return borders


def _channels(
    frame: pd.DataFrame, time_col: str
) -> tuple[np.ndarray, list[str], pd.DatetimeIndex | None]:
    index = None
    if time_col in frame.columns:
        index = pd.DatetimeIndex(pd.to_datetime(frame[time_col]))
        frame = frame.drop(columns=time_col)
    elif isinstance(frame.index, pd.DatetimeIndex):
        index = frame.index
    if frame.shape[1] == 0 or len(frame) == 0:
        raise ValueError(f"no value columns or no rows to split (shape {frame.shape})")
    bad = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ValueError(f"non-numeric columns {bad}; pass only value columns (and {time_col!r})")
    values = frame.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        counts = (~np.isfinite(values)).sum(axis=0)
        named = {str(c): int(n) for c, n in zip(frame.columns, counts) if n}
        raise ValueError(f"NaN/inf values per column {named}; fill them before splitting")
    return values, [str(c) for c in frame.columns], index
