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
and, at predict, ``future`` (each (h, F), the future-known values after the end).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from tsattn.checks import short_repr
from tsattn.models.series_data import SeriesData, series_dates

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

    def to_meta(self) -> dict[str, Any]:
        """JSON-able description saved with a model."""
        return {
            "futr": list(self.futr_columns),
            "hist": list(self.hist),
            "stat": list(self.stat),
        }


def check_exog_list(name: str, value: object) -> list[str] | None:
    """None, or a list of distinct non-empty column names (a single string is refused: it
    would read as a list of letters)."""
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence | tuple | list):
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


# ---------------------------------------------------------------- reading the frames
def attach_covariates(
    data: SeriesData,
    frame: pd.DataFrame,
    spec: CovariateSpec,
    static: np.ndarray | None,
) -> SeriesData:
    """``data`` with its covariates from the validated long ``frame`` (user columns), the
    calendar computed from each series' dates, and the static rows ``static`` (n_series, S)."""
    if spec.empty:
        return data
    bounds = np.cumsum([0] + [len(v) for v in data.values])
    futr = hist = None
    if spec.futr_columns:
        user = frame[list(spec.futr)].to_numpy(np.float64)  # (rows, F_user)
        futr = []
        for i in range(data.n_series):
            dates = series_dates(data, i, len(data.values[i])) if spec.calendar_columns else None
            futr.append(_with_calendar(user[bounds[i] : bounds[i + 1]], dates, spec))
    if spec.hist:
        values = frame[list(spec.hist)].to_numpy(np.float64)  # (rows, P)
        hist = [values[bounds[i] : bounds[i + 1]] for i in range(data.n_series)]
    return replace(data, futr=futr, hist=hist, static=static if spec.stat else None)


def _with_calendar(user: np.ndarray, dates: Any, spec: CovariateSpec) -> np.ndarray:
    """(n, F_user) user columns followed by the calendar columns of ``dates``."""
    if dates is None:
        return user
    from tsattn.datasets.calendar import calendar_features

    calendar = calendar_features(dates, spec.calendar, spec.country)  # (n, F_calendar)
    return np.concatenate([user, calendar], axis=1)


def static_rows(
    static_df: pd.DataFrame | None, ids: Sequence[str], names: Sequence[str], id_col: str
) -> np.ndarray | None:
    """(n_series, S) static covariates of the series ``ids`` from ``static_df`` (one row
    per series); every series must have a finite, numeric row."""
    if not names:
        return None
    if static_df is None:
        raise ValueError(
            f"stat_exog_list={list(names)} needs static_df=: a frame with {id_col!r} and "
            f"those columns, one row per series"
        )
    _check_frame(static_df, "static_df", [id_col, *names])
    keys = static_df[id_col].astype(str)
    if keys.duplicated().any():
        raise ValueError(
            f"static_df has several rows for series {keys[keys.duplicated()].iloc[0]!r}; "
            f"give one row per series"
        )
    table = static_df.assign(**{id_col: keys}).set_index(id_col)
    missing = [uid for uid in ids if uid not in table.index]
    if missing:
        raise ValueError(
            f"static_df has no row for {len(missing)} series (first: {missing[0]!r}); give "
            f"every series one row"
        )
    values = _numbers(table.loc[list(ids), list(names)], "static_df")  # (n_series, S)
    return values


def future_values(
    data: SeriesData,
    futr_df: pd.DataFrame | None,
    h: int,
    spec: CovariateSpec,
    id_col: str,
    time_col: str,
) -> list[np.ndarray] | None:
    """Each series' (h, F) future-known covariates at its ``h`` forecast dates: the user's
    columns looked up in ``futr_df`` by series and date (a ``futr_df`` without the id
    column holds for every series), then the calendar computed."""
    if not spec.futr_columns:
        return None
    user = _user_future(data, futr_df, h, spec.futr, id_col, time_col)
    futures = []
    for i in range(data.n_series):
        dates = None
        if spec.calendar_columns:
            dates = series_dates(data, i, h, after=True)
        futures.append(_with_calendar(user[i], dates, spec))
    return futures


