"""Training checkpoints: one file per run, written atomically, loaded without pickle code.

The engine writes ``<checkpoint_dir>/last.pt`` at the end of every epoch (rank 0 only): the
weights, optimiser and schedule state, early-stopping state, the RNG states (of every rank),
the epochs done, the history, and what identifies the run: the training options, the network's
options and a fingerprint of the training data (see
:meth:`tsattn.models.training.TrainRun.state_dict`). On resume rank 0 reads it and broadcasts
it to the other ranks. The file is written to a temporary file in the same directory, flushed
to disk and renamed over the previous one (``os.replace``), so a crash leaves the previous
checkpoint whole. It holds tensors and plain Python containers only and is read with
``torch.load(weights_only=True)``: loading can never execute code from the file.

Nothing read from a checkpoint is trusted: the file carries a SHA-256 digest of its contents
(a flipped byte in tensor data is refused), and on resume every field is checked against the
run (:func:`check_resumable`): a missing or malformed field is a ``ValueError`` naming the file
and the field, and a run whose data, network or training options changed is refused with the
list of changes. A ``checkpoint_dir`` that cannot hold checkpoints fails before training.

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> path = save_checkpoint(folder, {"epoch": 3, "weights": {"w": torch.ones(2)}})
>>> path.name, load_checkpoint(folder)["epoch"]
('last.pt', 3)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor, nn

from tsattn.models.distributed import DistContext, broadcast_object, gather_objects

if TYPE_CHECKING:
    from tsattn.models.training import TrainRun

logger = logging.getLogger(__name__)
CHECKPOINT_NAME = "last.pt"
FORMAT_NAME, FORMAT_VERSION = "tsattn-checkpoint", 2
_TMP_PREFIX, _TMP_SUFFIX = f".{CHECKPOINT_NAME}.", ".tmp"
_MAX_DEPTH = 16  # a training state nests 6 deep; a forged file may nest thousands deep

__all__ = [
    "CHECKPOINT_NAME",
    "capture_rng",
    "check_resumable",
    "checkpoint_path",
    "describe_network",
    "load_checkpoint",
    "prepare_checkpoint_dir",
    "remove_stale_temp_files",
    "restore_rng",
    "save_checkpoint",
    "start_checkpoints",
    "state_digest",
    "write_checkpoint",
]


def checkpoint_path(checkpoint_dir: str | os.PathLike) -> Path:
    """The checkpoint file of a run: ``<checkpoint_dir>/last.pt``."""
    return Path(checkpoint_dir) / CHECKPOINT_NAME


def save_checkpoint(checkpoint_dir: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` (tensors and plain containers) and its digest atomically; returns the
    file path."""
    path = checkpoint_path(checkpoint_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    contents = {"format": FORMAT_NAME, "version": FORMAT_VERSION, **state}
    contents["digest"] = state_digest(contents)
    fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=_TMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            torch.save(contents, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def load_checkpoint(checkpoint_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The checkpoint in ``checkpoint_dir`` (tensors on the CPU), or None when there is none.

    Checks the envelope (a regular file, the format, the version, the digest); the fields are
    checked against a run by :func:`check_resumable`.

    Raises:
        ValueError: the file is not a tsattn training checkpoint, cannot be read, or its
            contents do not match their digest.
    """
    path = checkpoint_path(checkpoint_dir)
    if not path.exists():
        return None
    if not path.is_file():  # a FIFO would block the read; a directory cannot be read
        raise ValueError(f"{path} is not a regular file: remove it, or choose another folder")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a truncated or foreign file: torch raises many kinds
        raise ValueError(f"cannot read the training checkpoint {path}: {err}") from None
    _check_envelope(path, state)
    return state


def state_digest(state: dict[str, Any]) -> str:
    """SHA-256 (hex) of a checkpoint's contents but its ``"digest"``: every tensor's dtype,
    shape and bytes and every plain value, in order.

    Raises:
        ValueError: ``state`` holds something other than tensors, plain values and
            containers, or nests too deep.
    """
    digest = hashlib.sha256()
    _feed(digest, {key: value for key, value in state.items() if key != "digest"}, 0)
    return digest.hexdigest()


def remove_stale_temp_files(checkpoint_dir: str | os.PathLike) -> list[Path]:
    """Delete temporary files a killed writer left in ``checkpoint_dir``; returns them."""
    folder = Path(checkpoint_dir)
    stale = sorted(folder.glob(f"{_TMP_PREFIX}*{_TMP_SUFFIX}")) if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def prepare_checkpoint_dir(checkpoint_dir: str | os.PathLike) -> None:
    """Make sure checkpoints can be written to ``checkpoint_dir`` (creating it) before any
    training, and clear a killed writer's temporary files.

    Raises:
        ValueError: it is not a directory, cannot be created or written to, or its
            ``last.pt`` is not a regular file.
    """
    folder = Path(checkpoint_dir)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"checkpoint_dir {folder} is not a directory: choose a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=_TMP_SUFFIX, dir=folder)
        os.close(fd)
        os.remove(probe)
    except OSError as err:
        reason = err.strerror or str(err)
        raise ValueError(f"cannot write checkpoints to checkpoint_dir {folder}: {reason}") from None
    path = checkpoint_path(folder)
    if (path.exists() or path.is_symlink()) and not path.is_file():
        raise ValueError(f"{path} is not a regular file: remove it, or choose another folder")
    for stale in remove_stale_temp_files(folder):
        logger.info("removed %s, left by an interrupted checkpoint write", stale)


def describe_network(network: nn.Module) -> dict[str, Any]:
    """What identifies a network's architecture, as plain values: its class and the fields
    of its ``config`` dataclass (when it has one), for the resume check."""
    options: dict[str, Any] = {"class": f"{type(network).__module__}.{type(network).__name__}"}
    config = getattr(network, "config", None)
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        for option in dataclasses.fields(config):
            options[option.name] = _plain(getattr(config, option.name))
    return options


# ------------------------------------------------------------------ the engine's use
def start_checkpoints(run: TrainRun, resume: bool) -> None:
    """Before the first epoch: check ``checkpoint_dir`` can hold checkpoints (rank 0) and,
    with ``resume``, continue ``run`` from the last checkpoint (from the start when none)."""
    folder = run.config.checkpoint_dir
    if folder is None:
        if resume:
            raise ValueError("resume=True needs checkpoint_dir: the folder of the checkpoint")
        return

    def open_folder() -> dict[str, Any] | None:
        prepare_checkpoint_dir(folder)
        return load_checkpoint(folder) if resume else None

    # rank 0 reads, every rank gets its copy (or its error): nodes need no shared filesystem
    state = _on_main_then_broadcast(run.ctx, open_folder)
    if state is None:
        if resume and run.ctx.is_main:
            logger.info("resume: no checkpoint in %s, training from the start", folder)
        return
    check_resumable(run, state, checkpoint_path(folder))
    run.load_state_dict(state)
    if run.ctx.is_main:
        logger.info(
            "resumed from %s after %d of %d epochs", folder, run.epoch, run.config.max_epochs
        )


def write_checkpoint(run: TrainRun) -> None:
    """After an epoch: every rank hands in its RNG states, rank 0 writes the checkpoint."""
    if run.config.checkpoint_dir is None:
        return
    rng = gather_objects(run.ctx, capture_rng(run.ctx.device))
    if run.ctx.is_main:
        save_checkpoint(run.config.checkpoint_dir, run.state_dict(rng))


def _on_main_then_broadcast(ctx: DistContext, work: Callable[[], Any]) -> Any:
    """``work()`` on rank 0, its result on every rank; its ValueError is raised on every
    rank (so no rank waits forever on one that failed)."""
    result, error = None, None
    if ctx.is_main:
        try:
            result = work()
        except ValueError as err:
            error = str(err)
    error, result = broadcast_object(ctx, (error, result))
    if error is not None:
        raise ValueError(error)
    return result


# ------------------------------------------------------------------ resume checks
#: the fields a training state holds (see TrainRun.state_dict)
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


def check_resumable(run: TrainRun, state: dict[str, Any], path: Path) -> None:
    """Check every field of a loaded checkpoint against ``run`` before anything is restored.

    Raises:
        ValueError: a field is missing or malformed (naming ``path`` and the field), or the
            data, the network or the training options differ from the checkpoint's run
            (listing the changes).
    """
    try:
        _check_counters(run, state)
        _refuse_changes(run, state, path)
        _check_tensors(run, state)
    except _BadField as err:
        raise ValueError(
            f"{path}: {err}; the checkpoint is damaged or not from this tsattn: delete it, or "
            "fit with resume=False to start afresh"
        ) from None


def _check_counters(run: TrainRun, state: dict[str, Any]) -> None:
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


def _refuse_changes(run: TrainRun, state: dict[str, Any], path: Path) -> None:
    """Refuse to continue another run: different data, network or training options."""
    free = _FREE_OPTIONS + (() if run.config.lr_schedule == "onecycle" else ("max_epochs",))
    config = {k: v for k, v in dataclasses.asdict(run.config).items() if k not in free}
    saved = {k: v for k, v in state["config"].items() if k not in free}
    changes = {
        "the training data": _differences(state["data"], run.data),
        "the network": _differences(state["network_options"], describe_network(run.network)),
        "the training options": _differences(saved, config),
    }
    changed = [f"{what} ({shown})" for what, shown in changes.items() if shown]
    if changed:
        raise ValueError(
            f"cannot resume from {path}: {' and '.join(changed)} changed since the checkpoint "
            "(checkpoint -> now); resume with the same data and options, or fit with "
            "resume=False to start afresh"
        )
    if state["world_size"] != run.ctx.world_size and run.ctx.is_main:
        logger.warning(
            "resuming a run of %d processes on %d: the result will differ from an "
            "uninterrupted run",
            state["world_size"],
            run.ctx.world_size,
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


def _check_tensors(run: TrainRun, state: dict[str, Any]) -> None:
    """Weights, optimiser, schedule, early stopping, sampler and RNG states shaped as the
    run's own, the weights finite."""
    weights = run.network.state_dict()
    _match(state["network"], weights, "'network'")
    _check_finite(state["network"], "'network'")
    _check_best(state["best"], weights, state["epoch"])
    _check_optimizer(state["optimizer"], run.optimizer)
    _match(state["schedule"], run.schedule.state_dict(), "'schedule'")
    _match(state["sampler"], run.sampler.generator.get_state(), "'sampler'")
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


def _check_optimizer(saved: Any, optimizer: torch.optim.Optimizer) -> None:
    """The run's parameter groups (finite settings); Adam state (step, moments shaped as
    the parameters) for any subset of its parameters."""
    if not isinstance(saved, dict) or set(saved) != {"state", "param_groups"}:
        raise _BadField("'optimizer'", "must be a dict of the optimiser's state and param_groups")
    groups = optimizer.state_dict()["param_groups"]
    _match(saved["param_groups"], groups, "'optimizer'['param_groups']")
    for k, (group, expected) in enumerate(zip(saved["param_groups"], groups)):
        field = f"'optimizer'['param_groups'][{k}]"
        if group["params"] != expected["params"]:
            raise _BadField(f"{field}['params']", f"must be {expected['params']!r:.60}")
        if any(isinstance(v, float) and not math.isfinite(v) for v in group.values()):
            raise _BadField(field, "holds a NaN or infinite setting")
    params = [p for group in optimizer.param_groups for p in group["params"]]
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


# ------------------------------------------------------------------ generic checks
def _check_envelope(path: Path, state: Any) -> None:
    """The format name, the version and the digest of a loaded file."""
    if not isinstance(state, dict) or not _equals(state.get("format"), FORMAT_NAME):
        raise ValueError(f"{path} is not a tsattn training checkpoint")
    if not _equals(state.get("version"), FORMAT_VERSION):
        raise ValueError(
            f"{path} has checkpoint version {state.get('version')!r:.40}; this tsattn reads "
            f"version {FORMAT_VERSION}: start afresh (resume=False) or use the matching tsattn"
        )
    try:
        intact = _equals(state.get("digest"), state_digest(state))
    except _BadField as err:
        raise ValueError(f"{path}: {err}") from None
    if not intact:
        raise ValueError(
            f"{path}: field 'digest' does not match the contents: the file is corrupt; delete "
            "it, or fit with resume=False to start afresh"
        )


def _equals(value: Any, expected: str | int) -> bool:
    """``value == expected`` for a value of the expected type (a tensor never compares)."""
    return type(value) is type(expected) and value == expected


def _feed(digest: Any, value: Any, depth: int) -> None:
    """Hash ``value`` (tensors, plain values, containers) into ``digest``, type-tagged."""
    if depth > _MAX_DEPTH:
        raise _BadField("contents", f"nest more than {_MAX_DEPTH} levels deep")
    if isinstance(value, Tensor):
        flat = value.detach().cpu().contiguous().reshape(-1)
        digest.update(f"T{flat.dtype}{tuple(value.shape)}".encode())
        digest.update(flat.view(torch.uint8).numpy())
    elif isinstance(value, dict):
        digest.update(f"D{len(value)}".encode())
        for key, item in value.items():
            _feed(digest, key, depth + 1)
            _feed(digest, item, depth + 1)
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}{len(value)}".encode())
        for item in value:
            _feed(digest, item, depth + 1)
    elif value is None or isinstance(value, (bool, int, float, str)):
        text = repr(value)
        digest.update(f"{type(value).__name__}{len(text)}:{text}".encode())
    else:
        raise _BadField("contents", f"hold a {type(value).__name__}, not tensors and values")


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
    """A dict of str keys whose values are plain scalars or such dicts (compared on resume)."""
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise _BadField(field, f"must be a dict of named values, got {_kind(value)}")
    for key, item in value.items():
        if isinstance(item, dict) and depth < 2:
            _check_plain(item, f"{field}[{key!r}]", depth + 1)
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


# ---------------------------------------------------------------------------------- RNG
def capture_rng(device: torch.device) -> dict[str, Any]:
    """This process's RNG states (torch CPU, CUDA of ``device``, numpy, python) as tensors
    and plain values."""
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": _numpy_state(),
        "python": _python_state(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng(state: dict[str, Any], device: torch.device) -> None:
    """Set the RNG states :func:`capture_rng` returned."""
    torch.set_rng_state(state["torch"])
    if "cuda" in state and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda"], device)
    key, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((key, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal.tolist()), gauss_next))


def _numpy_state() -> list[Any]:
    key, keys, pos, has_gauss, cached = np.random.get_state()
    return [key, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), cached]


def _python_state() -> list[Any]:
    version, internal, gauss_next = random.getstate()
    return [version, torch.tensor(internal, dtype=torch.int64), gauss_next]
