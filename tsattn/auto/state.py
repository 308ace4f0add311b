"""An AutoForecaster's fitted state in its model file, and every field of it checked on load.

The JSON state holds the members' header fields (:mod:`tsattn.auto.members`), the series ids
the weights belong to, and the leaderboard (strings and numbers); the tensors hold the
members' tensors, the weights (``weights`` (n_series, n_members), ``global_weights``
(n_members,): finite, non-negative, each row summing to one) and the combination's scaled
validation errors (``scores`` (n, >= h)), the conformity scores of its intervals.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from tsattn.auto.members import members_from_state, members_state
from tsattn.checks import short_repr, state_field, state_ids, state_tensor
from tsattn.models.intervals import check_scores

#: the leaderboard's columns
LEADERBOARD_COLUMNS = ("model", "mase", "weight", "validation_s", "refit_s", "status")
#: the fields of the saved state
STATE_FIELDS = frozenset({"members", "series_ids", "leaderboard"})
#: the tensors the AutoForecaster itself saves (the members' are under ``member.<i>.``)
OWN_TENSORS = ("weights", "global_weights", "scores")


def saved_state(model: Any) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """``(meta, tensors)`` of a fitted AutoForecaster."""
    entries, tensors = members_state(model._members)
    meta = {"members": entries, "series_ids": model._series_ids, "leaderboard": model._board}
    tensors["weights"] = torch.from_numpy(np.ascontiguousarray(model._weights, np.float64))
    tensors["global_weights"] = torch.from_numpy(np.ascontiguousarray(model._global, np.float64))
    tensors["scores"] = torch.from_numpy(np.ascontiguousarray(model._scores, np.float64))
    return meta, tensors


def restore_state(model: Any, meta: dict[str, Any], tensors: dict[str, Any]) -> None:
    """Set what :func:`saved_state` wrote on ``model``, every field checked first."""
    unknown = sorted(map(str, set(meta) - STATE_FIELDS))
    if unknown:
        raise ValueError(f"unknown saved state field(s) {short_repr(unknown, 80)}")
    own = {key: state_tensor(tensors, key).numpy().astype(np.float64) for key in OWN_TENSORS}
    for key in OWN_TENSORS:
        del tensors[key]
    members = members_from_state(state_field(meta, "members", list), tensors)
    ids = state_ids(meta, "series_ids")
    weights = _weights(own["weights"], (len(ids), len(members)), "weights")
    model._global = _weights(own["global_weights"][None, :], (1, len(members)), "global")[0]
    model._scores = check_scores(own["scores"], model.h)
    model._board = _board(state_field(meta, "leaderboard", list))
    model._members, model._weights, model._series_ids = members, weights, ids


def _weights(values: np.ndarray, shape: tuple[int, int], name: str) -> np.ndarray:
    if values.shape != shape:
        raise ValueError(f"saved {name} weights have shape {values.shape}, expected {shape}")
    if (values < 0).any() or not np.allclose(values.sum(axis=1), 1.0, atol=1e-9):
        raise ValueError(f"saved {name} weights must be non-negative and sum to one per series")
    return values


def _board(rows: list) -> list[list]:
    """The saved leaderboard: rows of (name, number, number, number, number, text)."""
    kinds = (str, float, float, float, float, str)
    for row in rows:
        ok = isinstance(row, list) and len(row) == len(kinds)
        ok = ok and all(_is(value, kind) for value, kind in zip(row, kinds))
        if not ok:
            raise ValueError(f"saved leaderboard row {short_repr(row, 80)} is malformed")
    if not rows:
        raise ValueError("saved leaderboard is empty")
    return [[*row[:5], row[5]] for row in rows]


def _is(value: object, kind: type) -> bool:
    if kind is str:
        return isinstance(value, str)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and not math.isinf(value)  # NaN: a candidate that never ran
