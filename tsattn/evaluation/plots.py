"""matplotlib plots: series and forecasts, backtests against actuals, benchmark metrics.

:func:`plot` (``tsattn.plot``) is the one entry: it draws whatever tsattn returned, a
``predict`` forecast (with its history), a ``backtest`` frame or ``run_benchmark`` results,
with :func:`plot_forecast`, :func:`plot_backtest` or :func:`plot_benchmark`. Each returns the
``Figure`` and, given ``path``, also writes it (PNG, SVG, PDF: by the file extension),
atomically. matplotlib is imported lazily.

Forecast plots zoom on the forecasts: each panel shows the last ``seasons`` seasons of
history before the first forecast (or cutoff), the season taken from the frequency (24 for
hourly data, 12 for monthly...), at least ``seasons`` forecast windows long;
``seasons=None`` draws the whole history. ``covariates=["price"]`` adds a small panel under
each series' panel per named column, on the same time axis.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tsattn.atomic import atomic_file
from tsattn.evaluation.columns import ModelColumns, forecast_columns, level_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BACKTEST_KEYS = ("unique_id", "ds", "cutoff", "y")
#: opacity of the widest and the narrowest interval band
BAND_ALPHA = (0.15, 0.35)


def _pyplot():
    # matplotlib picks the non-interactive Agg backend by itself when there is no display
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Figure, path: str | Path | None) -> Figure:
    """Write ``fig`` to ``path`` atomically (a kill mid-write leaves the old file, never a
    truncated one), in the format of the file extension (matplotlib's default, appended to the
    name, when there is none)."""
    if path is not None:
        target, fmt = _target_and_format(Path(path))
        with atomic_file(target) as handle:
            fig.savefig(handle, format=fmt, dpi=120, bbox_inches="tight")
    return fig


def _target_and_format(path: Path) -> tuple[Path, str]:
    """Where ``savefig(path)`` would write, and in which format."""
    if path.suffix:
        return path, path.suffix[1:].lower()
    import matplotlib

    fmt = matplotlib.rcParams["savefig.format"]
    return path.with_name(f"{path.name}.{fmt}"), fmt


def plot(
    frame: pd.DataFrame,
    history: pd.DataFrame | None = None,
    *,
    unique_ids: list[str] | None = None,
    max_series: int = 4,
    seasons: int | None = 3,
    metric: str = "mse",
    path: str | Path | None = None,
    covariates: list[str] | None = None,
) -> Figure:
    """Plot what tsattn returned: one panel per series (or per dataset for benchmark results).

    Args:
        frame: a ``predict`` forecast (``unique_id, ds, <models>``, intervals as bands), a
            ``backtest`` frame (``unique_id, ds, cutoff, y, <models>``: forecasts against
            the actuals), a long frame of series (``unique_id, ds, y``) or
            ``run_benchmark`` results (``dataset, model, horizon, <metric>``).
        history: the series the forecasts continue (long: ``unique_id, ds, y``), in grey.
        unique_ids: series to draw (default: the first ``max_series``).
        seasons: seasons of history shown before the first forecast (None: all of it).
        metric: the benchmark metric drawn by horizon.
        path: where to write the figure (the format from its extension).
        covariates: columns drawn each in a small panel under its series' panel, sharing
            its time axis: the values in ``history`` (over the history shown) and in
            ``frame`` (e.g. a forecast merged with its ``futr_df``).

    >>> import pandas as pd, tsattn
    >>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024", periods=48, freq="h"),
    ...                    "y": [float(i % 24) for i in range(48)]})
    >>> forecast = tsattn.SeasonalNaive(h=12).fit(df).predict(level=[80])
    >>> fig = tsattn.plot(forecast, history=df)
    >>> [ax.get_title() for ax in fig.axes]
    ['a']
    """
    if {"dataset", "model", "horizon"} <= set(frame.columns):
        return plot_benchmark(frame, metric=metric, path=path)
    if "cutoff" in frame.columns:
        return plot_backtest(frame, unique_ids, history, path, max_series, seasons, covariates)
    return plot_forecast(frame, history, unique_ids, path, max_series, seasons, covariates)


def plot_forecast(
    frame: pd.DataFrame,
    history: pd.DataFrame | None = None,
    unique_ids: list[str] | None = None,
    path: str | Path | None = None,
    max_series: int = 4,
    seasons: int | None = 3,
    covariates: list[str] | None = None,
) -> Figure:
    """A ``predict`` forecast (or plain series, ``unique_id, ds, y``) after its history: see
    :func:`plot`."""
    missing = [c for c in ("unique_id", "ds") if c not in frame.columns]
    if missing:
        raise ValueError(f"plot needs a frame with unique_id and ds; missing columns {missing}")
    return _draw(frame, history, unique_ids, path, max_series, seasons, covariates)


def plot_backtest(
    frame: pd.DataFrame,
    unique_ids: list[str] | None = None,
    history: pd.DataFrame | None = None,
    path: str | Path | None = None,
    max_series: int = 4,
    seasons: int | None = 3,
    covariates: list[str] | None = None,
) -> Figure:
    """Forecasts of every model against the actuals, one panel per series.

    Args:
        frame: a :func:`tsattn.backtest` result (``unique_id, ds, cutoff, y, <models>``);
            a model's ``<model>-lo-<L>`` / ``<model>-hi-<L>`` columns are drawn as shaded
            bands in its colour, lighter for wider levels.
        unique_ids: series to draw (default: the first ``max_series``).
        history: optional long frame (``unique_id, ds, y``) drawn in grey behind.
        path: where to write the figure.
        seasons: seasons of history shown before the first cutoff (None: all of it).
        covariates: columns drawn each in a small panel under its series' (see :func:`plot`).
    """
    missing = [c for c in BACKTEST_KEYS if c not in frame.columns]
    if missing:
        raise ValueError(f"plot_backtest needs a backtest frame; missing columns {missing}")
    return _draw(frame, history, unique_ids, path, max_series, seasons, covariates)


def _draw(frame, history, unique_ids, path, max_series, seasons, covariates=None) -> Figure:
    """One panel per series: history (zoomed), actuals, each model's forecasts and bands;
    under it one small panel per covariate."""
    covariates = _checked_covariates(covariates, frame, history)
    layout = forecast_columns(frame.columns)
    models = [c for c in layout if c not in (*BACKTEST_KEYS, "step", *covariates)]
    ids = unique_ids or list(pd.unique(frame["unique_id"]))[:max_series]
    fig, panels = _panels(len(ids), len(covariates))
    for (ax, below), uid in zip(panels, ids):
        part = frame[frame["unique_id"] == uid].sort_values("ds")
        past = None
        if history is not None:
            past = _recent(history[history["unique_id"] == uid].sort_values("ds"), part, seasons)
            ax.plot(past["ds"], past["y"], color="0.6", lw=1, label="history")
        if "y" in part.columns:
            ax.plot(part["ds"], part["y"], color="black", lw=1.2, label="actual")
        windows = part.groupby("cutoff") if "cutoff" in part.columns else [(None, part)]
        for k, model in enumerate(models):
            for i, (_, window) in enumerate(windows):
                colour = f"C{k % 10}"
                ax.plot(window["ds"], window[model], lw=1, label=model if i == 0 else None,
                        color=colour)  # fmt: skip
                _bands(ax, window, layout[model], colour, label=i == 0)
        for cutoff in pd.unique(part["cutoff"]) if "cutoff" in part.columns else []:
            ax.axvline(cutoff, color="0.85", lw=0.6, zorder=0)
        ax.set_title(str(uid))
        ax.set_ylabel("y")
        # outside the axes, so the legend never hides the forecasts
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        _draw_covariates(below, covariates, past, part)
    fig.axes[-1].set_xlabel("ds")
    fig.tight_layout()
    return _save(fig, path)


def _checked_covariates(covariates, frame: pd.DataFrame, history) -> list[str]:
    """The covariate columns to draw: each must be in ``frame`` or ``history``."""
    if covariates is None:
        return []
    if isinstance(covariates, str):
        covariates = [covariates]
    names = list(covariates)
    columns = set(frame.columns) | (set(history.columns) if history is not None else set())
    missing = [c for c in names if c not in columns]
    if missing:
        raise ValueError(
            f"covariates {missing} are not columns of the frame or the history; pass the "
            f"long frame with those columns as history= (or merge them into the frame)"
        )
    return names


def _panels(n_series: int, n_covariates: int):
    """The figure and, per series, its forecast axes and the covariate axes under it (same
    time axis; a third of the height each)."""
    plt = _pyplot()
    if not n_covariates:
        fig, axes = plt.subplots(n_series, 1, figsize=(10, 2.8 * n_series), squeeze=False)
        return fig, [(ax, []) for ax in axes[:, 0]]
    per_series = 1 + n_covariates
    ratios = [3] + [1] * n_covariates
    fig, axes = plt.subplots(
        n_series * per_series,
        1,
        figsize=(10, (2.8 + 0.9 * n_covariates) * n_series),
        squeeze=False,
        gridspec_kw={"height_ratios": ratios * n_series},
    )
    axes = list(axes[:, 0])
    panels = []
    for i in range(n_series):
        main, *below = axes[i * per_series : (i + 1) * per_series]
        for ax in below:
            ax.sharex(main)
        panels.append((main, below))
    return fig, panels


def _draw_covariates(axes, covariates: list[str], past, part: pd.DataFrame) -> None:
    """Each covariate in its panel: its values over the history shown, then over the
    frame's dates (once per date: a backtest repeats them per window)."""
    for ax, name in zip(axes, covariates):
        pieces = [p[["ds", name]] for p in (past, part) if p is not None and name in p.columns]
        values = pd.concat(pieces).drop_duplicates("ds").sort_values("ds")
        ax.plot(values["ds"], values[name], color="C7", lw=0.9)
        ax.set_ylabel(name, fontsize="small")
        ax.tick_params(labelsize="small")


