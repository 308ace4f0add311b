"""Which columns of a forecast frame are models, and which are their intervals and quantiles.

``predict(level=..., quantiles=...)`` names them as statsforecast and neuralforecast do:
``<alias>-lo-<L>`` / ``<alias>-hi-<L>`` for a level L in percent, ``<alias>-q-<p>`` for a
quantile p. A column with one of those suffixes whose base is a column of the frame belongs to
that model; it is never a model of its own.

>>> layout = forecast_columns(["y", "M", "M-lo-80", "M-hi-80", "M-q-0.5", "N"])
>>> sorted(layout)
['M', 'N', 'y']
>>> layout["M"].intervals
{80.0: ('M-lo-80', 'M-hi-80')}
>>> layout["M"].quantiles  # the interval's two ends are quantiles too
{0.1: 'M-lo-80', 0.5: 'M-q-0.5', 0.9: 'M-hi-80'}
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from tsattn.models.intervals import format_level, level_tails

_SUFFIX = re.compile(r"^(?P<model>.+)-(?P<kind>lo|hi|q)-(?P<value>[0-9][0-9.eE+-]*)$")


@dataclass(frozen=True)
class ModelColumns:
    """A model's point column and its interval and quantile columns."""

    name: str
    #: level (percent) -> (lower column, upper column), both present
    intervals: dict[float, tuple[str, str]] = field(default_factory=dict)
    #: probability -> column: the ``-q-`` columns and the ends of every interval
    quantiles: dict[float, str] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """Every column of this model: the point forecast first."""
        extra = {c for pair in self.intervals.values() for c in pair} | set(self.quantiles.values())
        return [self.name, *sorted(extra)]


def split_suffix(column: str) -> tuple[str, str, float] | None:
    """``(model, "lo" | "hi" | "q", value)`` of an interval or quantile column name, else None.

    >>> split_suffix("PatchTST-lo-95"), split_suffix("PatchTST-q-0.1"), split_suffix("PatchTST")
    (('PatchTST', 'lo', 95.0), ('PatchTST', 'q', 0.1), None)
    """
    match = _SUFFIX.match(column)
    if match is None:
        return None
    try:
        value = float(match["value"])
    except ValueError:
        return None
    high = 1.0 if match["kind"] == "q" else 100.0
    if not (math.isfinite(value) and 0.0 < value < high):
        return None
    return match["model"], match["kind"], value


def forecast_columns(columns: Iterable[str]) -> dict[str, ModelColumns]:
    """``{column: ModelColumns}`` for every column that is not an interval or quantile column
    of another column (reserved columns such as ``y`` included: the caller filters them)."""
    columns = [c for c in columns if isinstance(c, str)]
    present = set(columns)
    suffixed = {c: split_suffix(c) for c in columns}
    owned = {c: s for c, s in suffixed.items() if s is not None and s[0] in present}
    layout = {c: ModelColumns(c) for c in columns if c not in owned}
    ends: dict[tuple[str, float], dict[str, str]] = {}
    for column, (model, kind, value) in owned.items():
        if kind == "q":
            layout[model].quantiles.setdefault(value, column)
        else:
            ends.setdefault((model, value), {})[kind] = column
    for (model, level), pair in sorted(ends.items()):
        low, high = level_tails(level)
        if "lo" in pair:
            layout[model].quantiles.setdefault(low, pair["lo"])
        if "hi" in pair:
            layout[model].quantiles.setdefault(high, pair["hi"])
        if len(pair) == 2:
            layout[model].intervals[level] = (pair["lo"], pair["hi"])
    for model in layout.values():
        _sort_in_place(model.intervals)
        _sort_in_place(model.quantiles)
    return layout


def level_label(level: float) -> str:
    """80 for 80.0, 99.5 for 99.5: as in the column names."""
    return format_level(level)


def _sort_in_place(mapping: dict) -> None:
    items = sorted(mapping.items())
    mapping.clear()
    mapping.update(items)
