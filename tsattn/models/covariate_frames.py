"""Covariates read from users' frames: the long frame's covariate columns beside each series,
the calendar computed from its dates, ``static_df``'s rows and ``futr_df``'s values at the
forecast dates, each missing piece a ``ValueError`` naming the series, dates or columns (see
:mod:`tsattn.models.covariates` for the vocabulary)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from tsattn.models.covariates import CovariateSpec
from tsattn.models.series_data import SeriesData, series_dates


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
