"""Calendar features of timestamps: future-known covariates a model can compute itself.

Each feature is a position in a cycle, a phase in ``[0, 1)``, encoded as the point
``(sin 2*pi*phase, cos 2*pi*phase)`` on the unit circle, so that the end of a cycle lies next
to its start (23:00 beside 00:00, December beside January) and every column lies in
``[-1, 1]``:

============  ====================================  ==========
feature       phase                                 cycle
============  ====================================  ==========
hour          ``hour / 24``                         a day
dayofweek     ``dayofweek / 7`` (Monday = 0)        a week
dayofmonth    ``(day - 1) / days_in_month``         a month
dayofyear     ``(dayofyear - 1) / days_in_year``    a year
month         ``(month - 1) / 12``                  a year
============  ====================================  ==========

Features are read in the timestamps' own wall time (a tz-aware index gives local hours), at
any resolution (nanoseconds, or microseconds for dates outside 1677-2262). A holiday country
adds one 0/1 column, ``holiday``, from the optional ``holidays`` package.

>>> dates = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 06:00"])
>>> calendar_columns(calendar_names(["hour"], "h"), None)
('hour_sin', 'hour_cos')
>>> calendar_features(dates, ["hour"]).round(6)
array([[0., 1.],
       [1., 0.]])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tsattn.checks import did_you_mean, short_repr
from tsattn.datasets.axis import is_integer_freq
from tsattn.datasets.frequency import check_freq

#: every calendar feature, in the order of their columns
CALENDAR_FEATURES: tuple[str, ...] = ("hour", "dayofweek", "dayofmonth", "dayofyear", "month")
#: the name of the 0/1 column of public holidays
HOLIDAY_COLUMN = "holiday"
#: what to run when the optional ``holidays`` package is missing
HOLIDAYS_HINT = 'install the holidays extra: pip install "tsattn[holidays]"'
#: countries shown in the error for an unknown holiday country
EXAMPLE_COUNTRIES = ("US", "GB", "DE", "FR", "CN", "IN", "JP", "BR")

_DAY = pd.Timedelta(days=1)
_WEEK = pd.Timedelta(days=7)
_MONTH = pd.Timedelta(days=28)  # the shortest month: steps of a month or longer are monthly
_YEAR = pd.Timedelta(days=365)


def calendar_names(calendar: bool | Sequence[str] | None, freq: str) -> tuple[str, ...]:
    """The calendar features a model computes, in the order of :data:`CALENDAR_FEATURES`.

    * ``None`` or ``False``: none.
    * ``True``: the features that vary from step to step at pandas frequency ``freq`` (the
      rule of gluonts' ``time_features_from_frequency_str``), by the length of one step:

      - ``hour``: steps shorter than a day (hourly, 15-minute, business hours, ...);
      - ``dayofweek``: steps shorter than a week (daily, business daily, sub-daily, ``"3D"``);
      - ``dayofmonth`` and ``dayofyear``: steps shorter than a month (semi-monthly, weekly
        and finer);
      - ``month``: steps from a month up to a year, exclusive (monthly, quarterly,
        ``"6MS"``); finer data has the same yearly cycle, smoothly, in ``dayofyear``;
      - none for yearly and longer steps: ``"YS"`` -> ``()``.

      So ``"h"`` -> hour, dayofweek, dayofmonth, dayofyear; ``"D"`` and ``"B"`` -> dayofweek,
      dayofmonth, dayofyear; ``"W"`` -> dayofmonth, dayofyear; ``"MS"`` and ``"QS"`` -> month.
    * a sequence of names (or one name): those, checked, in the order above; an unknown or
      repeated name is a ``ValueError``.

    Integer time axes (``freq="1"``) have no calendar: asking for one is a ``ValueError``.

    >>> calendar_names(True, "D")
    ('dayofweek', 'dayofmonth', 'dayofyear')
    >>> calendar_names(["month", "hour"], "h")
    ('hour', 'month')
    """
    if isinstance(calendar, np.bool_):
        calendar = bool(calendar)
    if calendar is None or calendar is False:
        return ()
    if calendar is True:
        _check_calendar_axis(freq, calendar)
        return _varying_features(freq)
    names = _check_names(calendar)
    if names:
        _check_calendar_axis(freq, calendar)
    return names


def holiday_names(country: str | None) -> tuple[str, ...]:
    """``("holiday",)`` for a holiday country (an ISO code the ``holidays`` package knows,
    checked here), ``()`` for None."""
    if country is None:
        return ()
    _check_country(country)
    return (HOLIDAY_COLUMN,)


def calendar_columns(names: Sequence[str], country: str | None) -> tuple[str, ...]:
    """The covariate columns that :func:`calendar_features` gives, in order: ``<name>_sin``,
    ``<name>_cos`` for each feature (in the order of :data:`CALENDAR_FEATURES`), then
    ``holiday`` for a holiday country.

    >>> calendar_columns(["month", "dayofweek"], None)
    ('dayofweek_sin', 'dayofweek_cos', 'month_sin', 'month_cos')
    """
    cyclic = tuple(f"{name}_{part}" for name in _check_names(names) for part in ("sin", "cos"))
    return cyclic + holiday_names(country)


def calendar_features(
    dates: pd.DatetimeIndex, names: Sequence[str], country: str | None = None
) -> np.ndarray:
    """The calendar features of ``dates``: a float64 array of shape
    ``(len(dates), len(calendar_columns(names, country)))``, columns in that order.

    Each feature gives ``sin(2*pi*phase)`` and ``cos(2*pi*phase)`` (phases in the module
    docstring), read in the dates' own wall time; a ``country`` adds a column that is 1 on
    that country's public holidays (as the ``holidays`` package lists them, observed days
    included) and 0 elsewhere, by the local date of each timestamp. Dates in years that
    package has no calendar for (before a country's calendar starts, or beyond year 9999) get 0.
    """
    names = _check_names(names)
    dates = _check_dates(dates)
    columns = [_sin_cos(_phase(dates, name)) for name in names]  # each (n, 2)
    if country is not None:
        columns.append(holiday_indicator(dates, country)[:, None])  # (n, 1)
    if not columns:
        return np.zeros((len(dates), 0))
    return np.concatenate(columns, axis=1)  # (n, 2 * len(names) + has_country)


def holiday_indicator(dates: pd.DatetimeIndex, country: str) -> np.ndarray:
    """``(len(dates),)`` float64: 1.0 where the local date of a timestamp is a public holiday
    of ``country``, else 0.0."""
    holidays = _import_holidays()
    _check_country(country)
    days = _local_days(_check_dates(dates))  # (n,) datetime64[D]
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970  # (n,)
    known = sorted({int(y) for y in np.unique(years) if 1 <= y <= 9999})
    table = holidays.country_holidays(country, years=known) if known else {}
    holiday_days = np.array(sorted(table), dtype="datetime64[D]")  # (n_holidays,)
    return np.isin(days, holiday_days).astype(np.float64)


# ---------------------------------------------------------------------- the features
def _phase(dates: pd.DatetimeIndex, name: str) -> np.ndarray:
    """``(n,)`` float64 position of each date in the cycle of feature ``name``, in [0, 1)."""
    if name == "hour":
        return np.asarray(dates.hour, dtype=np.float64) / 24
    if name == "dayofweek":
        return np.asarray(dates.dayofweek, dtype=np.float64) / 7
    if name == "dayofmonth":
        day, length = np.asarray(dates.day), np.asarray(dates.days_in_month)
        return (day - 1) / length.astype(np.float64)
    if name == "dayofyear":
        length = np.where(np.asarray(dates.is_leap_year), 366.0, 365.0)
        return (np.asarray(dates.dayofyear) - 1) / length
    return (np.asarray(dates.month, dtype=np.float64) - 1) / 12  # month


def _sin_cos(phase: np.ndarray) -> np.ndarray:
    """``(n, 2)``: the sine and cosine of ``2*pi*phase`` for ``phase`` of shape ``(n,)``."""
    angle = 2 * np.pi * phase
    return np.stack([np.sin(angle), np.cos(angle)], axis=1)


def _varying_features(freq: str) -> tuple[str, ...]:
    """The features that vary at ``freq``, by the length of one step (see calendar_names)."""
    step = _nominal_step(freq)
    varies = {
        "hour": step < _DAY,
        "dayofweek": step < _WEEK,
        "dayofmonth": step < _MONTH,
        "dayofyear": step < _MONTH,
        "month": _MONTH <= step < _YEAR,
    }
    return tuple(name for name in CALENDAR_FEATURES if varies[name])


def _nominal_step(freq: str) -> pd.Timedelta:
    """The usual length of one step at ``freq``: exact for fixed steps, the median step of
    a short grid for calendar ones (a month: 31 days, a business day: 1 day)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Tick):
        return pd.Timedelta(offset)
    try:
        grid = pd.date_range("2001-01-01", periods=9, freq=offset, unit="s")
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        return pd.Timedelta.max  # steps of many millennia: no calendar varies
    return pd.Series(grid[1:] - grid[:-1]).median()


