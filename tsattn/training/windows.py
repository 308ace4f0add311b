"""Training windows gathered by index from one stored tensor, never materialised.

Which rows form a window, and where the training and validation windows start, is decided in
:mod:`tsattn.datasets.windows` (the one home of window construction); this module keeps the
torch side. A :class:`WindowSet` holds the series as one (rows, C) float32 tensor plus the
start row of every window; a batch is gathered by advanced indexing. Electricity's 18k
training windows x 321 channels thus cost the series tensor only, not 18k copies of it.
:class:`WindowSampler` shuffles and shards the windows over the ranks of a DDP run.

>>> import numpy as np
>>> windows = WindowSet.from_array(np.arange(20.0).reshape(10, 2), input_size=4, horizon=2)
>>> len(windows)
5
>>> x, y = windows.gather(torch.tensor([0, 4]))
>>> tuple(x.shape), tuple(y.shape), y[1, -1].tolist()
((2, 4, 2), (2, 2, 2), [18.0, 19.0])
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from tsattn.datasets.windows import n_windows, series_starts, split_starts


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
        if n_windows(values.shape[0], input_size, horizon) == 0:
            raise ValueError(
                f"{values.shape[0]} rows are too few for one window of input_size "
                f"{input_size} + horizon {horizon}"
            )
        starts, _ = split_starts(values.shape[0], input_size, horizon)
        return cls(values, torch.from_numpy(starts), input_size, horizon)

    def __len__(self) -> int:
        return int(self.starts.numel())

    @property
    def n_channels(self) -> int:
        return int(self.values.shape[1])

    def fingerprint(self) -> dict[str, int | str]:
        """What identifies these windows, as plain values: the sizes and a SHA-256 of the
        series tensor and the start rows (a resumed training run refuses other data)."""
        digest = hashlib.sha256()
        for tensor in (self.values, self.starts):
            digest.update(tensor.detach().cpu().contiguous().numpy())
        rows, channels = self.values.shape
        return {
            "rows": int(rows), "channels": int(channels), "windows": len(self),
            "input_size": self.input_size, "horizon": self.horizon,
            "dtype": str(self.values.dtype), "sha256": digest.hexdigest(),
        }  # fmt: skip

    def to(self, device: torch.device | str) -> WindowSet:
        """The same windows with the series tensor on ``device``."""
        return WindowSet(self.values.to(device), self.starts, self.input_size, self.horizon)

    def gather(self, index: Tensor) -> tuple[Tensor, Tensor]:
        """Windows ``index`` (B,) -> inputs (B, L, C) and targets (B, H, C)."""
        rows = self.starts[index.to(self.starts.device)][:, None] + self._offsets  # (B, L+H)
        windows = self.values[rows]  # (B, L+H, C)
        return windows[:, : self.input_size], windows[:, self.input_size :]


class CovariateWindowSet(WindowSet):
    """Windows of packed series (the ``n_targets`` target channels first, covariates after
    them; see :mod:`tsattn.nn.covariates`): inputs are the whole window (B, L + H, C) with
    the ``hidden`` channels (the targets and the past-only covariates) zeroed on the horizon
    rows, targets the target channels' horizon (B, H, n_targets)."""

    def __init__(
        self,
        values: Tensor,
        starts: Tensor,
        input_size: int,
        horizon: int,
        hidden: list[int],
        n_targets: int = 1,
    ):
        super().__init__(values, starts, input_size, horizon)
        self.hidden, self.n_targets = list(hidden), n_targets

    @property
    def n_channels(self) -> int:
        return self.n_targets  # the forecast channels; the covariates are inputs only

    def to(self, device: torch.device | str) -> CovariateWindowSet:
        return CovariateWindowSet(
            self.values.to(device),
            self.starts,
            self.input_size,
            self.horizon,
            self.hidden,
            self.n_targets,
        )

    def gather(self, index: Tensor) -> tuple[Tensor, Tensor]:
        """Windows ``index`` (B,) -> inputs (B, L + H, C) and targets (B, H, n_targets)."""
        rows = self.starts[index.to(self.starts.device)][:, None] + self._offsets  # (B, L+H)
        windows = self.values[rows]  # (B, L+H, C)
        targets = windows[:, self.input_size :, : self.n_targets]  # (B, H, n_targets)
        inputs = windows.clone()
        inputs[:, self.input_size :, self.hidden] = 0.0  # unknown after the cutoff
        return inputs, targets


