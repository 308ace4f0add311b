"""The one home of window construction: which rows form each window, and how many there are.

Window ``i`` has input rows ``[i, i + L)`` and target rows ``[i + L, i + L + H)``; there are
``rows - L - H + 1`` windows at stride 1. Everything that cuts series into windows builds on
this module: the literature splits (:mod:`tsattn.datasets.splits`), the benchmark's scoring
(:func:`window_view`, :class:`SlidingWindows`, :func:`evaluated_windows`), the training
engine's start rows (:func:`split_starts`, :func:`series_starts`; the engine's
:class:`~tsattn.training.windows.WindowSet` only stores them on the device), and the lag
features of the scikit-learn forecaster (:func:`lag_windows`). It is numpy only, on the
datasets floor, because the splits use it and every floor above may import it.

>>> import numpy as np
>>> a = np.arange(20, dtype=np.float32).reshape(10, 2)
>>> view = window_view(a, input_size=4, horizon=2)
>>> view.inputs.shape, view.targets.shape
((5, 4, 2), (5, 2, 2))
>>> np.shares_memory(view.inputs, a)
True
>>> windows = SlidingWindows(a, 4, 2)
>>> x, y = windows.batch([0, 3])
>>> x.shape, y.shape
((2, 4, 2), (2, 2, 2))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def n_windows(rows: int, input_size: int, horizon: int) -> int:
    """The number of stride-1 windows in ``rows`` rows (0 when the rows are too few)."""
    return max(rows - input_size - horizon + 1, 0)


def split_starts(
    rows: int, input_size: int, horizon: int, val_size: int = 0
) -> tuple[np.ndarray, np.ndarray | None]:
    """Start rows of the training and validation windows of one (rows, C) array: validation
    targets are its last ``val_size`` rows (their inputs start earlier), training targets end
    before them. ``val_size=0``: every window trains, no validation (None).

    >>> train, val = split_starts(12, input_size=4, horizon=2, val_size=3)
    >>> train.tolist(), val.tolist()
    ([0, 1, 2, 3], [5, 6])
    """
    last_train = rows - val_size - input_size - horizon  # the last training start
    train = np.arange(last_train + 1, dtype=np.int64)
    if not val_size:
        return train, None
    val = np.arange(rows - val_size - input_size, rows - input_size - horizon + 1, dtype=np.int64)
    return train, val


def series_starts(
    lengths: Sequence[int], input_size: int, horizon: int, val_size: int = 0
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`split_starts` of series of ``lengths`` stacked along rows, each window inside
    one series: start rows into the stacked array.

    >>> train, val = series_starts([8, 9], input_size=3, horizon=2, val_size=2)
    >>> train.tolist(), val.tolist()
    ([0, 1, 8, 9, 10], [3, 12])
    """
    offsets = np.cumsum([0, *lengths[:-1]], dtype=np.int64)
    parts = [split_starts(n, input_size, horizon, val_size) for n in lengths]
    train = np.concatenate([starts + k for (starts, _), k in zip(parts, offsets)])
    if not val_size:
        return train, None
    return train, np.concatenate([starts + k for (_, starts), k in zip(parts, offsets)])


