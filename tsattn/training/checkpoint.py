"""Training checkpoints: one file per run, written atomically, loaded without pickle code.

The engine writes ``<checkpoint_dir>/last.pt`` at the end of every epoch (rank 0 only): the
weights, optimiser and schedule state, early-stopping state, the RNG states (of every rank),
the epochs done, the history, and what identifies the run: the training options, the network's
options and a fingerprint of the training data (the fields of
:data:`~tsattn.training.checkpoint_checks.STATE_FIELDS`). The engine hands these functions
that state as plain tensors and values, with its :class:`TrainingConfig` and
:class:`DistContext`, never its run object: this module does not know the engine. On resume
rank 0 reads the file and broadcasts it to the other ranks. The file is written to a
temporary file in the same directory, flushed to disk and renamed over the previous one
(``os.replace``), so a crash leaves the previous checkpoint whole. It holds tensors and plain
Python containers only and is read with ``torch.load(weights_only=True)``: loading can never
execute code from the file.

Nothing read from a checkpoint is trusted: the file carries a SHA-256 digest of its contents
(a flipped byte in tensor data is refused), and on resume every field is checked against the
fresh run (:func:`~tsattn.training.checkpoint_checks.check_resumable`): a missing or
malformed field is a ``ValueError`` naming the file and the field, and a run whose data,
network or training options changed is refused with the list of changes. A
``checkpoint_dir`` that cannot hold checkpoints fails before training.

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> path = save_checkpoint(folder, {"epoch": 3, "weights": {"w": torch.ones(2)}})
>>> path.name, load_checkpoint(folder)["epoch"]
('last.pt', 3)
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from tsattn.atomic import atomic_file
from tsattn.training.checkpoint_checks import STATE_FIELDS, FreshRun, check_resumable
from tsattn.training.config import TrainingConfig
from tsattn.training.distributed import DistContext, broadcast_object, gather_objects

logger = logging.getLogger(__name__)
CHECKPOINT_NAME = "last.pt"
FORMAT_NAME, FORMAT_VERSION = "tsattn-checkpoint", 2
_TMP_PREFIX, _TMP_SUFFIX = f".{CHECKPOINT_NAME}.", ".tmp"
_MAX_DEPTH = 16  # a training state nests 6 deep; a forged file may nest thousands deep

__all__ = [
    "CHECKPOINT_NAME",
    "capture_rng",
    "checkpoint_path",
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
    with atomic_file(path) as file:
        torch.save(contents, file)
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


# ------------------------------------------------------------------ the engine's use
def start_checkpoints(
    config: TrainingConfig, ctx: DistContext, fresh: FreshRun, resume: bool
) -> dict[str, Any] | None:
    """Before the first epoch: check ``config.checkpoint_dir`` can hold checkpoints (rank 0)
    and, with ``resume``, return its checkpoint, checked against the ``fresh`` run, for the
    engine to restore (None: train from the start, as when there is no checkpoint).

    Raises:
        ValueError: ``resume`` without a ``checkpoint_dir``, a folder that cannot hold
            checkpoints, or a checkpoint that cannot be resumed (see :func:`check_resumable`).
    """
    folder = config.checkpoint_dir
    if folder is None:
        if resume:
            raise ValueError("resume=True needs checkpoint_dir: the folder of the checkpoint")
        return None

    def open_folder() -> dict[str, Any] | None:
        prepare_checkpoint_dir(folder)
        return load_checkpoint(folder) if resume else None

    # rank 0 reads, every rank gets its copy (or its error): nodes need no shared filesystem
    state = _on_main_then_broadcast(ctx, open_folder)
    if state is None:
        if resume and ctx.is_main:
            logger.info("resume: no checkpoint in %s, training from the start", folder)
        return None
    check_resumable(state, fresh, config, checkpoint_path(folder))
    if ctx.is_main:
        _log_resume(folder, state, ctx.world_size, config.max_epochs)
    return state


def _log_resume(folder: str | os.PathLike, state: dict[str, Any], world_size: int, epochs: int):
    """Say where training continues; warn when the number of processes changed."""
    if state["world_size"] != world_size:
        logger.warning(
            "resuming a run of %d processes on %d: the result will differ from an "
            "uninterrupted run",
            state["world_size"],
            world_size,
        )
    logger.info("resumed from %s after %d of %d epochs", folder, state["epoch"], epochs)


def write_checkpoint(config: TrainingConfig, ctx: DistContext, state: dict[str, Any]) -> None:
    """After an epoch: every rank hands in its RNG states, rank 0 writes ``state`` (every
    field of :data:`STATE_FIELDS` but ``"rng"``) with them to ``config.checkpoint_dir``."""
    if config.checkpoint_dir is None:
        return
    rng = gather_objects(ctx, capture_rng(ctx.device))
    if ctx.is_main:
        contents = {name: rng if name == "rng" else state[name] for name in STATE_FIELDS}
        save_checkpoint(config.checkpoint_dir, contents)


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
    except ValueError as err:
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
        raise ValueError(f"its contents nest more than {_MAX_DEPTH} levels deep")
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
        raise ValueError(f"its contents hold a {type(value).__name__}, not tensors and values")


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
