"""Bounded checks of an untrusted model file, before anything is built from it.

A model file of N bytes holds E tensor elements (E <= N). Everything :func:`tsattn.load` builds
is bounded by what the file holds, so loading costs time and memory proportional to N:

* the header has exactly the known fields, and ``params`` every parameter its model class
  writes (only ``intervals`` / ``conformal_windows`` and a network's training options may be
  absent; they take their defaults), none it does not;
* every integer size among a model's parameters (a network's options, ``input_size``,
  ``season_length``, nested ones included) is at most ``max(E, MIN_SIZE_BOUND)``, so a forged
  ``stride`` or ``kernel_size`` can never make ``predict`` allocate more than the file;
* a network is first built on torch's ``meta`` device (shapes, no memory) while a registration
  hook counts its parameters and stops the build as soon as it has more parameter tensors or
  elements than the file holds under ``network.``; then every shape of that network must equal
  the file's. Only then does the model's own ``_set_state`` build it for real, as large as the
  tensors in the file and no larger.

>>> size_bound({"a": __import__("torch").zeros(10_000)})
10000
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from tsattn.checks import check_positive_int, is_int, short_repr, state_field
from tsattn.models.covariates import COVARIATE_ARGUMENTS

#: the fields of a model file's JSON header
HEADER_KEYS = frozenset({"format", "version", "model", "params", "state", "history", "digest"})
#: parameters a file may lack (written only by later versions; their defaults change nothing)
OPTIONAL_PARAMS = frozenset(
    {
        "intervals",
        "conformal_windows",
        "progress",
        "engine",
        "recipe",
        "season_length",
        "center_season",
        "center_drift",
        *COVARIATE_ARGUMENTS,  # files written before covariates lack them
    }
)
#: parameters that files written before them lack, with the value that rebuilds those files'
#: models where the constructor's default would differ (a Transformer or VanillaTransformer
#: saved before ``channel_independent`` existed was joint and not centred)
LEGACY_VALUES = {"channel_independent": False, "subtract_last": False}
#: the size bound for files with fewer tensor elements (a season of 4096 steps costs nothing)
MIN_SIZE_BOUND = 4096
#: parameters that are integers but not sizes of anything a loaded model allocates
NOT_SIZES = frozenset({"h", "conformal_windows", "n_jobs", "regressor"})
#: the prefix of a neural network's tensors in a model file
NETWORK_PREFIX = "network."


def check_header_keys(header: Mapping[str, str]) -> None:
    """Refuse header fields that no tsattn version writes."""
    unknown = sorted(set(header) - HEADER_KEYS)
    if unknown:
        shown = ", ".join(short_repr(k, 40) for k in unknown[:5])
        raise ValueError(f"unknown header field(s) {shown}")


def check_param_names(cls: type, params: Mapping[str, Any], model: str) -> None:
    """``params`` must name every parameter ``cls`` writes (``h`` above all: a missing one
    would silently become the default) and nothing else."""
    accepted = set(cls.param_names())
    unexpected = sorted(map(str, set(params) - accepted))
    if unexpected:
        raise ValueError(f"unexpected parameter(s) {unexpected} for model {model!r}")
    optional = OPTIONAL_PARAMS | set(LEGACY_VALUES) | _training_options(cls)
    missing = sorted(accepted - set(params) - optional)
    if missing:
        raise ValueError(f"params has no {', '.join(missing[:8])} (every saved {model} has)")


def with_legacy_values(cls: type, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with each of :data:`LEGACY_VALUES` that ``cls`` takes and the file lacks
    (a file written before it) set to the value its model was built with."""
    accepted = set(cls.param_names())
    legacy = {k: v for k, v in LEGACY_VALUES.items() if k in accepted and k not in params}
    return {**params, **legacy}


def _training_options(cls: type) -> set[str]:
    """A network's training options: they change how it trains, never what it forecasts."""
    config_class = getattr(cls, "config_class", None)
    if config_class is None:
        return set()
    from tsattn.models.options import option_fields

    return set(option_fields(config_class)[1])


def size_bound(tensors: Mapping[str, torch.Tensor]) -> int:
    """``max(E, MIN_SIZE_BOUND)``: E the tensor elements a file holds."""
    return max(sum(t.numel() for t in tensors.values()), MIN_SIZE_BOUND)


def check_param_sizes(cls: type, params: Mapping[str, Any], bound: int) -> None:
    """Every integer size among ``params`` (nested in lists and dicts too) is <= ``bound``;
    training options of a network are not sizes and are left to their own checks."""
    skip = NOT_SIZES | _training_options(cls)
    for name, value in params.items():
        if name in skip:
            continue
        for number in _integers(value, depth=4):
            if abs(number) > bound:
                raise ValueError(
                    f"params {name}={short_repr(value)} is larger than any model this file "
                    f"could hold (at most {bound}: its tensor elements, or {MIN_SIZE_BOUND})"
                )