def lag_windows(
    series: Sequence[np.ndarray], lags: int, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every stride-1 window of univariate series, pooled: ``lags`` inputs (N, lags) and
    ``horizon`` targets (N, H) (copies; the lag features of a direct multi-step regressor).

    >>> x, y = lag_windows([np.arange(5.0), np.arange(10.0, 14.0)], lags=2, horizon=1)
    >>> x.tolist(), y.ravel().tolist()
    ([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0], [10.0, 11.0], [11.0, 12.0]], [2.0, 3.0, 4.0, 12.0, 13.0])
    """
    views = [window_view(np.asarray(values)[:, None], lags, horizon) for values in series]
    x = np.concatenate([view.inputs[:, :, 0] for view in views])  # (N, lags)
    y = np.concatenate([view.targets[:, :, 0] for view in views])  # (N, H)
    return x, y


def evaluated_windows(total: int, legacy_drop_last: int | None) -> int:
    """Windows scored out of ``total``: all of them, or with ``legacy_drop_last=<batch
    size>`` as many as full batches hold (the PatchTST code's ``drop_last=True`` test
    loader, which silently drops the most recent ``total % batch`` windows).

    >>> evaluated_windows(2785, None), evaluated_windows(2785, 128)
    (2785, 2688)
    """
    if legacy_drop_last is None:
        return total
    if isinstance(legacy_drop_last, bool) or not isinstance(legacy_drop_last, int | np.integer):
        raise ValueError(
            f"legacy_drop_last must be None or the batch size whose drop_last to reproduce "
            f"(e.g. 128), got {legacy_drop_last!r}"
        )
    if legacy_drop_last <= 0:
        raise ValueError(f"legacy_drop_last must be a positive batch size, got {legacy_drop_last}")
    return (total // legacy_drop_last) * legacy_drop_last


class WindowView(NamedTuple):
    """Read-only views of every window: ``inputs`` (N, L, C) and ``targets`` (N, H, C)."""

    inputs: np.ndarray
    targets: np.ndarray


def window_view(array: np.ndarray, input_size: int, horizon: int) -> WindowView:
    """All windows of ``array`` (rows x channels) as strided views: no data is copied.

    Copying ``view.inputs`` (e.g. ``np.asarray(view.inputs[idx])`` on a batch of indices)
    materialises only the windows asked for.
    """
    _check_sizes(array, input_size, horizon)
    # (N, C, L + H): sliding_window_view puts the window axis last
    windows = sliding_window_view(array, input_size + horizon, axis=0)
    inputs = windows[:, :, :input_size].transpose(0, 2, 1)  # (N, L, C)
    targets = windows[:, :, input_size:].transpose(0, 2, 1)  # (N, H, C)
    return WindowView(inputs, targets)


class SlidingWindows:
    """Map-style dataset of windows (``len`` and ``[i]``), usable by a torch ``DataLoader``.

    ``windows[i]`` returns ``(input, target)`` as views of the array, shaped (L, C) and
    (H, C); :meth:`batch` gathers a batch of windows into new arrays (B, L, C), (B, H, C).
    """

    def __init__(self, array: np.ndarray, input_size: int, horizon: int):
        _check_sizes(array, input_size, horizon)
        self.array = array
        self.input_size = input_size
        self.horizon = horizon

    def __len__(self) -> int:
        return n_windows(len(self.array), self.input_size, self.horizon)

    def slices(self, i: int) -> tuple[slice, slice]:
        """The row slices of window ``i``: input ``[i, i+L)``, target ``[i+L, i+L+H)``."""
        if not 0 <= i < len(self):
            raise IndexError(f"window index {i} out of range [0, {len(self)})")
        split = i + self.input_size
        return slice(i, split), slice(split, split + self.horizon)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        inputs, targets = self.slices(int(i))
        return self.array[inputs], self.array[targets]

    def batch(self, indices: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gather windows ``indices`` into arrays (B, L, C) and (B, H, C) (copies)."""
        starts = np.asarray(indices, dtype=np.int64)
        if starts.size and (starts.min() < 0 or starts.max() >= len(self)):
            raise IndexError(f"window indices must lie in [0, {len(self)})")
        rows = starts[:, None] + np.arange(self.input_size + self.horizon)  # (B, L + H)
        gathered = self.array[rows]  # (B, L + H, C)
        return gathered[:, : self.input_size], gathered[:, self.input_size :]


def _check_sizes(array: np.ndarray, input_size: int, horizon: int) -> None:
    if array.ndim != 2:
        raise ValueError(f"expected a (rows, channels) array, got shape {array.shape}")
    if input_size < 1 or horizon < 1:
        raise ValueError(f"input_size and horizon must be >= 1, got {input_size}, {horizon}")
    if n_windows(len(array), input_size, horizon) < 1:
        raise ValueError(
            f"{len(array)} rows are too few for one window of input_size {input_size} + "
            f"horizon {horizon}"
        )
