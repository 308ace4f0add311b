"""Preparing series for the networks: per-series standard scaling with training statistics
(of the log values, with ``log=True``), and stacking aligned series as the channels of one
(T, C) array.

>>> import numpy as np
>>> scaler = SeriesScaler.fit(["a"], [np.array([1.0, 2.0, 3.0])])
>>> [round(float(v), 3) for v in scaler.transform(["a"], [np.array([2.0, 4.0])])[0]]
[0.0, 2.449]
>>> scaler.inverse(["a"], np.array([[0.0]])).tolist()
[[2.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from tsattn.checks import state_vector
from tsattn.models.series_data import SeriesData


@dataclass
class SeriesScaler:
    """Per-series mean and standard deviation (identity when not ``enabled``), of the values'
    logarithms when ``log`` (every value must then be positive).

    Series seen in training use their training statistics; any other series (a new history
    passed to ``predict``) is scaled with the statistics of the values given for it.
    """

    ids: list[str]
    mean: np.ndarray  # (n_series,)
    std: np.ndarray  # (n_series,)
    enabled: bool = True
    log: bool = False

    @classmethod
    def fit(
        cls,
        ids: Sequence[str],
        series: Sequence[np.ndarray],
        enabled: bool = True,
        log: bool = False,
    ) -> SeriesScaler:
        series = _logs(ids, series) if log else series
        mean, std = _stats(series) if enabled else (np.zeros(len(ids)), np.ones(len(ids)))
        return cls(list(ids), mean, std, enabled, log)

    def transform(self, ids: Sequence[str], series: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Scaled float32 copies of ``series``."""
        series = _logs(ids, series) if self.log else series
        mean, std = self._lookup(ids, series, logged=True)
        return [((s - m) / d).astype(np.float32) for s, m, d in zip(series, mean, std)]

    def inverse(
        self, ids: Sequence[str], values: np.ndarray, series: Sequence[np.ndarray] | None = None
    ) -> np.ndarray:
        """(n_series, h) scaled values -> original scale (``series``: for unseen ids)."""
        mean, std = self._lookup(ids, series)
        scaled = values * std[:, None] + mean[:, None]
        if not self.log:
            return scaled
        with np.errstate(over="ignore"):  # an overflow is inf, refused as a forecast
            return np.exp(scaled)

    def tensors(self) -> dict[str, torch.Tensor]:
        return {
            "scaler.mean": torch.from_numpy(np.asarray(self.mean, dtype=np.float64)),
            "scaler.std": torch.from_numpy(np.asarray(self.std, dtype=np.float64)),
        }

    @classmethod
    def from_tensors(
        cls,
        ids: list[str],
        tensors: dict[str, torch.Tensor],
        enabled: bool = True,
        log: bool = False,
    ) -> SeriesScaler:
        """The scaler saved by :meth:`tensors`: one finite mean and one finite, positive
        std per id (a ``ValueError`` naming the tensor otherwise)."""
        mean = state_vector(tensors, "scaler.mean", len(ids))
        std = state_vector(tensors, "scaler.std", len(ids))
        if np.any(std <= 0):
            raise ValueError("saved tensor 'scaler.std' holds a standard deviation <= 0")
        return cls(list(ids), mean, std, enabled, log)

    def _lookup(self, ids, series, logged: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Statistics per id; an unseen id's from its ``series`` (already in log values when
        ``logged``)."""
        if not self.enabled:
            return np.zeros(len(ids)), np.ones(len(ids))
        position = {uid: i for i, uid in enumerate(self.ids)}
        unseen = [i for i, uid in enumerate(ids) if uid not in position]
        if unseen and series is None:
            raise ValueError(f"no scaling statistics for series {ids[unseen[0]]!r}")
        mean, std = np.empty(len(ids)), np.empty(len(ids))
        if unseen:
            given = [series[i] for i in unseen]
            given = _logs([ids[i] for i in unseen], given) if self.log and not logged else given
            mean[unseen], std[unseen] = _stats(given)
        seen = [i for i in range(len(ids)) if ids[i] in position]
        mean[seen] = self.mean[[position[ids[i]] for i in seen]]
        std[seen] = self.std[[position[ids[i]] for i in seen]]
        return mean, std


def _logs(ids: Sequence[str], series: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Natural logs of positive series.

    Raises:
        ValueError: a value <= 0, naming the series (the model was fitted on log values).
    """
    for uid, s in zip(ids, series):
        if len(s) and np.min(s) <= 0:
            raise ValueError(
                f"series {uid!r} has a value <= 0 ({np.min(s):g}); this model was fitted with "
                f"target_transform='log', which needs positive values (use "
                f"target_transform='none')"
            )
    return [np.log(np.asarray(s, dtype=np.float64)) for s in series]


def _stats(series: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-series mean and std (1 for constant series), computed on ``s / max|s|`` so that
    values near float64's limit do not overflow when squared."""
    peaks = np.array([np.max(np.abs(s)) if len(s) else 0.0 for s in series], dtype=np.float64)
    peaks = np.where(peaks > 0, peaks, 1.0)
    mean = np.array([np.mean(s / p) * p for s, p in zip(series, peaks)], dtype=np.float64)
    std = np.array([np.std(s / p) * p for s, p in zip(series, peaks)], dtype=np.float64)
    return mean, np.where(std > 0, std, 1.0)


def aligned_matrix(data: SeriesData, series: Sequence[np.ndarray], model: str) -> np.ndarray:
    """Stack series as the channels of a (T, C) array; they must share their timestamps.

    Raises:
        ValueError: the series differ in length, end or frequency.
    """
    first = (len(data.values[0]), data.last_ds[0], data.freqs[0])
    for uid, values, last, freq in zip(data.ids, data.values, data.last_ds, data.freqs):
        if (len(values), last, freq) != first:
            raise ValueError(
                f"{model} mixes channels, so all series must be aligned (same length and "
                f"timestamps): series {data.ids[0]!r} has {first[0]} steps ending {first[1]} "
                f"(freq {first[2]}), series {uid!r} has {len(values)} ending {last} "
                f"(freq {freq}). Trim or fill the series to a common time index"
            )
    return np.stack(series, axis=1)  # (T, C)