def _integers(value: Any, depth: int) -> Iterator[int]:
    if is_int(value):
        yield int(value)
    elif depth > 0 and isinstance(value, list | tuple):
        for item in value:
            yield from _integers(item, depth - 1)
    elif depth > 0 and isinstance(value, Mapping):
        for item in value.values():
            yield from _integers(item, depth - 1)


# ---------------------------------------------------------------------- networks
class _OverBudget(BaseException):
    """Raised by the registration hook to stop a build (a BaseException, so no ``except
    Exception`` in a constructor can swallow it)."""


@contextmanager
def _registration_budget(max_tensors: int, max_elements: int) -> Iterator[None]:
    """Count the parameters registered by this thread; stop once they exceed the budget."""
    owner, seen, total = threading.get_ident(), {}, [0]

    def count(module: nn.Module, name: str, tensor: Any) -> None:
        if tensor is None or threading.get_ident() != owner:
            return
        key = (id(module), name)  # a parameter registered again replaces the first
        total[0] += tensor.numel() - seen.get(key, 0)
        seen[key] = tensor.numel()
        if len(seen) > max_tensors or total[0] > max_elements:
            raise _OverBudget(f"{len(seen)} tensors, {total[0]} elements")

    handle = nn.modules.module.register_module_parameter_registration_hook(count)
    try:
        yield
    finally:
        handle.remove()


def is_neural(cls: type) -> bool:
    """A neural forecaster: it names a network config and a network class."""
    network = getattr(cls, "network_class", None)
    return isinstance(network, type) and issubclass(network, nn.Module)


@contextmanager
def network_budget(tensors: Mapping[str, torch.Tensor]) -> Iterator[None]:
    """Build networks (and the probe layers configs build to validate themselves) on the
    meta device, stopping with a ``ValueError`` once they register more parameter tensors
    or elements than twice the file's network tensors hold."""
    saved = [t for k, t in tensors.items() if k.startswith(NETWORK_PREFIX)]
    count, elements = len(saved), sum(t.numel() for t in saved)
    try:
        with _registration_budget(2 * count, 2 * elements), torch.device("meta"):
            yield
    except _OverBudget as over:
        raise ValueError(
            f"params describe a network larger than the file's {count} network tensors "
            f"({elements} elements) could hold ({over} before building stopped)"
        ) from None


def construct(cls: type, params: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> Any:
    """``cls(**params)``; a neural forecaster's (whose constructor validates its network
    options by building an attention layer) within :func:`network_budget`."""
    if not is_neural(cls):
        return cls(**params)
    with network_budget(tensors):
        return cls(**params)


def check_network_sizes(model: Any, meta: Mapping[str, Any], tensors: dict) -> None:
    """For a neural forecaster: the network its header describes, built within
    :func:`network_budget`, has exactly the file's network tensor names and shapes."""
    if not is_neural(type(model)):
        return
    n_channels, _ = model._saved_channels(dict(meta))
    bound = size_bound(tensors)
    if model.input_size is None:  # the look-back chosen at fit, as _set_state reads it
        lookback = check_positive_int("lookback", state_field(meta, "lookback", int))
        if lookback > bound:
            raise ValueError(f"saved state field 'lookback' ({lookback}) is larger than the file")
        model._lookback = lookback
    if n_channels > bound:
        raise ValueError(f"saved state field 'n_channels' ({n_channels}) is larger than the file")
    with network_budget(tensors):
        network = model.saved_network(n_channels, dict(meta), tensors)
    prefix = len(NETWORK_PREFIX)
    saved = {k[prefix:]: v for k, v in tensors.items() if k.startswith(NETWORK_PREFIX)}
    _compare_shapes(network.state_dict(), saved)


def _compare_shapes(expected: Mapping[str, torch.Tensor], saved: Mapping[str, Any]) -> None:
    missing = sorted(set(expected) - set(saved))
    unexpected = sorted(set(saved) - set(expected))
    if missing or unexpected:
        names = [f"missing {NETWORK_PREFIX}{k}" for k in missing[:2]]
        names += [f"unexpected {NETWORK_PREFIX}{k}" for k in unexpected[:2]]
        raise ValueError(f"saved network tensors do not match params ({'; '.join(names)})")
    for key, tensor in expected.items():
        if tuple(tensor.shape) != tuple(saved[key].shape):
            raise ValueError(
                f"saved tensor {NETWORK_PREFIX}{key} has shape {tuple(saved[key].shape)}, "
                f"but params describe {tuple(tensor.shape)}"
            )
