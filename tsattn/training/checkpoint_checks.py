"""The checks a training checkpoint passes before a run continues from it.

:func:`check_resumable` compares a loaded checkpoint with the fresh run about to continue it,
handed in as plain state (a :class:`FreshRun`: the run's own checkpoint fields and its
optimiser's parameters) and its :class:`TrainingConfig`, never the engine's run object: every
field must be present and shaped as the run's own state (the weights also finite), and the
run must be the same one: the same training data (:meth:`WindowSet.fingerprint`), the same
network (:func:`describe_network`) and the same training options (but for those free to
change). Nothing is restored before every check has passed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from tsattn.training.config import TrainingConfig

logger = logging.getLogger(__name__)
__all__ = ["STATE_FIELDS", "FreshRun", "check_resumable", "describe_network"]

#: the fields a training state holds, in the order a checkpoint stores them
STATE_FIELDS = (
    "epoch", "steps", "stopped", "history", "network", "optimizer", "schedule", "best",
    "sampler", "rng", "world_size", "config", "data", "network_options",
)  # fmt: skip
#: options that may change between an interrupted run and its resumption (and max_epochs,
#: but for the one-cycle schedule, whose shape depends on the total number of steps)
_FREE_OPTIONS = ("device", "progress", "checkpoint_dir", "compile")
_HISTORY_TYPES = {
    "epoch": (int,), "train_loss": (float,), "val_loss": (float, type(None)), "lr": (float,),
    "seconds": (float,), "steps": (int,),
}  # fmt: skip


class _BadField(ValueError):
    """A checkpoint field that is missing or malformed (the caller names the file)."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"field {field} {problem}")


@dataclass(frozen=True)
class FreshRun:
    """The run a checkpoint would continue, as plain state.

    ``state``: its own checkpoint fields (:data:`STATE_FIELDS` but ``"rng"``), as it would
    save them before its first epoch; ``parameters``: its optimiser's parameters in the
    optimiser's order (a checkpoint's Adam moments must be shaped as them).
    """

    state: dict[str, Any]
    parameters: tuple[Tensor, ...]


def check_resumable(
    state: dict[str, Any], fresh: FreshRun, config: TrainingConfig, path: Path
) -> None:
    """Check every field of a loaded checkpoint ``state`` against the ``fresh`` run (trained
    with ``config``) before anything is restored.

    Raises:
        ValueError: a field is missing or malformed (naming ``path`` and the field), or the
            data, the network or the training options differ from the checkpoint's run
            (listing the changes).
    """
    try:
        _check_counters(state)
        _refuse_changes(state, fresh.state, config, path)
        _check_tensors(state, fresh)
    except _BadField as err:
        raise ValueError(
            f"{path}: {err}; the checkpoint is damaged or not from this tsattn: delete it, or "
            "fit with resume=False to start afresh"
        ) from None


def _check_counters(state: dict[str, Any]) -> None:
    """Every field present; the counters, the flags and the run's identity well-typed."""
    missing = [name for name in STATE_FIELDS if name not in state]
    if missing:
        raise _BadField(", ".join(map(repr, missing)), "is missing")
    epoch = _count(state, "epoch", 0)
    _count(state, "steps", 0)
    _count(state, "world_size", 1)
    if type(state["stopped"]) is not bool:
        raise _BadField("'stopped'", f"must be True or False, got {state['stopped']!r:.60}")
    for name in ("config", "data", "network_options"):
        _check_plain(state[name], repr(name), 0)
    _check_history(state["history"], epoch)


def _count(state: dict[str, Any], name: str, least: int) -> int:
    value = state[name]
    if type(value) is not int or value < least:
        raise _BadField(repr(name), f"must be an integer >= {least}, got {value!r:.60}")
    return value


def _check_history(history: Any, epochs: int) -> None:
    """One entry per epoch done, each the fields of an EpochStats with their types."""
    if not isinstance(history, list) or len(history) != epochs:
        raise _BadField("'history'", f"must be a list of the {epochs} epochs done")
    for k, entry in enumerate(history):
        field = f"'history'[{k}]"
        if not isinstance(entry, dict) or set(entry) != set(_HISTORY_TYPES):
            raise _BadField(field, f"must hold exactly {', '.join(_HISTORY_TYPES)}")
        for key, types in _HISTORY_TYPES.items():
            if type(entry[key]) not in types:
                raise _BadField(f"{field}[{key!r}]", f"has the wrong type: {entry[key]!r:.60}")
        if entry["epoch"] != k:
            raise _BadField(f"{field}['epoch']", f"must be {k}, got {entry['epoch']}")


