"""Parse model specs as the CLI and the benchmark runner accept them.

A spec is ``name`` or ``name:attention`` or ``name:key=value[:key=value...]``, values read
as JSON where possible (``3``, ``0.1``, ``true``, ``[2,1,1]``), else as strings:

>>> parse_model_spec("patchtst:mlr")
ModelSpec(alias='patchtst:mlr', name='patchtst', params={'attention': 'mlr'})
>>> parse_model_spec("seasonal_naive:season_length=24").params
{'season_length': 24}
>>> parse_model_spec("patchtst:mlr:attention_options={\\"ranks\\":[2,1,1]}").params
{'attention': 'mlr', 'attention_options': {'ranks': [2, 1, 1]}}
>>> [s.name for s in parse_model_list("patchtst:mlr:ranks=[2,1,1],dlinear")]
['patchtst', 'dlinear']
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from typing import Any

from tsattn.attention import scorer_option_names
from tsattn.checks import did_you_mean
from tsattn.models.base import Forecaster
from tsattn.models.catalog import MODELS


@dataclass(frozen=True)
class ModelSpec:
    """A model by registry name, with constructor params and the alias results carry."""

    alias: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)


def parse_model_spec(spec: str) -> ModelSpec:
    """Parse one spec string (see the module docstring)."""
    parts = [p for p in _split_top_level(spec.strip(), ":") if p]
    if not parts:
        raise ValueError("empty model spec; expected e.g. 'patchtst:mlr' or 'dlinear'")
    params: dict[str, Any] = {}
    for part in parts[1:]:
        if "=" in part:
            key, _, raw = part.partition("=")
            params[_key(key.strip(), spec)] = _value(raw.strip())
        elif "attention" not in params:
            params["attention"] = part
        else:
            raise ValueError(f"cannot read {part!r} in model spec {spec!r}; write key=value")
    return ModelSpec(alias=spec.strip(), name=parts[0].lower(), params=params)


def parse_model_list(text: str) -> list[ModelSpec]:
    """Parse comma-separated specs; commas inside brackets or braces belong to values."""
    parsed = [parse_model_spec(s) for s in _split_top_level(text, ",") if s.strip()]
    if not parsed:
        raise ValueError("no model specs given; expected e.g. 'patchtst:mlr,dlinear'")
    aliases = [s.alias for s in parsed]
    if len(set(aliases)) != len(aliases):
        raise ValueError(f"model specs must be unique, got {aliases}")
    return parsed


def _split_top_level(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside brackets and braces."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "[{"
        depth -= char in "]}"
        if char == separator and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _key(key: str, spec: str) -> str:
    """A parameter name, which must be a Python identifier."""
    if not key.isidentifier():
        raise ValueError(
            f"{key!r} in model spec {spec!r} is not a parameter name; write key=value, "
            "e.g. 'arima:order=[1,1,1]'"
        )
    return key


def _value(raw: str) -> Any:
    """``raw`` read as JSON (numbers, booleans, lists, objects), else the string itself.

    ``NaN`` and ``Infinity`` stay strings (no spec needs a non-finite number), and so does
    nesting too deep to read.
    """
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        return raw


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")


def build_model(spec: ModelSpec | str, **defaults: Any):
    """Create the forecaster a spec names.

    ``defaults`` (e.g. ``h``, ``input_size``) apply where the model accepts them; the spec's
    own params win. Attention options written flat in the spec (``ranks``, ``window`` ...)
    go into ``attention_options``. The alias is the spec string.
    """
    spec = parse_model_spec(spec) if isinstance(spec, str) else spec
    cls = MODELS.get(spec.name)
    accepted = set(cls.param_names())
    params = {k: v for k, v in defaults.items() if k in accepted}
    params.update(_checked_params(cls, spec.name, spec.params))
    params.setdefault("alias", spec.alias)
    missing = [name for name in _required_params(cls) if name not in params]
    if missing:
        example = ":".join([spec.alias, *(f"{name}=..." for name in missing)])
        raise ValueError(
            f"model {spec.name!r} needs {missing}; give them in the spec ({example!r}) or as "
            f"options (the CLI: --{missing[0].replace('_', '-')})"
        )
    return _construct(cls, spec, params)


def create_model(name: str, **params: Any) -> Forecaster:
    """Build a registered forecaster from its name or a spec string.

    ``create_model("patchtst", h=96, input_size=336)`` and
    ``create_model("patchtst:mlr:ranks=[2,1,1]", h=96, input_size=336)`` are read by the same
    parser as the CLI's ``--models``; keyword ``params`` win over the spec's. Unlike the CLI,
    the forecast column keeps the model's own name unless ``alias=`` is given.

    >>> create_model("patchtst:mlr:ranks=[2,1,1]", h=24, input_size=96).attention_options
    {'ranks': [2, 1, 1]}
    """
    spec = parse_model_spec(name)
    cls = MODELS.get(spec.name)
    merged = {**_checked_params(cls, spec.name, spec.params), **params}
    return _construct(cls, spec, _checked_params(cls, spec.name, merged))


def _checked_params(cls: type, name: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with flat scorer options (``ranks``, ``window``...) folded into
    ``attention_options``; a name the model does not take is a ``ValueError``."""
    accepted = set(cls.param_names())
    own = dict(params)
    scorer_options = set(scorer_option_names())
    flat = {k: own.pop(k) for k in list(own) if k in scorer_options and k not in accepted}
    if flat:
        own["attention_options"] = {**(own.get("attention_options") or {}), **flat}
    unknown = sorted(set(own) - accepted)
    if unknown:
        takes_attention = "attention_options" in accepted
        scorer = sorted(scorer_options - accepted) if takes_attention else []
        listed = f"; attention options: {', '.join(scorer)}" if scorer else ""
        chosen = _attention_options(own.get("attention"), scorer_options)
        raise ValueError(
            f"model {name!r} has no parameter(s) {unknown}"
            f"{did_you_mean(unknown, [*accepted, *(chosen or scorer)])}; accepted: "
            f"{', '.join(sorted(accepted))}{listed}"
        )
    return own


def _attention_options(attention: Any, scorer_options: set[str]) -> list[str]:
    """The options the attention named ``attention`` takes (none for another value)."""
    from tsattn.attention import ATTENTION

    if not isinstance(attention, str) or attention not in ATTENTION:
        return []
    parameters = inspect.signature(ATTENTION.get(attention)).parameters
    return sorted(set(parameters) & scorer_options)


def _construct(cls: type, spec: ModelSpec, params: dict[str, Any]):
    """``cls(**params)``, a bad value being a ``ValueError`` that names the spec."""
    try:
        return cls(**params)
    except (ValueError, TypeError) as err:
        raise ValueError(f"model spec {spec.alias!r}: {err}") from err


def _required_params(cls: type) -> list[str]:
    """Constructor arguments without a default (e.g. ``input_size`` of neural models)."""
    return [
        name
        for name, p in inspect.signature(cls).parameters.items()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
