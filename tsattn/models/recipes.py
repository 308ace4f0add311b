"""Recipes: the two regimes of defaults, named, and the one function that resolves them.

Every option of a neural forecaster gets its value from, in order of precedence (the last
wins):

1. the network config dataclass and :class:`~tsattn.training.TrainingConfig` (the engine's
   own defaults: the reference PatchTST on ETTh1);
2. the **recipe**, a named set of defaults:

   * ``"user"`` (the constructors' default): a recipe for users' own series
     (:data:`USER_TRAINING`, the class's ``user_network_defaults`` and the data rules of
     :mod:`tsattn.models.user_defaults`);
   * ``"literature:<dataset>"``: the published PatchTST protocol for a benchmark dataset
     (:data:`REFERENCE_HYPERPARAMETERS`; PatchTST also takes the dataset's reference
     architecture), the engine's defaults wherever the user recipe differs;
   * ``"literature:<dataset>:quick"``: the same with a smoke-run budget (:data:`QUICK`);

3. the fields of ``config=`` / ``training=`` objects;
4. keyword arguments;
5. the **data**, for the values left to it (``input_size=None``, ``max_steps="auto"``, the
   validation holdout, patches that fit a short look-back) and the caps of a quick recipe.

:func:`resolve_options` does all five; ``fit``, ``fit_arrays``, the benchmark runner and the
CLI all go through it, so no caller branches on a model's name.

>>> from tsattn.models import PatchTST
>>> resolve_options(PatchTST, h=24, recipe="literature:ETTh1:quick").options["lr"]
0.001
>>> facts = DataFacts(lengths=(2000,), season=24, seasonal=True)
>>> resolved = resolve_options(PatchTST, h=24, data=facts)
>>> resolved.lookback, resolved.holdout, resolved.options["center_season"]
(72, 24, 24)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from tsattn.datasets.windows import series_starts
from tsattn.models.options import option_fields, resolve_fields
from tsattn.models.user_defaults import (
    AUTO,
    MIN_INPUT,
    default_input_size,
    epoch_windows,
    fit_patches,
    step_budget,
)
from tsattn.training.config import TrainingConfig

#: training options whose user default differs from :class:`TrainingConfig`'s
USER_TRAINING = {
    "lr": 1e-3,
    "lr_schedule": "constant",
    "batch_size": 32,
    "max_epochs": 1000,
    "max_steps": AUTO,
    "patience": 10,
    "loss": AUTO,
    "target_transform": AUTO,
    "windows_per_epoch": AUTO,
}
#: network options whose user default differs, for every network config that has them
USER_NETWORK = {"center_season": AUTO, "center_drift": AUTO}
#: what an option the data decides reads as before any data (the engine's defaults)
BEFORE_DATA = {
    "loss": "mse",
    "max_steps": None,
    "target_transform": "none",
    "windows_per_epoch": None,
    "center_season": 1,
    "center_drift": 0,
}


@dataclass(frozen=True)
class ReferenceHyperparameters:
    """The PatchTST repo's supervised settings for one dataset family (lookback 336)."""

    d_model: int
    n_heads: int
    d_ff: int
    dropout: float
    batch_size: int
    lr_schedule: str
    patience: int
    pct_start: float = 0.3
    lr: float = 1e-4
    n_layers: int = 3
    patch_len: int = 16
    stride: int = 8
    max_epochs: int = 100


# lradj="type3" runs as "type3_reference" (tsattn.training.schedules): the reference builds an
# unstepped OneCycleLR whose constructor leaves epoch 0 at lr / 25 and Adam's beta1 at 0.95
# for the whole run -- the reference's quirk, reproduced here and only here (issue 15).
_ETTH = ReferenceHyperparameters(16, 4, 128, 0.3, 128, "type3_reference", 100)
_ETTM = ReferenceHyperparameters(128, 16, 256, 0.2, 128, "onecycle", 20, pct_start=0.4)
_WEATHER = ReferenceHyperparameters(128, 16, 256, 0.2, 128, "type3_reference", 20)
_ELECTRICITY = ReferenceHyperparameters(128, 16, 256, 0.2, 32, "onecycle", 10, pct_start=0.2)

REFERENCE_HYPERPARAMETERS = {
    "etth1": _ETTH,
    "etth2": _ETTH,
    "ettm1": _ETTM,
    "ettm2": _ETTM,
    "weather": _WEATHER,
    "electricity": _ELECTRICITY,
    "traffic": _ELECTRICITY,
}
#: the reference training protocol, applied to every neural model of the literature recipe
REFERENCE_TRAINING_KEYS = ("batch_size", "lr", "lr_schedule", "pct_start", "patience")
#: the reference architecture, applied to models whose class sets ``literature_architecture``
REFERENCE_ARCHITECTURE_KEYS = (
    "d_model",
    "n_heads",
    "d_ff",
    "dropout",
    "n_layers",
    "patch_len",
    "stride",
)
#: the quick recipe: a few minutes on a laptop CPU instead of the reference 100 epochs at
#: lr 1e-4: at most 3 epochs of at most 4096 sampled train windows at a constant lr 1e-3 (a
#: smoke run; not the reference protocol's training budget). The window cap binds keywords too.
QUICK = {"max_epochs": 3, "windows_per_epoch": 4096, "lr": 1e-3, "lr_schedule": "constant"}


