"""Shared argument and saved-state checks of the forecasters.

Every check raises a ``ValueError`` that names the argument (or the saved field), shows what
was given (a short repr) and says what is accepted, so a bad constructor argument fails at
construction and a forged model file fails at load, never later with another exception type.

>>> check_positive_int("season_length", 0)
Traceback (most recent call last):
...
ValueError: season_length must be a positive integer, got 0
>>> check_int_tuple("order", (1, 0, 2), 3)
(1, 0, 2)
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

if typing.TYPE_CHECKING:  # torch loads only where a saved tensor is checked
    import torch

#: longest repr of a bad value shown in an error message
REPR_LIMIT = 60
#: other libraries' names for tsattn arguments, suggested when one is passed
SYNONYMS = {
    "seasonal_periods": "season_length",
    "season": "season_length",
    "period": "season_length",
    "m": "season_length",
    "sp": "season_length",
    "horizon": "h",
    "prediction_length": "h",
    "learning_rate": "lr",
    "epochs": "max_epochs",
    "random_state": "seed",
}


def short_repr(value: object, limit: int = REPR_LIMIT) -> str:
    """``repr(value)``, cut to ``limit`` characters (a forged value may be huge)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def is_int(value: object) -> bool:
    """An integer (Python or numpy), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


# ---------------------------------------------------------------------- scalar arguments
def check_positive_int(name: str, value: object) -> int:
    """``value`` as an int, or a ``ValueError`` naming ``name`` unless it is a positive int
    (a bool or a float such as 2.0 is refused; a numpy integer is accepted)."""
    if not is_int(value) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {short_repr(value)}")
    return int(value)


def check_nonnegative_int(name: str, value: object) -> int:
    """``value`` as an int, or a ``ValueError`` unless it is an integer >= 0."""
    if not is_int(value) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {short_repr(value)}")
    return int(value)


#: the most parallel workers an ``n_jobs`` may ask for (-1: all cores, -2: all but one...)
MAX_JOBS = 1024


def check_n_jobs(value: object, name: str = "n_jobs") -> int:
    """joblib's ``n_jobs``: a non-zero integer of magnitude at most :data:`MAX_JOBS`
    (1: no workers, -1: all cores); larger ones would overflow joblib's C int."""
    if not is_int(value) or value == 0 or abs(value) > MAX_JOBS:
        raise ValueError(
            f"{name} must be a non-zero integer from -{MAX_JOBS} to {MAX_JOBS} (1: no workers, "
            f"-1: all cores), got {short_repr(value)}"
        )
    return int(value)


#: the longest season any model accepts (a guard against season_length=2**63)
MAX_SEASON = 1_000_000


def check_season_length(value: object, name: str = "season_length") -> int | None:
    """None (the season of the data's frequency, resolved at fit) or a positive integer of at
    most :data:`MAX_SEASON` steps."""
    if value is None:
        return None
    season = check_positive_int(name, value)
    if season > MAX_SEASON:
        raise ValueError(f"{name} must be at most {MAX_SEASON:,} steps, got {short_repr(value)}")
    return season


def check_real(
    name: str, value: object, rule: str = "", ok: Callable[[float], bool] = lambda v: True
) -> float:
    """``value`` as a float, or a ``ValueError`` naming ``name`` unless it is a finite real
    number (not a bool or a string) for which ``ok`` holds; ``rule`` words that condition."""
    number = math.nan
    if isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float
            number = math.inf
    if not (math.isfinite(number) and ok(number)):
        rule = f" {rule}" if rule else ""
        raise ValueError(f"{name} must be a finite number{rule}, got {short_repr(value)}")
    return number


def check_probability(name: str, value: object) -> float:
    """A dropout-like rate in [0, 1)."""
    return check_real(name, value, "in [0, 1)", lambda v: 0.0 <= v < 1.0)


