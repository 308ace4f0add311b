"""Training checkpoints: one file per run, written atomically, loaded without pickle code.

The engine writes ``<checkpoint_dir>/last.pt`` at the end of every epoch (rank 0 only): the
weights, optimiser and schedule state, early-stopping state, the RNG states (of every rank),
the epochs done and the history (see :meth:`tsattn.models.training.TrainRun.state_dict`).
On resume rank 0 reads it and broadcasts it to the other ranks. The file is written
to a temporary file in the same directory, flushed to disk and renamed over the previous one
(``os.replace``), so a crash leaves the previous checkpoint whole. It holds tensors and plain
Python containers only and is read with ``torch.load(weights_only=True)``: loading can
never execute code from the file.

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> path = save_checkpoint(folder, {"epoch": 3, "weights": {"w": torch.ones(2)}})
>>> path.name, load_checkpoint(folder)["epoch"]
('last.pt', 3)
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from tsattn.models.distributed import broadcast_object, gather_objects

if TYPE_CHECKING:
    from tsattn.models.training import TrainRun

logger = logging.getLogger(__name__)
CHECKPOINT_NAME = "last.pt"
FORMAT_NAME, FORMAT_VERSION = "tsattn-checkpoint", 1
_TMP_PREFIX, _TMP_SUFFIX = f".{CHECKPOINT_NAME}.", ".tmp"

__all__ = [
    "CHECKPOINT_NAME",
    "capture_rng",
    "checkpoint_path",
    "load_checkpoint",
    "remove_stale_temp_files",
    "restore_rng",
    "save_checkpoint",
    "start_checkpoints",
    "write_checkpoint",
]


def checkpoint_path(checkpoint_dir: str | os.PathLike) -> Path:
    """The checkpoint file of a run: ``<checkpoint_dir>/last.pt``."""
    return Path(checkpoint_dir) / CHECKPOINT_NAME


def save_checkpoint(checkpoint_dir: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` (tensors and plain containers) atomically; returns the file path."""
    path = checkpoint_path(checkpoint_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=_TMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            torch.save({"format": FORMAT_NAME, "version": FORMAT_VERSION, **state}, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def load_checkpoint(checkpoint_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The checkpoint in ``checkpoint_dir`` (tensors on the CPU), or None when there is none.

    Raises:
        ValueError: the file is not a tsattn training checkpoint or cannot be read.
    """
    path = checkpoint_path(checkpoint_dir)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a truncated or foreign file: torch raises many kinds
        raise ValueError(f"cannot read the training checkpoint {path}: {err}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT_NAME:
        raise ValueError(f"{path} is not a tsattn training checkpoint")
    if state.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"{path} has checkpoint version {state.get('version')!r}; this tsattn reads "
            f"version {FORMAT_VERSION}: start afresh (resume=False) or use the matching tsattn"
        )
    return state


def remove_stale_temp_files(checkpoint_dir: str | os.PathLike) -> list[Path]:
    """Delete temporary files a killed writer left in ``checkpoint_dir``; returns them."""
    folder = Path(checkpoint_dir)
    stale = sorted(folder.glob(f"{_TMP_PREFIX}*{_TMP_SUFFIX}")) if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


# ------------------------------------------------------------------ the engine's use
def start_checkpoints(run: TrainRun, resume: bool) -> None:
    """Before the first epoch: clear a killed writer's temporary files (rank 0) and, with
    ``resume``, continue ``run`` from the last checkpoint (from the start when none)."""
    folder = run.config.checkpoint_dir
    if folder is None:
        if resume:
            raise ValueError("resume=True needs checkpoint_dir: the folder of the checkpoint")
        return
    if run.ctx.is_main:
        for path in remove_stale_temp_files(folder):
            logger.info("removed %s, left by an interrupted checkpoint write", path)
    if not resume:
        return
    # rank 0 reads, every rank gets its copy: nodes need no shared filesystem
    state = broadcast_object(run.ctx, load_checkpoint(folder) if run.ctx.is_main else None)
    if state is None:
        if run.ctx.is_main:
            logger.info("resume: no checkpoint in %s, training from the start", folder)
        return
    _warn_on_changes(run, state)
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


#: options that may change between an interrupted run and its resumption (and max_epochs,
#: but for the one-cycle schedule, whose shape depends on the total number of steps)
_FREE_OPTIONS = ("device", "progress", "checkpoint_dir", "compile")


def _warn_on_changes(run: TrainRun, state: dict[str, Any]) -> None:
    """Log the options (and world size) that differ from the checkpoint's run."""
    saved, now = state["config"], dataclasses.asdict(run.config)
    changed = {k: (saved.get(k), v) for k, v in now.items() if saved.get(k) != v}
    free = _FREE_OPTIONS + (() if run.config.lr_schedule == "onecycle" else ("max_epochs",))
    changed = {k: v for k, v in changed.items() if k not in free}
    if state["world_size"] != run.ctx.world_size:
        changed["world_size"] = (state["world_size"], run.ctx.world_size)
    if changed and run.ctx.is_main:
        logger.warning(
            "resuming with changed training options (checkpoint, now): %s; the result will "
            "differ from an uninterrupted run",
            changed,
        )


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