def reference_hyperparameters(dataset: str) -> ReferenceHyperparameters:
    """PatchTST's settings for ``dataset`` (ETTh's small model for datasets it never ran)."""
    return REFERENCE_HYPERPARAMETERS.get(dataset.lower(), _ETTH)


@dataclass(frozen=True)
class Recipe:
    """A parsed recipe name: ``user``, ``literature:<dataset>`` or
    ``literature:<dataset>:quick``."""

    regime: str
    dataset: str | None = None
    quick: bool = False

    @property
    def name(self) -> str:
        parts = [self.regime, *([self.dataset] if self.dataset else []), *(["quick"] * self.quick)]
        return ":".join(parts)


USER = Recipe("user")
#: training windows per look-back step that a look-back over the longest cycle asks for (M4
#: Hourly's 414 series have them for 336 steps; one series of 2,000 15-minute steps does not)
WINDOWS_PER_INPUT_STEP = 20


def parse_recipe(recipe: str | Recipe) -> Recipe:
    """``"user"``, ``"literature:ETTh1"`` or ``"literature:ETTh1:quick"`` as a :class:`Recipe`.

    Raises:
        ValueError: any other text, naming the accepted forms.
    """
    if isinstance(recipe, Recipe):
        return recipe
    parts = recipe.split(":") if isinstance(recipe, str) else []
    if parts == ["user"]:
        return USER
    if len(parts) in (2, 3) and parts[0] == "literature" and parts[1]:
        if len(parts) == 2 or parts[2] == "quick":
            return Recipe("literature", parts[1], quick=len(parts) == 3)
    raise ValueError(
        f"unknown recipe {recipe!r}: use 'user' (defaults for your own series), "
        f"'literature:<dataset>' (e.g. 'literature:ETTh1') or 'literature:<dataset>:quick'"
    )


def recipe_defaults(cls: type, recipe: str | Recipe = USER) -> dict[str, Any]:
    """Every option's default under ``recipe`` for the neural forecaster class ``cls``."""
    recipe = parse_recipe(recipe)
    network, training = option_fields(cls.config_class)
    engine = {**network, **training}
    user_network = {k: v for k, v in USER_NETWORK.items() if k in network}
    user_network.update(getattr(cls, "user_network_defaults", {}))
    if recipe.regime == "user":
        return {**engine, **user_network, **USER_TRAINING}
    # the literature regime: the engine's own defaults (which the user recipe overrides),
    # then the dataset's reference protocol on top
    ref = reference_hyperparameters(recipe.dataset or "")
    keys = REFERENCE_TRAINING_KEYS + ("max_epochs",)
    if getattr(cls, "literature_architecture", False):
        keys += REFERENCE_ARCHITECTURE_KEYS
    defaults = {**engine, **{key: getattr(ref, key) for key in keys}}
    if recipe.quick:
        defaults.update(QUICK, max_epochs=min(defaults["max_epochs"], QUICK["max_epochs"]))
    return defaults


@dataclass(frozen=True)
class DataFacts:
    """What the data decides.

    Attributes:
        lengths: steps of each training unit: a series, or one (T, C) array whose windows
            carry every channel.
        season: the season length of the data (1 when none).
        cycle: the longest cycle a look-back should cover (None: ``season``).
        val_size: the caller's validation holdout (None: the recipe's rule; 0 for none).
        lookback: a look-back already chosen (a loaded model; None: decide it).
        positive: every value of every series is positive (a log transform may apply).
        seasonal: the seasonal naive forecast clearly beats the last value on the data's
            history (windows are then centred on the last season; see
            :func:`~tsattn.models.user_defaults.seasonal_naive_wins`).
        n_series: how many series (a panel of several gets the log transform and the MAE).
        drift: k > 0 when the naive forecast with the drift of the last k steps clearly
            beats the last value on the data's history (windows are then centred on it; see
            :func:`~tsattn.models.user_defaults.drift_wins`), else 0.
    """

    lengths: tuple[int, ...]
    season: int = 1
    cycle: int | None = None
    val_size: int | None = None
    lookback: int | None = None
    positive: bool = False
    seasonal: bool = False
    n_series: int = 1
    drift: int = 0


