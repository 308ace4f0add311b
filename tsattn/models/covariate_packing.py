"""Packed windows for the neural forecasters: each series' scaled target beside its scaled
covariates, in the channel order of :class:`~tsattn.nn.covariates.CovariateLayout`
(targets, future-known, past-only, static), and the horizon rows a forecast adds after the
history (future-known values at the forecast dates; zeros where values are unknown).

A channel-independent network gets one packed array per series, (n_i, 1 + F + P + S). A
joint one (the series as the channels of one multivariate series) gets one array,
(T, N + N F + N P + N S): the N targets, then each kind's columns of every series in turn.
"""

from __future__ import annotations

import numpy as np

from tsattn.models.covariate_scaling import CovariateScaler
from tsattn.models.covariates import KINDS
from tsattn.models.series_data import SeriesData
from tsattn.nn.covariates import CovariateLayout


def covariate_layout(data: SeriesData, joint: bool) -> CovariateLayout:
    """The layout of ``data``'s packed windows (joint: every series' covariates, side by
    side, after its targets)."""
    widths = {
        "futr": 0 if data.futr is None else int(data.futr[0].shape[1]),
        "hist": 0 if data.hist is None else int(data.hist[0].shape[1]),
        "stat": 0 if data.static is None else int(data.static.shape[1]),
    }
    copies = data.n_series if joint else 1
    return CovariateLayout(
        widths["futr"] * copies, widths["hist"] * copies, widths["stat"] * copies, copies
    )


def _scaled(data: SeriesData, scaler: CovariateScaler, i: int, rows: int) -> dict:
    """Series ``i``'s scaled covariates by kind, over ``rows`` rows of its history."""
    blocks = {}
    if data.futr is not None:
        blocks["futr"] = scaler.scale("futr", data.futr[i])  # (n_i, F)
    if data.hist is not None:
        blocks["hist"] = scaler.scale("hist", data.hist[i])  # (n_i, P)
    if data.static is not None:
        row = scaler.scale("stat", data.static[i])  # (S,)
        blocks["stat"] = np.broadcast_to(row, (rows, len(row)))  # (n_i, S)
    return blocks


def _future(data: SeriesData, scaler: CovariateScaler, i: int, horizon: int) -> dict:
    """Series ``i``'s scaled covariates on the ``horizon`` forecast rows: the future-known
    values (past the requested ``h``, the last one repeats), zero past-only values (unknown
    there) and the static ones."""
    blocks = {}
    if data.futr is not None:
        future = data.future[i][:horizon]  # (h, F)
        pad = np.repeat(future[-1:], horizon - len(future), axis=0)  # (H - h, F)
        blocks["futr"] = scaler.scale("futr", np.concatenate([future, pad]))  # (H, F)
    if data.hist is not None:
        blocks["hist"] = np.zeros((horizon, data.hist[i].shape[1]))  # (H, P)
    if data.static is not None:
        row = scaler.scale("stat", data.static[i])  # (S,)
        blocks["stat"] = np.broadcast_to(row, (horizon, len(row)))  # (H, S)
    return blocks


def pack_series(
    data: SeriesData, targets: list[np.ndarray], scaler: CovariateScaler
) -> list[np.ndarray]:
    """Each series' (n_i, 1 + F + P + S) packed history (``targets``: scaled values)."""
    packed = []
    for i, target in enumerate(targets):
        blocks = _scaled(data, scaler, i, len(target))
        packed.append(np.concatenate([target[:, None], *_in_order(blocks)], axis=1))
    return packed


def pack_joint(data: SeriesData, matrix: np.ndarray, scaler: CovariateScaler) -> np.ndarray:
    """The (T, N + N (F + P + S)) packed history of aligned series (``matrix``: (T, N)
    scaled targets)."""
    per_series = [_scaled(data, scaler, i, len(matrix)) for i in range(data.n_series)]
    return np.concatenate([matrix, *_by_kind(per_series)], axis=1)


def horizon_rows(
    data: SeriesData, scaler: CovariateScaler, layout: CovariateLayout, horizon: int, joint: bool
) -> list[np.ndarray]:
    """The (H, width) rows after each series' history (one array for a joint model): zero
    targets, then the covariates as :func:`_future` gives them."""
    per_series = [_future(data, scaler, i, horizon) for i in range(data.n_series)]
    if joint:
        targets = np.zeros((horizon, layout.n_targets))
        return [np.concatenate([targets, *_by_kind(per_series)], axis=1)]
    return [np.concatenate([np.zeros((horizon, 1)), *_in_order(b)], axis=1) for b in per_series]


def _in_order(blocks: dict) -> list[np.ndarray]:
    return [blocks[kind] for kind in KINDS if kind in blocks]


def _by_kind(per_series: list[dict]) -> list[np.ndarray]:
    """Each kind's columns of every series side by side, kind after kind."""
    return [
        np.concatenate([blocks[kind] for blocks in per_series], axis=1)
        for kind in KINDS
        if kind in per_series[0]
    ]
