"""The covariates of a saved model's history (so ``predict()`` after ``load`` needs no
frame): tensors ``__history_futr__.<i>``, ``__history_hist__.<i>`` and
``__history_static__``, each checked on load against the covariates the model declares."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch

from tsattn.models.covariates import CovariateSpec
from tsattn.models.series_data import SeriesData


def history_covariate_tensors(history: SeriesData) -> dict[str, torch.Tensor]:
    """The history's covariate arrays as named tensors (none without covariates)."""
    tensors = {}
    for kind in ("futr", "hist"):
        arrays = getattr(history, kind)
        for i, values in enumerate(arrays or ()):
            tensors[f"__history_{kind}__.{i}"] = torch.from_numpy(np.ascontiguousarray(values))
    if history.static is not None:
        tensors["__history_static__"] = torch.from_numpy(np.ascontiguousarray(history.static))
    return tensors


def with_history_covariates(
    history: SeriesData, tensors: dict[str, Any], spec: CovariateSpec
) -> SeriesData:
    """``history`` with its saved covariates, popped from ``tensors``: exactly the kinds
    ``spec`` declares, each series' rows as long as its values, finite (``ValueError``)."""
    lengths = [len(v) for v in history.values]
    arrays = {}
    for kind, width in (("futr", len(spec.futr_columns)), ("hist", len(spec.hist))):
        keys = [f"__history_{kind}__.{i}" for i in range(len(lengths))]
        present = [key in tensors for key in keys]
        if not width:
            if any(present):
                raise ValueError(f"history {kind} covariates are saved but none is declared")
            continue
        if not all(present):
            raise ValueError(f"history tensor {keys[present.index(False)]} is missing")
        arrays[kind] = [
            _checked(tensors.pop(key), (n, width), key) for key, n in zip(keys, lengths)
        ]
    static = tensors.pop("__history_static__", None)
    if (static is None) != (not spec.stat):
        raise ValueError("history static covariates do not match the declared stat_exog_list")
    if static is not None:
        static = _checked(static, (len(lengths), len(spec.stat)), "__history_static__")
    if not arrays and static is None:
        return history
    return replace(history, futr=arrays.get("futr"), hist=arrays.get("hist"), static=static)


def _checked(tensor: Any, shape: tuple[int, int], key: str) -> np.ndarray:
    values = tensor.numpy()
    if values.shape != shape or values.dtype.kind != "f" or not np.isfinite(values).all():
        raise ValueError(f"history tensor {key} must be a finite float array of shape {shape}")
    return values.astype(np.float64)