def check_bool(name: str, value: object) -> bool:
    """``value`` as a bool, or a ``ValueError`` unless it is True or False."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, got {short_repr(value)}")
    return bool(value)


def check_choice(name: str, value: object, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices`` (compared by type and value, so 1 is not True)."""
    if not any(type(value) is type(c) and value == c for c in choices):
        shown = ", ".join(str(c) for c in choices)
        raise ValueError(f"{name} must be one of {shown}; got {short_repr(value)} (unknown {name})")
    return value


def check_int_tuple(name: str, value: object, length: int) -> tuple[int, ...]:
    """A tuple or list of ``length`` integers >= 0, as a tuple of ints."""
    ok = isinstance(value, tuple | list) and len(value) == length
    if not ok or not all(is_int(v) and v >= 0 for v in value):
        raise ValueError(
            f"{name} must be a tuple of {length} integers >= 0, got {short_repr(value)}"
        )
    return tuple(int(v) for v in value)


def check_str_mapping(name: str, value: object, allow_none: bool = True) -> Any:
    """A dict with string keys (or None when ``allow_none``)."""
    if value is None and allow_none:
        return value
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        none = " or None" if allow_none else ""
        raise ValueError(f"{name} must be a dict with string keys{none}, got {short_repr(value)}")
    return value


def check_keywords(cls: type, kwargs: Mapping[str, Any]) -> None:
    """Refuse keywords that ``cls`` does not accept, listing those it does (and the
    nearest, for a likely typo). ``cls.param_names()`` gives the accepted names."""
    unknown = sorted(set(kwargs) - set(cls.param_names()))
    if not unknown:
        return
    accepted = cls.param_names()
    hint = did_you_mean(unknown, accepted)
    shown = [short_repr(u, 30) for u in unknown]
    raise ValueError(
        f"unknown argument(s) [{', '.join(shown)}] for {cls.__name__}{hint}; "
        f"accepted: {', '.join(accepted)}"
    )


def nearest(name: str, accepted: Iterable[str]) -> str | None:
    """The accepted name meant by ``name``: a known synonym, else the closest spelling
    (case-insensitive), else None. The one suggestion mechanism of every name a user types:
    arguments and options, model, attention and dataset names, spec options.

    >>> nearest("seasonl_naive", ["naive", "seasonal_naive"])
    'seasonal_naive'
    >>> nearest("epochs", ["max_epochs", "lr"]), nearest("zzz", ["lr"])
    ('max_epochs', None)
    """
    accepted = list(accepted)
    if SYNONYMS.get(name) in accepted:
        return SYNONYMS[name]
    by_lower = {a.lower(): a for a in accepted}
    close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1)
    return by_lower[close[0]] if close else None


