"""Choosing for the user: :class:`AutoForecaster` (validate candidate forecasters by rolling
origin, then select or weight them) and :func:`tune` (search a network's options, its
attention among them, with Optuna).

Importing this package registers ``"auto"`` in the model registry; :func:`load`,
:func:`create_model` and :func:`list_models` are re-exported from here (``tsattn.load`` is
this one) so that a saved AutoForecaster loads and ``create_model("auto")`` works whatever
was imported before.

>>> "auto" in list_models()
True
"""

from tsattn.auto.forecaster import AutoForecaster
from tsattn.auto.tune import TuneResult, default_search_space, tune
from tsattn.auto.validation import AutoWarning
from tsattn.models import create_model, list_models, load

__all__ = [
    "AutoForecaster",
    "AutoWarning",
    "TuneResult",
    "create_model",
    "default_search_space",
    "list_models",
    "load",
    "tune",
]
