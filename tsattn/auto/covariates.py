"""An AutoForecaster's covariates: what each candidate is told, the frames they are
validated on, and the view of the data each member forecasts from.

The AutoForecaster declares covariates as any forecaster does (``futr_exog_list``,
``hist_exog_list``, ``stat_exog_list``, ``calendar``, ``holidays``). A candidate it builds
from a spec (the default set or the user's specs) gets that declaration for the kinds its
class uses (``supports_covariates``) and none of the rest, so a model that cannot use
covariates still competes, without them (and without the warning of
``ignore_covariates=True``: it is simply not told about them). A candidate given as an
instance keeps its own declaration, which must read only columns the AutoForecaster
declares (its data holds no others).

Validation frames (:func:`covariate_frame`) carry the user's future-known and past-only
columns next to ``y`` (calendar columns are not carried: each candidate computes its own
from the dates), and the static rows go to ``static_df`` (:func:`static_frame`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from tsattn.models.base import Forecaster
from tsattn.models.covariates import declared_spec, fitted_spec
from tsattn.models.series_data import SeriesData

#: the declaration arguments each covariate kind brings
KIND_ARGUMENTS = {
    "futr": ("futr_exog_list", "calendar", "holidays"),
    "hist": ("hist_exog_list",),
    "stat": ("stat_exog_list",),
}


@dataclass(frozen=True)
class FrameCovariates:
    """The user's covariate columns of a validation frame: future-known (the first columns
    of ``SeriesData.futr``), past-only and static (the ``static_df`` columns)."""

    futr: tuple[str, ...] = ()
    hist: tuple[str, ...] = ()
    stat: tuple[str, ...] = ()

    @classmethod
    def of(cls, model: Forecaster) -> FrameCovariates:
        """The columns ``model``'s data holds (none when it ignores its covariates)."""
        if getattr(model, "_ignoring_covariates", False):
            return cls()
        spec = declared_spec(model)
        return cls(spec.futr, spec.hist, spec.stat)


def declaration(auto: Forecaster, cls: type) -> dict[str, Any]:
    """The covariate arguments a candidate of class ``cls`` built by ``auto`` gets: ``auto``'s
    declaration for the kinds ``cls`` uses, nothing for the others."""
    params = auto.get_params()
    supported = getattr(cls, "supports_covariates", ())
    return {
        name: params[name]
        for kind in supported
        for name in KIND_ARGUMENTS[kind]
        if params.get(name) not in (None, False)
    }


def check_candidates(candidates: list[Forecaster], auto: Forecaster, freq: str) -> None:
    """Every candidate reads only covariates ``auto`` declares (``ValueError`` naming it)."""
    own = fitted_spec(auto, freq)
    for model in candidates:
        spec = fitted_spec(model, freq)
        for kind, mine, theirs in (
            ("future-known", spec.futr_columns, own.futr_columns),
            ("past-only", spec.hist, own.hist),
            ("static", spec.stat, own.stat),
        ):
            absent = [c for c in mine if c not in theirs]
            if absent:
                raise ValueError(
                    f"candidate {model.name} reads {kind} covariates {absent} that "
                    f"{auto.name} does not declare ({kind}: {list(theirs)}); declare them on "
                    f"{auto.name} too (futr_exog_list, hist_exog_list, stat_exog_list, "
                    f"calendar, holidays), or drop them from the candidate"
                )


def member_view(member: Forecaster, data: SeriesData, own: Any) -> SeriesData:
    """``data`` (the covariates of the AutoForecaster's spec ``own``) as ``member`` reads
    it: only its own covariate columns, in its order; none of a kind it does not use."""
    if not data.has_covariates and data.future is None:
        return data
    spec = fitted_spec(member, data.freqs[0])
    futr = _columns(own.futr_columns, spec.futr_columns)
    hist = _columns(own.hist, spec.hist)
    stat = _columns(own.stat, spec.stat)
    return replace(
        data,
        futr=_select(data.futr, futr),
        hist=_select(data.hist, hist),
        static=None if stat is None or data.static is None else data.static[:, stat],
        future=_select(data.future, futr),
    )


def _columns(have: tuple[str, ...], want: tuple[str, ...]) -> list[int] | None:
    """Indices of ``want`` among ``have`` (None: nothing wanted)."""
    absent = [c for c in want if c not in have]
    if absent:  # only a forged or edited model file gets here: fit checks the candidates
        raise ValueError(
            f"a member reads covariates {absent} that the AutoForecaster does not hold "
            f"(it holds {list(have)})"
        )
    return [have.index(c) for c in want] if want else None


def _select(arrays: list[np.ndarray] | None, columns: list[int] | None):
    if arrays is None or columns is None:
        return None
    if all(a.shape[1] == len(columns) for a in arrays) and columns == sorted(columns):
        return arrays  # every column, in order
    return [a[:, columns] for a in arrays]


def covariate_frame(frame: pd.DataFrame, data: SeriesData, names: FrameCovariates) -> pd.DataFrame:
    """``frame`` (the rows of ``data``'s series, in order) with the user's future-known and
    past-only columns of ``data`` (calendar columns are left out: every model computes its
    own from the dates)."""
    columns = {}
    if names.futr:
        futr = np.concatenate(data.futr)  # (rows, F): the user's columns come first
        columns.update({c: futr[:, j] for j, c in enumerate(names.futr)})
    if names.hist:
        hist = np.concatenate(data.hist)  # (rows, P)
        columns.update({c: hist[:, j] for j, c in enumerate(names.hist)})
    return frame.assign(**columns) if columns else frame


def static_frame(data: SeriesData, names: FrameCovariates) -> pd.DataFrame | None:
    """``static_df`` of the series (``unique_id`` and the static columns), or None."""
    if not names.stat or data.static is None:
        return None
    frame = pd.DataFrame(data.static, columns=list(names.stat))
    frame.insert(0, "unique_id", list(data.ids))
    return frame
