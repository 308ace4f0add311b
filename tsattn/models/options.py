"""Options of the neural forecasters: one source of truth, a visible signature.

Every option a neural forecaster takes is a field of its network config dataclass (minus the
sizes that come from the data) or of :class:`~tsattn.training.TrainingConfig`. This module
reads those fields once and derives from them what a user sees: the accepted keywords (and the
error that lists them), the constructor signature that ``help()`` and IDEs show, and the
options part of the class docstring. Nothing here keeps its own list of option names.

>>> from tsattn.models import DLinear
>>> list(inspect.signature(DLinear).parameters)[:2]
['h', 'input_size']
>>> "kernel_size" in inspect.signature(DLinear).parameters
True
"""

from __future__ import annotations

import dataclasses
import inspect
import textwrap
from typing import Any

from tsattn.checks import did_you_mean
from tsattn.models.covariates import COVARIATE_ARGUMENTS
from tsattn.training.config import TrainingConfig

#: network config fields filled from the forecaster and the data, never passed by users
DERIVED_FIELDS = ("input_size", "horizon", "n_channels")
#: the Forecaster arguments every neural model takes before its options
FORECASTER_ARGUMENTS = (
    "h",
    "input_size",
    "alias",
    "id_col",
    "time_col",
    "target_col",
    "freq",
    "fill",
    "intervals",
    "conformal_windows",
    "season_length",
    *COVARIATE_ARGUMENTS,
)


def option_fields(config_class: type) -> tuple[dict[str, Any], dict[str, Any]]:
    """(network options, training options) of a network config class, with their defaults."""
    network = {
        f.name: _default(f)
        for f in dataclasses.fields(config_class)
        if f.name not in DERIVED_FIELDS
    }
    training = {f.name: _default(f) for f in dataclasses.fields(TrainingConfig)}
    return network, training


def resolve_fields(
    config_class: type,
    options: dict[str, Any],
    config: Any = None,
    training: TrainingConfig | None = None,
    defaults: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every option's value: ``defaults`` (the dataclasses' when None), then the fields of
    ``config=`` / ``training=`` objects, then the keyword ``options`` (which win).

    Raises:
        ValueError: an option neither config accepts (the message lists the accepted ones),
            or a ``config`` / ``training`` object of the wrong type.
    """
    network, train = option_fields(config_class)
    unknown = sorted(set(options) - set(network) - set(train))
    if unknown:
        accepted = [*FORECASTER_ARGUMENTS, "recipe", "config", "training"]
        accepted += sorted(network) + sorted(train)
        raise ValueError(
            f"unknown argument(s) {unknown} for {config_class.__name__.removesuffix('Config')}"
            f"{did_you_mean(unknown, accepted)}; accepted: {', '.join(accepted)}"
        )
    resolved = {**network, **train, **(defaults or {})}
    resolved.update(_fields_of("config", config, config_class, network))
    resolved.update(_fields_of("training", training, TrainingConfig, train))
    resolved.update(options)
    return resolved


def neural_signature(cls: type, defaults: dict[str, Any]) -> inspect.Signature:
    """The constructor signature of a neural forecaster class: the Forecaster arguments, then
    every network and training option (keyword-only, with its ``defaults``), then ``config``
    and ``training``."""
    base = inspect.signature(cls.__init__).parameters
    positional = [
        base[name].replace(kind=inspect.Parameter.KEYWORD_ONLY)
        if name in COVARIATE_ARGUMENTS
        else base[name]
        for name in FORECASTER_ARGUMENTS
        if name in base
    ]
    keyword = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
        for name, default in defaults.items()
    ]
    extra = [
        base[name].replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for name in ("recipe", "config", "training")
    ]
    return inspect.Signature([*positional, *keyword, *extra])


def options_doc(cls: type, defaults: dict[str, Any]) -> str:
    """The options part of a neural forecaster's docstring, generated from the config fields
    (with their ``defaults``)."""
    network, training = (
        {name: defaults[name] for name in names} for names in option_fields(cls.config_class)
    )
    return (
        f"\n\n    Network options ({cls.config_class.__name__}, see its docstring):\n"
        f"{_listing(network)}\n\n"
        f"    Training options (TrainingConfig, see its docstring):\n{_listing(training)}\n\n"
        f"    ``config=`` a {cls.config_class.__name__} and ``training=`` a TrainingConfig set "
        f"the same options\n    at once (the config's sizes are ignored: ``h``, ``input_size`` "
        f"and the data set them);\n    keywords win over them. ``recipe=`` names the defaults: "
        f"'user' (above) or\n    'literature:<dataset>[:quick]' (see tsattn.models.recipes).\n"
    )


def saveable_options(config_class: type, params: dict[str, Any], strict: bool) -> dict[str, Any]:
    """``params`` as a model file can hold them: a config class that has options needing
    conversion (an attention class becomes its registered name) provides
    ``saveable_options(params, strict)``; with ``strict``, what cannot be saved is an error."""
    convert = getattr(config_class, "saveable_options", None)
    return convert(params, strict) if convert is not None else params


def _listing(options: dict[str, Any]) -> str:
    """``name=default`` items, comma-separated, wrapped and indented for a docstring."""
    text = textwrap.fill(
        ", ".join(f"{name}={default!r}" for name, default in options.items()),
        width=92,
        initial_indent=" " * 8,
        subsequent_indent=" " * 8,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return text


def _fields_of(argument: str, obj: Any, expected: type, names: dict[str, Any]) -> dict[str, Any]:
    """The option fields of a ``config=`` / ``training=`` object (none for None)."""
    if obj is None:
        return {}
    if not isinstance(obj, expected):
        raise ValueError(
            f"{argument} must be a {expected.__name__} (or None), got {type(obj).__name__}"
        )
    return {name: getattr(obj, name) for name in names}


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return inspect.Parameter.empty
