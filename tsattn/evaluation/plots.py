"""matplotlib plots: backtest forecasts against actuals, benchmark metrics by horizon.

Both functions return the ``Figure`` and, given ``path``, also write it (PNG, SVG, PDF: by
the file extension), atomically. matplotlib is imported lazily.
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


def plot_backtest(
    frame: pd.DataFrame,
    unique_ids: list[str] | None = None,
    history: pd.DataFrame | None = None,
    path: str | Path | None = None,
    max_series: int = 4,
) -> Figure:
    """Forecasts of every model against the actuals, one panel per series.

    Args:
        frame: a :func:`tsattn.backtest` result (``unique_id, ds, cutoff, y, <models>``);
            a model's ``<model>-lo-<L>`` / ``<model>-hi-<L>`` columns are drawn as shaded
            bands in its colour, lighter for wider levels.
        unique_ids: series to draw (default: the first ``max_series``).
        history: optional long frame (``unique_id, ds, y``) drawn in grey behind.
        path: where to write the figure.
    """
    missing = [c for c in BACKTEST_KEYS if c not in frame.columns]
    if missing:
        raise ValueError(f"plot_backtest needs a backtest frame; missing columns {missing}")
    layout = forecast_columns(frame.columns)
    models = [c for c in layout if c not in BACKTEST_KEYS and c != "step"]
    ids = unique_ids or list(pd.unique(frame["unique_id"]))[:max_series]
    plt = _pyplot()
    fig, axes = plt.subplots(len(ids), 1, figsize=(10, 2.8 * len(ids)), squeeze=False)
    for ax, uid in zip(axes[:, 0], ids):
        part = frame[frame["unique_id"] == uid].sort_values("ds")
        if history is not None:
            past = history[history["unique_id"] == uid]
            ax.plot(past["ds"], past["y"], color="0.75", lw=1, label="history")
        ax.plot(part["ds"], part["y"], color="black", lw=1.2, label="actual")
        for k, model in enumerate(models):
            for i, (_, window) in enumerate(part.groupby("cutoff")):
                colour = f"C{k % 10}"
                ax.plot(window["ds"], window[model], lw=1, label=model if i == 0 else None,
                        color=colour)  # fmt: skip
                _bands(ax, window, layout[model], colour, label=i == 0)
        for cutoff in pd.unique(part["cutoff"]):
            ax.axvline(cutoff, color="0.85", lw=0.6, zorder=0)
        ax.set_title(str(uid))
        ax.set_ylabel("y")
        # outside the axes, so the legend never hides the forecasts
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    axes[-1, 0].set_xlabel("ds")
    fig.tight_layout()
    return _save(fig, path)


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


def _model_styles(models: list[str]) -> dict[str, dict]:
    """One (colour, marker, line style) per model, the same in every panel, distinct for up to
    10 x 4 models (colours cycle fastest)."""
    colours = [f"C{i}" for i in range(10)]
    markers, lines = ["o", "s", "^", "D"], ["-", "--", ":", "-."]
    return {
        model: dict(
            color=colours[i % 10], marker=markers[i // 10 % 4], linestyle=lines[i // 10 % 4]
        )
        for i, model in enumerate(models)
    }


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
    """Metric by horizon, one line per model, one panel per dataset.

    Args:
        results: a :func:`tsattn.run_benchmark` result (``dataset, model, horizon, <metric>``;
            several seeds are averaged).
    """
    missing = [c for c in ("dataset", "model", "horizon", metric) if c not in results.columns]
    if missing:
        raise ValueError(f"plot_benchmark needs columns {missing}; got {list(results.columns)}")
    datasets = list(pd.unique(results["dataset"]))
    styles = _model_styles(sorted(pd.unique(results["model"])))
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 3.6), squeeze=False)
    for ax, name in zip(axes[0], datasets):
        part = results[results["dataset"] == name]
        table = part.groupby(["horizon", "model"])[metric].mean().unstack("model")
        for model in table.columns:
            ax.plot(table.index, table[model], label=model, **styles[model])
        ax.set_xticks(list(table.index))
        ax.set_xlabel("horizon")
        ax.set_ylabel(metric.upper())
        ax.set_title(name)
    _shared_legend(fig, axes[0])
    return _save(fig, path)
