"""Scaling of covariates: per-column statistics of the training rows only, saved with the
model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tsattn.models.series_data import SeriesData


@dataclass
class CovariateScaler:
    """Per-column mean and standard deviation of each kind, fitted on training rows only
    (a constant column gets std 1), so every covariate reaches a network near unit scale."""

    stats: dict[str, tuple[np.ndarray, np.ndarray]]  # kind -> (mean (K,), std (K,))

    @classmethod
    def fit(cls, data: SeriesData, train_lengths: Sequence[int]) -> CovariateScaler:
        stats = {}
        for kind in ("futr", "hist"):
            arrays = getattr(data, kind)
            if arrays:
                rows = np.concatenate([a[:n] for a, n in zip(arrays, train_lengths)])  # (R, K)
                stats[kind] = _moments(rows)
        if data.static is not None:
            stats["stat"] = _moments(data.static)
        return cls(stats)

    def scale(self, kind: str, values: np.ndarray) -> np.ndarray:
        mean, std = self.stats[kind]
        return (values - mean) / std

    def tensors(self) -> dict[str, np.ndarray]:
        out = {}
        for kind, (mean, std) in self.stats.items():
            out[f"covariates.{kind}.mean"] = mean
            out[f"covariates.{kind}.std"] = std
        return out

    @classmethod
    def from_tensors(cls, tensors: dict[str, Any], widths: dict[str, int]) -> CovariateScaler:
        """The scaler saved by :meth:`tensors`, checked against the expected column counts."""
        stats = {}
        for kind, width in widths.items():
            if not width:
                continue
            pair = []
            for part in ("mean", "std"):
                key = f"covariates.{kind}.{part}"
                if key not in tensors:
                    raise ValueError(f"saved state lacks {key}")
                array = np.asarray(tensors[key], dtype=np.float64)
                if array.shape != (width,) or not np.isfinite(array).all():
                    raise ValueError(f"saved {key} must be {width} finite values")
                pair.append(array)
            if (pair[1] <= 0).any():
                raise ValueError(f"saved covariates.{kind}.std must be positive")
            stats[kind] = (pair[0], pair[1])
        return cls(stats)


def _moments(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = rows.mean(axis=0)  # (K,)
    std = rows.std(axis=0)
    return mean, np.where(std > 1e-12 * np.maximum(1.0, np.abs(mean)), std, 1.0)