def _local_days(dates: pd.DatetimeIndex) -> np.ndarray:
    """``(n,)`` datetime64[D]: the calendar date of each timestamp in its own wall time."""
    wall = dates.tz_localize(None) if dates.tz is not None else dates
    return wall.values.astype("datetime64[D]")


# ---------------------------------------------------------------------- checks
def _check_names(names: Sequence[str] | str) -> tuple[str, ...]:
    """``names`` (a sequence of feature names, or one name) in the order of
    :data:`CALENDAR_FEATURES`; a ``ValueError`` for anything else, with a did-you-mean."""
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, Sequence | np.ndarray | pd.Index):
        raise ValueError(
            f"calendar must be True, False, None or a list of feature names, got "
            f"{short_repr(names)}; valid names: {', '.join(CALENDAR_FEATURES)}"
        )
    names = list(names)
    unknown = [n for n in names if n not in CALENDAR_FEATURES]
    if unknown:
        shown = ", ".join(short_repr(u, 30) for u in unknown)
        hint = did_you_mean([str(u) for u in unknown], CALENDAR_FEATURES)
        raise ValueError(
            f"unknown calendar feature(s) [{shown}]{hint}; "
            f"valid names: {', '.join(CALENDAR_FEATURES)}"
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"calendar feature(s) listed twice: {', '.join(repeated)}")
    return tuple(name for name in CALENDAR_FEATURES if name in names)