def _recent(past: pd.DataFrame, part: pd.DataFrame, seasons: int | None) -> pd.DataFrame:
    """The history to draw: everything from ``seasons`` seasons (each at least one forecast
    window long) before the first forecast on (all of it when ``seasons`` is None)."""
    if seasons is None or past.empty:
        return past
    start = part["cutoff"].min() if "cutoff" in part.columns else part["ds"].min()
    before = past[past["ds"] <= start]
    per_window = part.groupby("cutoff").size().max() if "cutoff" in part.columns else len(part)
    steps = seasons * max(_season(past["ds"]), int(per_window))
    if len(before) <= steps:
        return past
    return past[past["ds"] >= before["ds"].iloc[-steps]]


def _season(ds: pd.Series) -> int:
    """The season of the timestamps' frequency (1 when it cannot be told)."""
    from tsattn.datasets.frequency import infer_frequency, season_length

    try:
        return season_length(infer_frequency(ds))
    except ValueError:
        return 1


def _bands(ax, window: pd.DataFrame, model: ModelColumns, colour: str, label: bool) -> None:
    """The model's prediction intervals as shaded bands in its colour, the widest level
    lightest (drawn first, so narrower bands lie on top)."""
    levels = sorted(model.intervals, reverse=True)
    for rank, level in enumerate(levels):
        lo, hi = model.intervals[level]
        ax.fill_between(
            window["ds"],
            window[lo],
            window[hi],
            color=colour,
            alpha=BAND_ALPHA[0] + (BAND_ALPHA[1] - BAND_ALPHA[0]) * rank / max(1, len(levels) - 1),
            lw=0,
            label=f"{model.name} {level_label(level)}%" if label else None,
        )