def did_you_mean(names: str | Iterable[str], accepted: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the names ``accepted`` holds something close to, or ``""``.

    >>> did_you_mean("n_head", ["n_heads", "d_model"])
    " (did you mean 'n_heads'?)"
    >>> did_you_mean(["rankz", "windw"], ["ranks", "window"])
    " (did you mean 'ranks', 'window'?)"
    """
    accepted = list(accepted)
    names = [names] if isinstance(names, str) else list(names)
    hints = [h for h in (nearest(n, accepted) for n in names) if h]
    return f" (did you mean {', '.join(map(repr, dict.fromkeys(hints)))}?)" if hints else ""


# ---------------------------------------------------------------------- config dataclasses
def check_field_types(config: Any) -> None:
    """Check each field of a config dataclass against its annotation (``int``, ``float``,
    ``bool``, ``str``, a dict with string keys, or one of those or None); fields with other
    annotations (an attention spec) are left to the config's own checks, and so are ranges."""
    try:
        hints = typing.get_type_hints(type(config))
    except (NameError, TypeError):  # pragma: no cover - an annotation that cannot resolve
        return
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        kinds = _kinds(hints.get(field.name))
        if kinds is None or (value is None and type(None) in kinds):
            continue
        if not any(_is_kind(value, kind) for kind in kinds if kind is not type(None)):
            names = " or ".join(_kind_name(k) for k in kinds)
            raise ValueError(f"{field.name} must be {names}, got {short_repr(value)}")
        if isinstance(value, Mapping):
            check_str_mapping(field.name, value)


_SIMPLE = (int, float, bool, str, dict, type(None))


def _kinds(annotation: Any) -> tuple[type, ...] | None:
    """The simple types an annotation allows, or None when it is not checked here."""
    args = typing.get_args(annotation) if typing.get_origin(annotation) else ()
    if typing.get_origin(annotation) is dict:
        return (dict,)
    members = args if args else (annotation,)
    kinds = tuple(typing.get_origin(m) or m for m in members)
    return kinds if all(k in _SIMPLE for k in kinds) else None


def _is_kind(value: object, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool | np.bool_)
    if kind is int:
        return is_int(value)
    if kind is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
    if kind is dict:
        return isinstance(value, Mapping)
    return isinstance(value, kind)


def _kind_name(kind: type) -> str:
    names = {int: "an integer", float: "a number", bool: "True or False", str: "a string"}
    return names.get(kind, "a dict" if kind is dict else "None")


# ---------------------------------------------------------------------- saved state
def state_field(meta: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    """``meta[key]``, or a ``ValueError`` naming the field when absent or of another type."""
    if not isinstance(meta, Mapping) or key not in meta:
        raise ValueError(f"saved state has no field {key!r}")
    value = meta[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ValueError(f"saved state field {key!r} has the wrong type: {short_repr(value)}")
    return value


def state_frequency(meta: Mapping[str, Any], key: str) -> str:
    """A saved pandas frequency string with a positive step (``"h"``, ``"15min"``, ...)."""
    from pandas.tseries.frequencies import to_offset

    freq = state_field(meta, key, str)
    try:
        step = to_offset(freq).n
    except (ValueError, TypeError):
        step = 0
    if step <= 0:
        raise ValueError(f"saved state field {key!r} is not a frequency: {short_repr(freq)}")
    return freq


def state_ids(meta: Mapping[str, Any], key: str) -> list[str]:
    """A saved list of distinct series ids (strings)."""
    ids = state_field(meta, key, list)
    if not all(isinstance(uid, str) for uid in ids) or len(set(ids)) != len(ids):
        raise ValueError(f"saved state field {key!r} must be a list of distinct strings")
    return ids


def state_vector(
    tensors: Mapping[str, torch.Tensor], key: str, length: int | None = None
) -> np.ndarray:
    """A saved 1-D float tensor of ``length`` finite values, as float64."""
    values = state_tensor(tensors, key)
    if values.ndim != 1 or (length is not None and len(values) != length):
        expected = f"{length} values" if length is not None else "a vector"
        raise ValueError(
            f"saved tensor {key!r} has shape {tuple(values.shape)}, expected {expected}"
        )
    return values.numpy().astype(np.float64)


def state_tensor(tensors: Mapping[str, torch.Tensor], key: str) -> torch.Tensor:
    """A saved floating-point tensor with finite values only."""
    if key not in tensors:
        raise ValueError(f"saved state has no tensor {key!r}")
    check_finite_tensors({key: tensors[key]})
    return tensors[key]


def check_finite_tensors(tensors: Mapping[str, torch.Tensor] | Iterable) -> None:
    """Every floating-point tensor finite; integer tensors (counters) pass, others fail."""
    import torch

    integer_dtypes = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool)
    for key, value in dict(tensors).items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"saved tensor {key!r} is not a tensor")
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise ValueError(f"saved tensor {key!r} holds NaN or infinite values")
        if not (value.is_floating_point() or value.dtype in integer_dtypes):
            raise ValueError(f"saved tensor {key!r} has an unexpected dtype {value.dtype}")


def load_weights(module: torch.nn.Module, tensors: Mapping[str, torch.Tensor], field: str) -> None:
    """Load finite saved weights into ``module`` (exactly its keys and shapes)."""
    check_finite_tensors({f"{field}.{k}": v for k, v in tensors.items()})
    try:
        module.load_state_dict(dict(tensors))
    except RuntimeError as err:  # missing / unexpected keys, wrong shapes
        first = str(err).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        raise ValueError(f"saved {field} weights do not fit the network: {detail[:300]}") from None
