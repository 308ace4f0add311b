"""Training windows gathered by index from one stored tensor, never materialised.

A :class:`WindowSet` holds the series as one (rows, C) float32 tensor plus the start row of
every window; a batch is gathered by advanced indexing. Electricity's 18k training windows x
321 channels thus cost the series tensor only, not 18k copies of it.

>>> import numpy as np
>>> windows = WindowSet.from_array(np.arange(20.0).reshape(10, 2), input_size=4, horizon=2)
>>> len(windows)
5
>>> x, y = windows.gather(torch.tensor([0, 4]))
>>> tuple(x.shape), tuple(y.shape), y[1, -1].tolist()
((2, 4, 2), (2, 2, 2), [18.0, 19.0])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor


class WindowSet:
    """Windows ``values[s : s + input_size + horizon]`` for each start row ``s``.

    Args:
        values: (rows, C) series tensor (several series may be stacked along rows).
        starts: (N,) int64 start rows; each window must lie inside one series.
        input_size, horizon: L and H.
    """

    def __init__(self, values: Tensor, starts: Tensor, input_size: int, horizon: int):
        self.values = values
        self.starts = starts.to(dtype=torch.long, device=values.device)
        self.input_size, self.horizon = input_size, horizon
        self._offsets = torch.arange(input_size + horizon, device=values.device)

    @classmethod
    def from_array(cls, array: np.ndarray, input_size: int, horizon: int) -> WindowSet:
        """Every stride-1 window of a (T, C) array (T - L - H + 1 windows)."""
        values = _as_tensor(array)
        n = values.shape[0] - input_size - horizon + 1
        if n <= 0:
            raise ValueError(
                f"{values.shape[0]} rows are too few for one window of input_size "
                f"{input_size} + horizon {horizon}"
            )
        return cls(values, torch.arange(n), input_size, horizon)

    def __len__(self) -> int:
        return int(self.starts.numel())

    @property
    def n_channels(self) -> int:
        return int(self.values.shape[1])

    def to(self, device: torch.device | str) -> WindowSet:
        """The same windows with the series tensor on ``device``."""
        return WindowSet(self.values.to(device), self.starts, self.input_size, self.horizon)

    def gather(self, index: Tensor) -> tuple[Tensor, Tensor]:
        """Windows ``index`` (B,) -> inputs (B, L, C) and targets (B, H, C)."""
        rows = self.starts[index.to(self.starts.device)][:, None] + self._offsets  # (B, L+H)
        windows = self.values[rows]  # (B, L+H, C)
        return windows[:, : self.input_size], windows[:, self.input_size :]


def series_windows(
    series: Sequence[np.ndarray], input_size: int, horizon: int, val_size: int = 0
) -> tuple[WindowSet, WindowSet | None]:
    """Train and validation windows over univariate series of any lengths.

    The series are stacked into one (sum n_i, 1) tensor. Validation targets are the last
    ``val_size`` steps of each series (their inputs start earlier); training targets end
    before them.
    """
    values = _as_tensor(np.concatenate([np.asarray(s, dtype=np.float32) for s in series]))
    train, val, offset = [], [], 0
    for s in series:
        n = len(s)
        last_train = n - val_size - input_size - horizon  # last training start
        train.append(torch.arange(offset, offset + last_train + 1))
        if val_size:
            first_val = n - val_size - input_size
            val.append(torch.arange(offset + first_val, offset + n - input_size - horizon + 1))
        offset += n
    train_set = WindowSet(values, torch.cat(train), input_size, horizon)
    val_set = WindowSet(values, torch.cat(val), input_size, horizon) if val_size else None
    return train_set, val_set


def split_array_windows(
    array: np.ndarray, input_size: int, horizon: int, val_size: int = 0
) -> tuple[WindowSet, WindowSet | None]:
    """Train and validation windows over aligned channels of a (T, C) array, the last
    ``val_size`` steps being the validation targets (as :func:`series_windows`)."""
    values = _as_tensor(array)
    n = values.shape[0]
    last_train = n - val_size - input_size - horizon
    train = WindowSet(values, torch.arange(last_train + 1), input_size, horizon)
    if not val_size:
        return train, None
    val_starts = torch.arange(n - val_size - input_size, n - input_size - horizon + 1)
    return train, WindowSet(values, val_starts, input_size, horizon)


def _as_tensor(array: np.ndarray) -> Tensor:
    """(T,) or (T, C) array -> (T, C) float32 tensor."""
    values = torch.as_tensor(np.asarray(array, dtype=np.float32))
    if values.dim() == 1:
        values = values[:, None]  # (T,) -> (T, 1)
    if values.dim() != 2:
        raise ValueError(f"expected a (time, channels) array, got shape {tuple(values.shape)}")
    return values
