"""A neural forecaster's covariate state: the layout it was fitted with, checked on data
and in model files (widths in the metadata, the scaling as tensors)."""

from __future__ import annotations

from typing import Any

from tsattn.checks import state_field
from tsattn.models.covariate_packing import covariate_layout
from tsattn.models.covariate_scaling import CovariateScaler
from tsattn.models.series_data import SeriesData
from tsattn.nn.covariates import CovariateLayout

#: the most covariates of one kind a model file may declare (a forged width is refused
#: before anything is allocated)
MAX_COVARIATES = 10_000


def layout_widths(layout: CovariateLayout) -> dict[str, int]:
    return {"futr": layout.n_futr, "hist": layout.n_hist, "stat": layout.n_stat}


def check_same_covariates(layout: CovariateLayout, data: SeriesData, joint: bool) -> None:
    """``data`` has the covariates the network was fitted with (a ``ValueError`` if not)."""
    widths = layout_widths(covariate_layout(data, joint))
    if widths != layout_widths(layout):
        raise ValueError(
            f"the model was fitted with covariates {layout_widths(layout)} (future-known, "
            f"past-only, static columns) but the data has {widths}; predict with the same "
            f"covariates it was fitted with"
        )


def saved_covariates(
    meta: dict[str, Any], tensors: dict[str, Any], n_targets: int
) -> tuple[CovariateLayout | None, CovariateScaler | None]:
    """The layout and scaling a model file's network was fitted with (none for files of
    networks without covariates, older files included); ``n_targets``: its channels."""
    if "covariates" not in meta:
        return None, None
    widths = state_field(meta, "covariates", dict)
    if set(widths) != {"futr", "hist", "stat"}:
        raise ValueError("saved state field 'covariates' must give futr, hist and stat widths")
    for kind, width in widths.items():
        if isinstance(width, bool) or not isinstance(width, int):
            raise ValueError(f"saved covariate width {kind!r} must be an int")
        if not 0 <= width <= MAX_COVARIATES:
            raise ValueError(f"saved covariate width {kind!r} must be in [0, {MAX_COVARIATES}]")
    if not any(widths.values()):
        raise ValueError("saved state field 'covariates' declares no covariate")
    if any(width % n_targets for width in widths.values()):
        raise ValueError("saved covariate widths must be multiples of the network's channels")
    per_series = {kind: width // n_targets for kind, width in widths.items()}
    arrays = {k: v.numpy() for k, v in tensors.items() if k.startswith("covariates.")}
    scaler = CovariateScaler.from_tensors(arrays, per_series)
    layout = CovariateLayout(widths["futr"], widths["hist"], widths["stat"], n_targets)
    return layout, scaler