@dataclass(frozen=True)
class Resolved:
    """Every option's value, and what the data decided (None before any data)."""

    options: dict[str, Any]
    lookback: int | None = None
    holdout: int | None = None

    def training_config(self) -> TrainingConfig:
        """The training options as a :class:`TrainingConfig` (options still left to the data
        read as :data:`BEFORE_DATA`, e.g. ``max_steps="auto"`` as no limit)."""
        names = {f.name for f in dataclasses.fields(TrainingConfig)}
        values = {k: v for k, v in self.options.items() if k in names}
        return TrainingConfig(**_before_data(values))

    def network_options(self, config_class: type) -> dict[str, Any]:
        """The network config's options (those the data decides, as before any data)."""
        network, _ = option_fields(config_class)
        return _before_data({k: v for k, v in self.options.items() if k in network})


def _before_data(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with options still left to the data (``"auto"``) as :data:`BEFORE_DATA`."""
    return {
        k: BEFORE_DATA[k] if k in BEFORE_DATA and isinstance(v, str) and v == AUTO else v
        for k, v in values.items()
    }


def resolve_options(
    cls: type,
    h: int,
    input_size: int | None = None,
    recipe: str | Recipe = USER,
    keywords: dict[str, Any] | None = None,
    config: Any = None,
    training: TrainingConfig | None = None,
    data: DataFacts | None = None,
) -> Resolved:
    """The one resolver: ``recipe`` < ``config`` / ``training`` < ``keywords`` < ``data``
    (see the module docstring) for the neural forecaster class ``cls``.

    Raises:
        ValueError: an unknown recipe or option name (listing the accepted ones), or a
            ``config`` / ``training`` object of the wrong type.
    """
    recipe = parse_recipe(recipe)
    defaults = recipe_defaults(cls, recipe)
    options = resolve_fields(cls.config_class, keywords or {}, config, training, defaults)
    if recipe.quick:
        cap, own = QUICK["windows_per_epoch"], options["windows_per_epoch"]
        options["windows_per_epoch"] = cap if own in (None, AUTO) else min(own, cap)
    if data is None:
        return Resolved(options)
    Resolved(options).training_config()  # a bad value is refused before the data is read
    return _decide_from_data(options, h, input_size, data)


def _decide_from_data(
    options: dict[str, Any], h: int, input_size: int | None, data: DataFacts
) -> Resolved:
    """The data's part: the holdout, the look-back, patches that fit it, the centring season,
    the target transform and the step budget."""
    shortest = min(data.lengths, default=0)
    holdout = data.val_size
    if holdout is None:  # the last h steps when every unit keeps 8 training windows beside
        holdout = h if shortest >= (input_size or MIN_INPUT) + 2 * h + 8 else 0
    lookback = input_size or data.lookback
    if lookback is None:
        lookback = _default_lookback(h, data, shortest, holdout)
    if input_size is None:  # a look-back chosen from the data: patches that fit it
        options = fit_patches(options, lookback)
    n_windows = _count_windows(data.lengths, lookback, h, holdout)
    decided = {
        "center_season": max(1, min(data.season, lookback)) if data.seasonal else 1,
        "center_drift": min(data.drift, lookback - 1),
        "target_transform": "log" if data.positive and data.n_series > 1 else "none",
        "loss": "mae" if data.n_series > 1 else "mse",
        "max_steps": step_budget(n_windows, options["batch_size"]),
        "windows_per_epoch": epoch_windows(n_windows, options["batch_size"]),
    }
    for name, value in decided.items():
        if isinstance(options.get(name), str) and options[name] == AUTO:
            options = {**options, name: value}
    return Resolved(options, lookback, holdout)


def _default_lookback(h: int, data: DataFacts, shortest: int, holdout: int) -> int:
    """:func:`default_input_size` over the longest cycle when the data has the windows to learn
    so long a look-back (:data:`WINDOWS_PER_INPUT_STEP` per step of it), else over the season;
    over neither when the season does not pay on the history (``data.seasonal`` false): then
    ``max(3 h, 16)``, since a look-back of two seasons that do not repeat hurts (weekly flu
    counts of the real-series suite: PatchTST's MASE 1.84 with 104 weeks, 0.41 with 24)."""
    season = data.season if data.seasonal else 1
    lookback = default_input_size(h, season, shortest, holdout)
    cycle = (data.cycle or data.season) if data.seasonal else 1
    if cycle > season:
        longer = default_input_size(h, cycle, shortest, holdout)
        if _count_windows(data.lengths, longer, h, holdout) >= WINDOWS_PER_INPUT_STEP * longer:
            return longer
    return lookback


def _count_windows(lengths: tuple[int, ...], lookback: int, h: int, holdout: int) -> int:
    """Training windows in units of ``lengths`` (those too short for one give none)."""
    usable = [n for n in lengths if n - holdout >= lookback + h]
    return len(series_starts(usable, lookback, h, holdout)[0]) if usable else 0


__all__ = [
    "QUICK",
    "REFERENCE_HYPERPARAMETERS",
    "USER",
    "USER_NETWORK",
    "USER_TRAINING",
    "DataFacts",
    "Recipe",
    "ReferenceHyperparameters",
    "Resolved",
    "parse_recipe",
    "recipe_defaults",
    "reference_hyperparameters",
    "resolve_options",
]