#: benchmark markers: each model its own shape, so coinciding points stay readable
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
#: how far apart (a fraction of the smallest gap between horizons) two models' markers sit
DODGE = 0.12


def _model_styles(models: list[str]) -> dict[str, dict]:
    """One (colour, marker, line style) per model, the same in every panel: colours cycle
    over 10 and markers over 8 (so two models never share both below 40), line styles change
    every 10 models. Markers are hollow, so one drawn over another shows both."""
    colours = [f"C{i}" for i in range(10)]
    lines = ["-", "--", ":", "-."]
    return {
        model: dict(
            color=colours[i % 10],
            marker=MARKERS[i % len(MARKERS)],
            linestyle=lines[i // 10 % 4],
            markerfacecolor="none",
        )
        for i, model in enumerate(models)
    }


def _dodged(horizons: pd.Index, rank: int, n_models: int) -> list[float]:
    """The horizons, shifted for model ``rank`` of ``n_models`` so that markers of equal
    values sit side by side, centred on the true horizon (the ticks)."""
    values = [float(h) for h in horizons]
    gaps = [b - a for a, b in zip(values, values[1:])]
    step = DODGE * min(gaps) if gaps else 0.0
    return [v + (rank - (n_models - 1) / 2) * step / max(n_models - 1, 1) for v in values]


def _shared_legend(fig: Figure, axes) -> None:
    """One legend for all panels, under them, listing every model once."""
    labels: dict[str, object] = {}
    for ax in axes:
        for line in ax.get_lines():
            labels.setdefault(line.get_label(), line)
    fig.tight_layout()
    fig.legend(
        list(labels.values()),
        list(labels),
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=min(3, len(labels)),
        fontsize="small",
        frameon=False,
    )


def plot_benchmark(
    results: pd.DataFrame, metric: str = "mse", path: str | Path | None = None
) -> Figure:
    """Metric by horizon, one line per model, one panel per dataset. Each model has its own
    hollow marker and sits a little beside the horizon tick, so equal values stay visible.

    Args:
        results: a :func:`tsattn.run_benchmark` result (``dataset, model, horizon, <metric>``;
            several seeds are averaged).
    """
    missing = [c for c in ("dataset", "model", "horizon", metric) if c not in results.columns]
    if missing:
        raise ValueError(f"plot_benchmark needs columns {missing}; got {list(results.columns)}")
    datasets = list(pd.unique(results["dataset"]))
    names = sorted(pd.unique(results["model"]))
    styles = _model_styles(names)
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 3.6), squeeze=False)
    for ax, name in zip(axes[0], datasets):
        part = results[results["dataset"] == name]
        table = part.groupby(["horizon", "model"])[metric].mean().unstack("model")
        for model in table.columns:
            x = _dodged(table.index, names.index(model), len(names))
            ax.plot(x, table[model], label=model, **styles[model])
        ax.set_xticks(list(table.index))
        ax.set_xlabel("horizon")
        ax.set_ylabel(metric.upper())
        ax.set_title(name)
    _shared_legend(fig, axes[0])
    return _save(fig, path)