def _refuse_changes(
    state: dict[str, Any], now: dict[str, Any], config: TrainingConfig, path: Path
) -> None:
    """Refuse to continue another run (``now``: the fresh run's state): different data,
    network or training options."""
    free = _FREE_OPTIONS + (() if config.lr_schedule == "onecycle" else ("max_epochs",))
    options = {k: v for k, v in dataclasses.asdict(config).items() if k not in free}
    saved = {k: v for k, v in state["config"].items() if k not in free}
    changes = {
        "the training data": _differences(state["data"], now["data"]),
        "the network": _differences(state["network_options"], now["network_options"]),
        "the training options": _differences(saved, options),
    }
    changed = [f"{what} ({shown})" for what, shown in changes.items() if shown]
    if changed:
        raise ValueError(
            f"cannot resume from {path}: {' and '.join(changed)} changed since the checkpoint "
            "(checkpoint -> now); resume with the same data and options, or fit with "
            "resume=False to start afresh"
        )


def _differences(saved: dict[str, Any], now: dict[str, Any]) -> str:
    """``"key: old -> new, ..."`` over the (flattened) keys whose values differ."""
    saved, now = _flatten(saved), _flatten(now)
    absent = "(absent)"
    shown = [
        f"{key}: {saved.get(key, absent)!r:.40} -> {now.get(key, absent)!r:.40}"
        for key in sorted(saved.keys() | now.keys())
        if saved.get(key, absent) != now.get(key, absent)
    ]
    return ", ".join(shown)


