"""The training options shared by every neural forecaster (written once, here).

>>> TrainingConfig(max_epochs=5, lr=1e-3).lr_schedule
'type3'
>>> TrainingConfig(optimizer="sgd")
Traceback (most recent call last):
...
ValueError: unknown optimizer 'sgd'; valid: adam, adamw
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from tsattn.models.schedules import SCHEDULES

OPTIMIZERS = ("adam", "adamw")
LOSS_NAMES = ("mse", "mae")


@dataclass(frozen=True, kw_only=True)
class TrainingConfig:
    """How a network is trained (defaults: the reference PatchTST on ETTh1).

    Attributes:
        optimizer: ``"adam"`` or ``"adamw"``.
        lr, weight_decay: optimiser settings.
        batch_size: windows per batch (each window carries all its channels).
        max_epochs: passes over the training windows.
        max_steps: stop after this many optimiser steps (None: no limit).
        lr_schedule: ``"constant"``, ``"type3"`` (reference: lr for epochs 0-3, then x0.9 per
            epoch) or ``"onecycle"`` (per batch, warm-up for ``pct_start`` of the steps).
        pct_start: one-cycle warm-up fraction.
        patience: stop after this many epochs without a better validation loss (None: run
            all epochs). With validation data the best weights are always restored.
        grad_clip: clip the gradient norm to this value (None: no clipping).
        loss: ``"mse"`` or ``"mae"``.
        windows_per_epoch: a random subset of this many training windows per epoch (None:
            all), for speed on large data.
        seed: seeds weight initialisation, shuffling and dropout.
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        bf16: bfloat16 autocast (for GPUs).
        compile: ``torch.compile`` the network for training (for GPUs).
        progress: show a tqdm progress bar over epochs.
        checkpoint_dir: write a training checkpoint (``last.pt``: weights, optimiser,
            schedule, early-stopping and RNG state, history) there atomically at the end of
            every epoch, which ``fit(..., resume=True)`` continues from (None: no checkpoints).
    """

    optimizer: str = "adam"
    lr: float = 1e-4
    weight_decay: float = 0.0
    batch_size: int = 128
    max_epochs: int = 100
    max_steps: int | None = None
    lr_schedule: str = "type3"
    pct_start: float = 0.3
    patience: int | None = None
    grad_clip: float | None = None
    loss: str = "mse"
    windows_per_epoch: int | None = None
    seed: int = 0
    device: str = "auto"
    bf16: bool = False
    compile: bool = False
    progress: bool = True
    checkpoint_dir: str | None = None

    def __post_init__(self) -> None:
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("lr_schedule", self.lr_schedule, SCHEDULES)
        _check_choice("loss", self.loss, LOSS_NAMES)
        for name in ("batch_size", "max_epochs"):
            _check_positive(name, getattr(self, name))
        for name in ("max_steps", "patience", "windows_per_epoch"):
            if getattr(self, name) is not None:
                _check_positive(name, getattr(self, name))
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if not 0.0 < self.pct_start < 1.0:
            raise ValueError(f"pct_start must be in (0, 1), got {self.pct_start!r}")
        resolve_device(self.device)
        if self.checkpoint_dir is not None:
            object.__setattr__(self, "checkpoint_dir", _check_directory(self.checkpoint_dir))


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else is parsed by torch."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as err:
        message = f"invalid device {device!r} ({err}); use 'auto', 'cpu' or 'cuda'"
        raise ValueError(message) from None


def _check_directory(path: object) -> str:
    """A directory option as a plain string (a Path is accepted; saved models hold str)."""
    try:
        text = os.fspath(path)
    except TypeError:
        raise ValueError(f"checkpoint_dir must be a path, got {path!r}") from None
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"checkpoint_dir must be a non-empty path, got {path!r}")
    return text


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; valid: {', '.join(choices)}")


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
