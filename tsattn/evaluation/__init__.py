"""Evaluation of forecasts on users' series: metrics (plain functions), rolling-origin
backtests, metric tables, plots. The literature benchmark lives in :mod:`tsattn.benchmark`.

>>> from tsattn.evaluation import list_metrics
>>> list_metrics()  # doctest: +NORMALIZE_WHITESPACE
['coverage', 'crps', 'mae', 'mape', 'mase', 'mean_wql', 'mse', 'msis',
 'pinball', 'rmse', 'smape', 'sql', 'width']
"""

from tsattn.evaluation.backtest import backtest
from tsattn.evaluation.cutoffs import cutoff_positions
from tsattn.evaluation.metric_tables import evaluate, metrics_by_step, with_step
from tsattn.evaluation.metrics import (
    METRICS,
    get_metric,
    list_metrics,
    mae,
    mape,
    mase,
    mase_scale,
    mse,
    rmse,
    smape,
)
from tsattn.evaluation.quantile_metrics import (
    coverage,
    crps,
    interval_width,
    mean_weighted_quantile_loss,
    msis,
    pinball_loss,
    scaled_quantile_loss,
)

__all__ = [
    "METRICS",
    "backtest",
    "coverage",
    "crps",
    "cutoff_positions",
    "evaluate",
    "get_metric",
    "interval_width",
    "list_metrics",
    "mae",
    "mape",
    "mase",
    "mase_scale",
    "mean_weighted_quantile_loss",
    "metrics_by_step",
    "mse",
    "msis",
    "pinball_loss",
    "rmse",
    "scaled_quantile_loss",
    "smape",
    "with_step",
]
