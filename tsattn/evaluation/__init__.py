"""Evaluation of forecasts on users' series: metrics (plain functions), rolling-origin
backtests, metric tables, plots. The literature benchmark lives in :mod:`tsattn.benchmark`.

>>> from tsattn.evaluation import list_metrics
>>> list_metrics()
['mae', 'mape', 'mase', 'mse', 'rmse', 'smape']
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

__all__ = [
    "METRICS",
    "backtest",
    "cutoff_positions",
    "evaluate",
    "get_metric",
    "list_metrics",
    "mae",
    "mape",
    "mase",
    "mase_scale",
    "metrics_by_step",
    "mse",
    "rmse",
    "smape",
    "with_step",
]