def _check_calendar_axis(freq: str, calendar: object) -> None:
    """Raise unless ``freq`` is a pandas frequency of timestamps (integer steps have no
    calendar)."""
    check_freq(freq)
    if is_integer_freq(freq):
        raise ValueError(
            f"calendar={short_repr(calendar)} needs timestamps, but this time axis holds "
            "integer steps (freq='1'), which have no calendar; use calendar=None, or give "
            "the series timestamps (a datetime 'ds' column) instead"
        )


def _check_dates(dates: object) -> pd.DatetimeIndex:
    """``dates`` as a DatetimeIndex (a Series or array of datetimes is accepted), without NaT."""
    if isinstance(dates, pd.Series):
        dates = pd.Index(dates)
    if not isinstance(dates, pd.DatetimeIndex):
        kind = getattr(dates, "dtype", type(dates).__name__)
        raise ValueError(
            f"calendar features need timestamps (a DatetimeIndex), got {kind}; integer time "
            "steps have no calendar"
        )
    if dates.hasnans:
        raise ValueError("calendar features need timestamps, but the dates hold NaT")
    return dates


def _check_country(country: object) -> None:
    """Raise unless ``country`` is a country code the ``holidays`` package knows."""
    supported = _import_holidays().list_supported_countries()
    if isinstance(country, str) and country in supported:
        return
    examples = ", ".join(c for c in EXAMPLE_COUNTRIES if c in supported)
    hint = ""
    if isinstance(country, str):
        code = _country_codes().get(country.lower().replace(" ", "").replace("_", ""))
        hint = f" (did you mean {code!r}?)" if code else did_you_mean(country, supported)
    raise ValueError(
        f"unknown holiday country {short_repr(country)}{hint}; use an ISO 3166 code such as "
        f"{examples} (all {len(supported)}: holidays.list_supported_countries())"
    )


def _country_codes() -> dict[str, str]:
    """The ISO code of each country the ``holidays`` package knows, by lower-case name without
    spaces (``"unitedkingdom"`` -> ``"GB"``); empty if its registry has another shape."""
    registry = getattr(_import_holidays(), "registry", None)
    entries = getattr(registry, "COUNTRIES", {})
    codes = {}
    for entry in entries.values():
        if isinstance(entry, tuple) and len(entry) >= 2 and isinstance(entry[0], str):
            codes[entry[0].lower()] = entry[1]  # (class name, alpha-2, alpha-3, ...)
    return codes


def _import_holidays():  # noqa: ANN202 - the optional module itself
    """The optional ``holidays`` package, or an ``ImportError`` saying how to install it."""
    try:
        import holidays
    except ImportError:
        raise ImportError(HOLIDAYS_HINT) from None
    return holidays