def _flatten(options: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _check_tensors(state: dict[str, Any], fresh: FreshRun) -> None:
    """Weights, optimiser, schedule, early stopping, sampler and RNG states shaped as the
    fresh run's own, the weights finite."""
    weights = fresh.state["network"]
    _match(state["network"], weights, "'network'")
    _check_finite(state["network"], "'network'")
    _check_best(state["best"], weights, state["epoch"])
    _check_optimizer(state["optimizer"], fresh.state["optimizer"], fresh.parameters)
    _match(state["schedule"], fresh.state["schedule"], "'schedule'")
    _match(state["sampler"], fresh.state["sampler"], "'sampler'")
    _try("'sampler'", lambda: torch.Generator().set_state(state["sampler"]))
    _check_rng(state["rng"], state["world_size"])


def _check_best(best: Any, weights: dict[str, Tensor], epochs: int) -> None:
    """Early-stopping state: the best loss (not NaN), its epoch, the bad epochs, the weights."""
    template = {"best_loss": 0.0, "best_epoch": 0, "bad_epochs": 0, "weights": None}
    if isinstance(best, dict) and best.get("weights") is not None:
        template["weights"] = weights
    _match(best, template, "'best'")
    if best["weights"] is not None:
        _check_finite(best["weights"], "'best'['weights']")
    if math.isnan(best["best_loss"]):
        raise _BadField("'best'['best_loss']", "is NaN")
    if not -1 <= best["best_epoch"] < max(epochs, 1) or best["bad_epochs"] < 0:
        raise _BadField("'best'", "has an epoch count outside the epochs done")


def _check_optimizer(saved: Any, fresh: dict[str, Any], params: tuple[Tensor, ...]) -> None:
    """The fresh optimiser's parameter groups (finite settings); Adam state (step, moments
    shaped as ``params``) for any subset of its parameters."""
    if not isinstance(saved, dict) or set(saved) != {"state", "param_groups"}:
        raise _BadField("'optimizer'", "must be a dict of the optimiser's state and param_groups")
    groups = fresh["param_groups"]
    _match(saved["param_groups"], groups, "'optimizer'['param_groups']")
    for k, (group, expected) in enumerate(zip(saved["param_groups"], groups)):
        field = f"'optimizer'['param_groups'][{k}]"
        if group["params"] != expected["params"]:
            raise _BadField(f"{field}['params']", f"must be {expected['params']!r:.60}")
        if any(isinstance(v, float) and not math.isfinite(v) for v in group.values()):
            raise _BadField(field, "holds a NaN or infinite setting")
    if not isinstance(saved["state"], dict):
        raise _BadField("'optimizer'['state']", f"must be a dict, got {_kind(saved['state'])}")
    for index, entry in saved["state"].items():
        field = f"'optimizer'['state'][{index!r:.20}]"
        if type(index) is not int or not 0 <= index < len(params):
            raise _BadField(field, f"is not one of the {len(params)} parameters")
        moments = torch.zeros_like(params[index], device="cpu")
        _match(entry, {"step": torch.zeros(()), "exp_avg": moments, "exp_avg_sq": moments}, field)


def _check_rng(rng: Any, world_size: int) -> None:
    """One entry per rank, each one that :func:`restore_rng` accepts (tried on scratch
    generators)."""
    if not isinstance(rng, list) or len(rng) != world_size:
        raise _BadField("'rng'", f"must be a list of {world_size} RNG states (one per rank)")
    for rank, entry in enumerate(rng):
        field = f"'rng'[{rank}]"
        if not isinstance(entry, dict) or not {"torch", "numpy", "python"} <= entry.keys():
            raise _BadField(field, "must hold the torch, numpy and python RNG states")
        _try(field, lambda entry=entry: _restore_on_scratch(entry))


def _restore_on_scratch(state: dict[str, Any]) -> None:
    """:func:`restore_rng` on fresh generators: raises what a malformed state raises."""
    torch.Generator().set_state(state["torch"])
    key, keys, pos, has_gauss, cached = state["numpy"]
    if keys.dtype != torch.int64 or keys.min() < 0 or keys.max() >= 2**32:
        raise ValueError("numpy keys out of range")
    np.random.RandomState().set_state((key, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    version, internal, gauss_next = state["python"]
    random.Random().setstate((version, tuple(internal.tolist()), gauss_next))
    if "cuda" in state and (not isinstance(state["cuda"], Tensor) or state["cuda"].dim() != 1):
        raise ValueError("CUDA state is not a byte tensor")


def _try(field: str, check: Callable[[], Any]) -> None:
    """Run ``check``; any error it raises means the field is malformed."""
    try:
        check()
    except (TypeError, ValueError, RuntimeError, OverflowError, AttributeError, IndexError) as err:
        raise _BadField(field, f"is not a valid state ({type(err).__name__}: {err})") from None


def _match(value: Any, template: Any, field: str) -> None:
    """``value`` has ``template``'s structure: tensors of the same dtype and shape, dicts of
    the same keys, lists and tuples of the same length, scalars of the same type, and strings
    and None equal to the template's."""
    if isinstance(template, Tensor):
        if not isinstance(value, Tensor) or value.dtype != template.dtype:
            raise _BadField(field, f"must be a {template.dtype} tensor, got {_kind(value)}")
        if value.shape != template.shape:
            expected, got = tuple(template.shape), tuple(value.shape)
            raise _BadField(field, f"must have shape {expected}, got {got}")
    elif isinstance(template, dict):
        _match_dict(value, template, field)
    elif isinstance(template, (list, tuple)):
        if type(value) is not type(template) or len(value) != len(template):
            raise _BadField(field, f"must be a {type(template).__name__} of {len(template)}")
        for k, (item, expected) in enumerate(zip(value, template)):
            _match(item, expected, f"{field}[{k}]")
    elif type(value) is not type(template) or not _same_scalar(value, template):
        raise _BadField(field, f"must be like {template!r:.40}, got {value!r:.60}")


def _same_scalar(value: Any, template: Any) -> bool:
    """Numbers and flags of the template's type may differ; names (strings) and None not."""
    return value == template if isinstance(template, str) or template is None else True


def _match_dict(value: Any, template: dict, field: str) -> None:
    if not isinstance(value, dict):
        raise _BadField(field, f"must be a dict, got {_kind(value)}")
    missing = [key for key in template if key not in value]
    unexpected = [key for key in value if key not in template]
    if missing or unexpected:
        raise _BadField(field, f"lacks keys {missing!r:.80} / has unknown keys {unexpected!r:.80}")
    for key, expected in template.items():
        _match(value[key], expected, f"{field}[{key!r}]")


def _check_finite(weights: dict[str, Tensor], field: str) -> None:
    for name, tensor in weights.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise _BadField(f"{field}[{name!r}]", "holds NaN or infinite values")


def _check_plain(value: Any, field: str, depth: int) -> None:
    """A dict of str keys whose values are plain scalars, tuples of numbers (the training
    config's quantiles) or such dicts (compared on resume)."""
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise _BadField(field, f"must be a dict of named values, got {_kind(value)}")
    for key, item in value.items():
        if isinstance(item, dict) and depth < 2:
            _check_plain(item, f"{field}[{key!r}]", depth + 1)
        elif isinstance(item, tuple) and all(type(v) in (int, float) for v in item):
            continue
        elif not (item is None or isinstance(item, (bool, int, float, str))):
            raise _BadField(f"{field}[{key!r}]", f"must be a plain value, got {_kind(item)}")


def _plain(value: Any) -> Any:
    """An option as a plain value: scalars as they are, classes by name, other objects by
    their class, containers as sorted JSON."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(_jsonable(value), sort_keys=True)
    return f"{type(value).__module__}.{type(value).__qualname__} instance"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return _plain(value)


def _kind(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return f"{type(value).__name__} {value!r:.40}"


def describe_network(network: nn.Module) -> dict[str, Any]:
    """What identifies a network's architecture, as plain values: its class and the fields
    of its ``config`` dataclass (when it has one), for the resume check."""
    options: dict[str, Any] = {"class": f"{type(network).__module__}.{type(network).__name__}"}
    config = getattr(network, "config", None)
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        for option in dataclasses.fields(config):
            options[option.name] = _plain(getattr(config, option.name))
    if hasattr(network, "n_members"):  # an ensemble: its size is part of the architecture
        options["n_members"] = network.n_members
    return options