class WindowSampler:
    """Shuffled training-window batches per epoch, sharded over the ranks of a DDP run.

    Each epoch draws one permutation of the ``n_total`` windows from a generator seeded with
    ``seed`` (the same on every rank), keeps its first ``n_windows`` and pads it (repeating
    its start) to a multiple of ``world_size``. Global batch ``k`` is positions
    ``[k * B * W, (k + 1) * B * W)`` of that order (``B = batch_size`` per rank, ``W`` ranks);
    rank ``r`` takes positions ``r::W`` of it. So every rank runs the same number of steps,
    the ranks' shards are disjoint (but for the padding), and the windows of step ``k`` are
    those of step ``k`` of one process with batch ``B * W`` (when ``W`` divides ``n_windows``).

    >>> [b.tolist() for b in WindowSampler(6, 6, batch_size=4).epoch_batches()]
    [[2, 5, 3, 0], [1, 4]]
    >>> [[b.tolist() for b in WindowSampler(6, 6, 2, r, world_size=2).epoch_batches()]
    ...  for r in (0, 1)]
    [[[2, 3], [1]], [[5, 0], [4]]]
    """

    def __init__(
        self,
        n_total: int,
        n_windows: int,
        batch_size: int,
        rank: int = 0,
        world_size: int = 1,
        seed: int = 0,
    ):
        self.n_total, self.n_windows = n_total, min(n_windows, n_total)
        self.batch_size, self.rank, self.world_size = batch_size, rank, world_size
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def steps_per_epoch(self) -> int:
        per_rank = -(-self.n_windows // self.world_size)
        return -(-per_rank // self.batch_size)

    def epoch_batches(self) -> list[Tensor]:
        """The next epoch's batches of window indices of this rank (each (<= B,))."""
        order = torch.randperm(self.n_total, generator=self.generator)[: self.n_windows]
        if self.world_size > 1:
            pad = -len(order) % self.world_size
            order = torch.cat([order, order[torch.arange(pad) % len(order)]])
            order = order.view(-1, self.world_size)[:, self.rank]  # (N / W,) positions r::W
        return list(order.split(self.batch_size))


def series_windows(
    series: Sequence[np.ndarray], input_size: int, horizon: int, val_size: int = 0
) -> tuple[WindowSet, WindowSet | None]:
    """Train and validation windows over univariate series of any lengths.

    The series are stacked into one (sum n_i, 1) tensor. Validation targets are the last
    ``val_size`` steps of each series (their inputs start earlier); training targets end
    before them (:func:`~tsattn.datasets.windows.series_starts`).
    """
    values = _as_tensor(np.concatenate([np.asarray(s, dtype=np.float32) for s in series]))
    starts = series_starts([len(s) for s in series], input_size, horizon, val_size)
    return _window_sets(values, starts, input_size, horizon)


def covariate_windows(
    series: Sequence[np.ndarray],
    input_size: int,
    horizon: int,
    val_size: int,
    hidden: list[int],
    n_targets: int = 1,
) -> tuple[CovariateWindowSet, CovariateWindowSet | None]:
    """:func:`series_windows` over packed series (each (n_i, C): the ``n_targets`` targets,
    then the covariates), as :class:`CovariateWindowSet` s."""
    values = _as_tensor(np.concatenate([np.asarray(s, dtype=np.float32) for s in series]))
    starts = series_starts([len(s) for s in series], input_size, horizon, val_size)
    train, val = (None if s is None else torch.from_numpy(s) for s in starts)
    sets = [
        None if s is None else CovariateWindowSet(values, s, input_size, horizon, hidden, n_targets)
        for s in (train, val)
    ]
    return sets[0], sets[1]


def split_array_windows(
    array: np.ndarray, input_size: int, horizon: int, val_size: int = 0
) -> tuple[WindowSet, WindowSet | None]:
    """Train and validation windows over aligned channels of a (T, C) array, the last
    ``val_size`` steps being the validation targets
    (:func:`~tsattn.datasets.windows.split_starts`)."""
    values = _as_tensor(array)
    starts = split_starts(values.shape[0], input_size, horizon, val_size)
    return _window_sets(values, starts, input_size, horizon)


def _window_sets(
    values: Tensor,
    starts: tuple[np.ndarray, np.ndarray | None],
    input_size: int,
    horizon: int,
) -> tuple[WindowSet, WindowSet | None]:
    """The training and (when there are validation starts) validation windows of one
    (rows, C) series tensor."""
    train, val = (None if s is None else torch.from_numpy(s) for s in starts)
    val_set = None if val is None else WindowSet(values, val, input_size, horizon)
    return WindowSet(values, train, input_size, horizon), val_set


def _as_tensor(array: np.ndarray) -> Tensor:
    """(T,) or (T, C) array -> (T, C) float32 tensor."""
    values = torch.as_tensor(np.asarray(array, dtype=np.float32))
    if values.dim() == 1:
        values = values[:, None]  # (T,) -> (T, 1)
    if values.dim() != 2:
        raise ValueError(f"expected a (time, channels) array, got shape {tuple(values.shape)}")
    return values
