"""Exogenous covariates: which columns a model uses, read from the frames, scaled and saved.

The vocabulary is neuralforecast's. Extra columns of the long frame are covariates; a model
is told which are *future-known* (``futr_exog_list``: prices, promotions, planned events,
known at forecast time for the dates ahead) and which are *past-only* (``hist_exog_list``:
observed up to now, such as the weather measured so far). *Static* covariates
(``stat_exog_list``) are one row per series in ``static_df``. ``calendar=True`` (or a list of
features) and ``holidays="US"`` add calendar columns, computed from the dates, so they are
future-known without a ``futr_df``. At ``predict``, ``futr_df`` (``unique_id, ds`` and the
future-known columns) gives the values at the forecast dates.

:class:`SeriesData` carries them as arrays: ``futr`` (each series (n_i, F), the user's
future-known columns then the calendar's), ``hist`` ((n_i, P)), ``static`` ((n_series, S))
and, at predict, ``future`` (each (h, F), the future-known values after the end). This
module says which covariates a model uses; :mod:`~tsattn.models.covariate_frames` reads them
from frames and :mod:`~tsattn.models.covariate_scaling` scales them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from tsattn.checks import short_repr

#: the constructor arguments that declare covariates
COVARIATE_ARGUMENTS = (
    "futr_exog_list",
    "hist_exog_list",
    "stat_exog_list",
    "calendar",
    "holidays",
    "ignore_covariates",
)
#: kinds of covariates a model may support
KINDS = ("futr", "hist", "stat")


@dataclass(frozen=True)
class CovariateSpec:
    """The covariates a model uses: column names by kind, calendar features and a holiday
    country (future-known columns computed from the dates)."""

    futr: tuple[str, ...] = ()
    hist: tuple[str, ...] = ()
    stat: tuple[str, ...] = ()
    calendar: tuple[str, ...] = ()
    country: str | None = None

    @property
    def calendar_columns(self) -> tuple[str, ...]:
        """The columns the calendar features and holidays produce."""
        if not self.calendar and self.country is None:
            return ()
        from tsattn.datasets.calendar import calendar_columns

        return tuple(calendar_columns(self.calendar, self.country))

    @property
    def futr_columns(self) -> tuple[str, ...]:
        """Every future-known column a network sees: the user's, then the calendar's."""
        return self.futr + self.calendar_columns

    @property
    def frame_columns(self) -> tuple[str, ...]:
        """The columns read from the long frame."""
        return self.futr + self.hist

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds in use: ``"futr"`` (calendar included), ``"hist"``, ``"stat"``."""
        used = {"futr": bool(self.futr_columns), "hist": bool(self.hist), "stat": bool(self.stat)}
        return tuple(kind for kind in KINDS if used[kind])

    @property
    def empty(self) -> bool:
        return not self.kinds


def check_exog_list(name: str, value: object) -> list[str] | None:
    """None, or a list of distinct non-empty column names (a single string is refused: it
    would read as a list of letters)."""
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError(
            f"{name} must be a list of column names such as ['price'], got {short_repr(value)}"
        )
    names = list(value)
    if not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"{name} must hold non-empty column names, got {short_repr(value)}")
    repeated = [n for i, n in enumerate(names) if n in names[:i]]
    if repeated:
        raise ValueError(f"{name} lists {repeated[0]!r} twice; list each column once")
    return names


def check_calendar(value: object) -> bool | list[str] | None:
    """None, a bool, or a list of calendar feature names (checked against the features)."""
    if value is None or isinstance(value, bool):
        return value
    from tsattn.datasets.calendar import calendar_names

    names = check_exog_list("calendar", value)
    calendar_names(names, "h")  # an unknown feature is an error now (hourly: every one varies)
    return names


def check_holidays(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"holidays must be a country code such as 'US', got {short_repr(value)}")
    from tsattn.datasets.calendar import holiday_names

    holiday_names(value)  # an unknown country (or a missing extra) is an error now
    return value


def declared_spec(model: Any) -> CovariateSpec:
    """The covariates ``model`` was created with (calendar features not yet resolved for a
    frequency: ``calendar=True`` gives its features at fit)."""
    calendar = model.calendar
    return CovariateSpec(
        futr=tuple(model.futr_exog_list or ()),
        hist=tuple(model.hist_exog_list or ()),
        stat=tuple(model.stat_exog_list or ()),
        calendar=tuple(calendar) if isinstance(calendar, list | tuple) else (),
        country=model.holidays,
    )


def fitted_spec(model: Any, freq: str) -> CovariateSpec:
    """The covariates ``model`` uses on data of frequency ``freq`` (``calendar=True`` made
    concrete); empty when the model ignores covariates it cannot use."""
    if getattr(model, "_ignoring_covariates", False):
        return CovariateSpec()
    spec = declared_spec(model)
    if model.calendar is True:
        from tsattn.datasets.calendar import calendar_names

        spec = replace(spec, calendar=tuple(calendar_names(True, freq)))
    return spec


def frame_columns(model: Any, kind: str | None = None) -> tuple[str, ...]:
    """The covariate columns ``model`` reads from a frame (``kind``: only the future-known,
    ``"futr"``, or past-only, ``"hist"``, ones); none when it ignores them."""
    if getattr(model, "_ignoring_covariates", False):
        return ()
    spec = declared_spec(model)
    return {None: spec.frame_columns, "futr": spec.futr, "hist": spec.hist}[kind]


def unsupported_kinds(model: Any) -> list[str]:
    """The declared covariate kinds ``model``'s class cannot use."""
    spec = declared_spec(model)
    declared = {
        "futr": bool(spec.futr or model.calendar or spec.country),
        "hist": bool(spec.hist),
        "stat": bool(spec.stat),
    }
    return [k for k in KINDS if declared[k] and k not in type(model).supports_covariates]


def check_supported(model: Any, warn: bool = True) -> bool:
    """Whether ``model`` ignores its declared covariates: never silently. A kind its class
    cannot use is a ``ValueError``, or with ``ignore_covariates=True`` a warning (``warn``:
    at fit, not when a model is built or loaded) and then no covariate at all."""
    missing = unsupported_kinds(model)
    if not missing:
        return False
    labels = {"futr": "future-known", "hist": "past-only", "stat": "static"}
    what = ", ".join(labels[k] for k in missing)
    supported = [labels[k] for k in type(model).supports_covariates]
    can = f"it uses only {', '.join(supported)} covariates" if supported else "it uses none"
    if not model.ignore_covariates:
        raise ValueError(
            f"{model.name} cannot use {what} covariates ({can}); drop them from this model, "
            f"or pass ignore_covariates=True to fit it without covariates"
        )
    if not warn:
        return True
    warnings.warn(
        f"{model.name} ignores its {what} covariates ({can}): ignore_covariates=True",
        UserWarning,
        stacklevel=3,
    )
    return True