def _user_future(
    data: SeriesData,
    futr_df: pd.DataFrame | None,
    h: int,
    names: tuple[str, ...],
    id_col: str,
    time_col: str,
) -> list[np.ndarray]:
    """(h, F_user) values of the user's future-known columns per series, from ``futr_df``."""
    if not names:
        return [np.zeros((h, 0)) for _ in range(data.n_series)]
    if futr_df is None:
        raise ValueError(
            f"futr_exog_list={list(names)} are future-known covariates: predict needs "
            f"futr_df= with {id_col!r}, {time_col!r} and those columns for the {h} dates after "
            f"each series' end"
        )
    if isinstance(futr_df, pd.DataFrame) and id_col not in futr_df.columns:
        futr_df = _shared_by_every_series(futr_df, data.ids, id_col)
    _check_frame(futr_df, "futr_df", [id_col, time_col, *names])
    from tsattn.datasets.timestamps import parse_times

    frame = pd.DataFrame(
        {
            "key": futr_df[id_col].astype(str).to_numpy(),
            "ds": _date_keys(parse_times(futr_df[time_col].reset_index(drop=True), time_col)),
        }
    )
    values = _numbers(futr_df[list(names)], "futr_df")  # (rows, F_user)
    index = pd.MultiIndex.from_frame(frame)
    if index.duplicated().any():
        uid, stamp = index[index.duplicated()][0]
        raise ValueError(f"futr_df has several rows for series {uid!r} at {stamp}")
    position = pd.Series(np.arange(len(frame)), index=index)
    result = []
    for i, uid in enumerate(data.ids):
        dates = series_dates(data, i, h, after=True)
        wanted = pd.MultiIndex.from_arrays([np.repeat(uid, h), _date_keys(dates)])
        found = position.reindex(wanted)
        if found.isna().any():
            lacking = [str(d) for d, bad in zip(dates, found.isna()) if bad]
            raise ValueError(
                f"futr_df lacks {', '.join(names)} for series {uid!r} at {len(lacking)} of "
                f"its {h} forecast dates (first: {lacking[0]}); give every series a row for "
                f"each date from {dates[0]} to {dates[-1]}"
            )
        result.append(values[found.to_numpy(dtype=np.int64)])
    return result


def _shared_by_every_series(futr_df: pd.DataFrame, ids: list[str], id_col: str) -> pd.DataFrame:
    """A ``futr_df`` without series ids (as a wide frame's covariates are): its rows hold
    for every series."""
    copies = [futr_df.assign(**{id_col: uid}) for uid in ids]
    return pd.concat(copies, ignore_index=True)


def _date_keys(dates: Any) -> np.ndarray:
    """Dates as comparable keys: integer steps as they are, timestamps as UTC microseconds
    (so units and time zones of the two sides never decide a match)."""
    index = pd.Index(dates)
    if not isinstance(index, pd.DatetimeIndex):
        return index.to_numpy(dtype=np.int64)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.as_unit("us").asi8


def _check_frame(frame: object, name: str, columns: list[str]) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise ValueError(
            f"{name} has no column {absent[0]!r} (its columns: {list(frame.columns)}); it "
            f"needs {columns}"
        )


def _numbers(frame: pd.DataFrame, name: str) -> np.ndarray:
    """The frame's columns as a finite float64 array, or an error naming the column."""
    from tsattn.datasets.values import parse_numbers

    columns = []
    for column in frame.columns:
        values = parse_numbers(frame[column].reset_index(drop=True), f"{name}[{column!r}]")
        if not np.isfinite(values.to_numpy()).all():
            raise ValueError(f"{name} column {column!r} holds NaN or infinite values; fill them")
        columns.append(values.to_numpy())
    return np.stack(columns, axis=1) if columns else np.zeros((len(frame), 0))


# ---------------------------------------------------------------- scaling
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
