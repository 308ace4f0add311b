"""tsattn: patch-based transformer forecasters with pluggable structured attention.

The public API is re-exported here and imported lazily, so ``import tsattn`` (and the CLI)
stays fast and only the parts a user touches load torch, gluonts or statsmodels.

>>> import tsattn
>>> "mlr" in tsattn.list_attention()
True
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "create_attention": "tsattn.attention",
    "list_attention": "tsattn.attention",
    "MultiHeadAttention": "tsattn.attention",
    "load_dataset": "tsattn.datasets",
    "list_datasets": "tsattn.datasets",
    "read_series": "tsattn.datasets",
    "benchmark_split": "tsattn.datasets",
    "PatchTST": "tsattn.models",
    "Transformer": "tsattn.models",
    "VanillaTransformer": "tsattn.models",
    "DLinear": "tsattn.models",
    "NLinear": "tsattn.models",
    "TrainingConfig": "tsattn.models",
    # from tsattn.auto, which registers "auto" first, so an AutoForecaster file always loads
    "list_models": "tsattn.auto",
    "create_model": "tsattn.auto",
    "load": "tsattn.auto",
    "Naive": "tsattn.models",
    "SeasonalNaive": "tsattn.models",
    "ETS": "tsattn.models",
    "ARIMA": "tsattn.models",
    "AutoARIMA": "tsattn.models",
    "Theta": "tsattn.models",
    "SklearnForecaster": "tsattn.models",
    "GluonTSForecaster": "tsattn.models",
    "backtest": "tsattn.evaluation",
    "evaluate": "tsattn.evaluation",
    "plot": "tsattn.evaluation.plots",
    "AutoForecaster": "tsattn.auto",
    "tune": "tsattn.auto",
    "run_benchmark": "tsattn.benchmark",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tsattn' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
