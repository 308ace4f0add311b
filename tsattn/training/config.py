"""The training options shared by every neural forecaster (written once, here).

>>> TrainingConfig(max_epochs=5, lr=1e-3).lr_schedule
'type3'
>>> TrainingConfig(optimizer="sgd")
Traceback (most recent call last):
...
ValueError: optimizer must be one of adam, adamw; got 'sgd' (unknown optimizer)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from tsattn.checks import check_bool as _check_bool
from tsattn.checks import check_choice, check_nonnegative_int, short_repr
from tsattn.checks import check_positive_int as _check_positive
from tsattn.checks import check_real as _check_real
from tsattn.nn.probabilistic import DEFAULT_QUANTILES, LOSS_NAMES, check_quantiles
from tsattn.training.schedules import SCHEDULES

OPTIMIZERS = ("adam", "adamw")
TARGET_TRANSFORMS = ("none", "log")


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
            epoch), ``"type3_reference"`` (type3 as the PatchTST code really runs it: epoch 0
            at lr/25 and Adam's beta1 at 0.95, left there by its never-stepped OneCycleLR; the
            benchmark's ETTh/Weather presets) or ``"onecycle"`` (per batch, warm-up for
            ``pct_start`` of the steps) or ``"plateau"`` (lr halved after 3 epochs without a
            better validation loss; constant without validation data).
        pct_start: one-cycle warm-up fraction.
        patience: stop after this many epochs without a better validation loss (None: run
            all epochs). With validation data the best weights are always restored.
        grad_clip: clip the gradient norm to this value (None: no clipping).
        loss: a point loss, ``"mse"`` (the default) or ``"mae"``, or a probabilistic one
            that gives the network a distribution head (see :mod:`tsattn.nn.probabilistic`):
            ``"quantile"`` (mean pinball loss over ``quantiles``, which never cross; the
            point forecast is the median), ``"normal"`` or ``"studentt"`` (negative
            log-likelihood; the point forecast is the location). A network must be built
            with the same ``loss`` (the forecasters pass one option to both).
        quantiles: the quantile head's probabilities (``loss="quantile"`` only): distinct,
            in (0, 1), including 0.5. The default, 0.025, 0.05, 0.1, 0.2, ..., 0.9, 0.95,
            0.975, gives the 80%, 90% and 95% intervals straight from the head; other
            probabilities within its range are interpolated linearly.
        windows_per_epoch: a random subset of this many training windows per epoch (None:
            all), for speed on large data.
        target_transform: how a forecaster transforms each series before its scaling:
            ``"none"`` or ``"log"`` (trained on log values, forecasts mapped back with exp:
            errors become relative and a seasonal amplitude may grow with the level; every
            value must be positive). The window-level entry (``fit_arrays``) takes its arrays
            as they are.
        ensemble_size: train this many networks side by side (independently initialised,
            on the same batches, each with its own loss) and forecast with their mean (see
            :mod:`tsattn.nn.ensemble`); 1: one network. Training time grows with it.
        refit_full: after early stopping on the validation holdout, train a fresh network
            on every window, the holdout's included (the latest data), for as many steps as
            the kept epoch had taken, and forecast with it (AutoGluon's ``refit_full``).
            Training takes up to twice as long; the holdout's errors (and the intervals built
            on them) stay those of the first network, which had not seen it. Applies to a
            forecaster's ``fit`` with a holdout; the window-level entries ignore it.
        seed: seeds weight initialisation, shuffling and dropout.
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        bf16: bfloat16 autocast (for GPUs).
        compile: ``torch.compile`` the network for training. Off by default: on CPU
            (torch 2.13, 2 threads, the ETTh1 reference PatchTST) compiling took 72 s and
            made a step 0.85x of eager's in a paired run (``benchmarks/train_speed.py``),
            which pays only over thousands of steps.
        progress: show a tqdm progress bar over epochs.
        checkpoint_dir: write a training checkpoint (``last.pt``: weights, optimiser,
            schedule, early-stopping and RNG state, history) there atomically at the end of
            every epoch, which ``fit(..., resume=True)`` continues from (None: no checkpoints).

    Every field is checked on construction; a bad value is a ``ValueError`` naming the field
    and the value. Numpy scalars are stored as plain ``int`` / ``float`` / ``bool``.
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
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    windows_per_epoch: int | None = None
    target_transform: str = "none"
    ensemble_size: int = 1
    refit_full: bool = False
    seed: int = 0
    device: str = "auto"
    bf16: bool = False
    compile: bool = False
    progress: bool = True
    checkpoint_dir: str | None = None

    def __post_init__(self) -> None:
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("lr_schedule", self.lr_schedule, SCHEDULES)
        check_choice("loss", self.loss, LOSS_NAMES)
        check_choice("target_transform", self.target_transform, TARGET_TRANSFORMS)
        self._set("quantiles", check_quantiles(self.quantiles))
        self._check_integers()
        self._check_reals()
        for name in ("bf16", "compile", "progress", "refit_full"):
            self._set(name, _check_bool(name, getattr(self, name)))
        if not isinstance(self.device, str | torch.device):
            raise ValueError(
                f"device must be a string such as 'auto', 'cpu' or 'cuda', "
                f"got {short_repr(self.device)}"
            )
        resolve_device(self.device)
        if self.checkpoint_dir is not None:
            self._set("checkpoint_dir", _check_directory(self.checkpoint_dir))

    def _check_integers(self) -> None:
        """Counts are positive ints (None allowed where it means "no limit"), seed >= 0."""
        for name in ("batch_size", "max_epochs", "ensemble_size"):
            self._set(name, _check_positive(name, getattr(self, name)))
        for name in ("max_steps", "patience", "windows_per_epoch"):
            if getattr(self, name) is not None:
                self._set(name, _check_positive(name, getattr(self, name)))
        self._set("seed", check_nonnegative_int("seed", self.seed))

    def _check_reals(self) -> None:
        """lr > 0, weight_decay >= 0, grad_clip None or > 0, pct_start in (0, 1); finite."""
        self._set("lr", _check_real("lr", self.lr, "> 0", lambda v: v > 0))
        decay = _check_real("weight_decay", self.weight_decay, ">= 0", lambda v: v >= 0)
        self._set("weight_decay", decay)
        if self.grad_clip is not None:
            clip = _check_real("grad_clip", self.grad_clip, "> 0 (or None)", lambda v: v > 0)
            self._set("grad_clip", clip)
        self._set(
            "pct_start",
            _check_real("pct_start", self.pct_start, "in (0, 1)", lambda v: 0.0 < v < 1.0),
        )

    def _set(self, name: str, value: object) -> None:
        """Store a checked, normalised value (e.g. numpy scalars as int/float) on the frozen
        instance, so saved parameters stay plain JSON."""
        object.__setattr__(self, name, value)


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else is parsed by torch and
    must be present on this machine.

    Raises:
        ValueError: not a device name, or a device this build or machine does not have
            (e.g. ``"cuda"`` on a CPU-only build, ``"cuda:3"`` with two GPUs).
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        message = f"invalid device {short_repr(device)} ({err}); use 'auto', 'cpu' or 'cuda'"
        raise ValueError(message) from None
    _check_available(resolved)
    return resolved


def _check_available(device: torch.device) -> None:
    """A ``ValueError`` unless ``device`` exists here (CPU always does)."""
    if device.type == "cpu":
        return
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if device.index is None and count or device.index is not None and device.index < count:
            return
        have = f"{count} CUDA device(s)" if count else "no CUDA device (or a CPU-only torch)"
        raise ValueError(
            f"device {str(device)!r} is not available: this machine has {have}; "
            f"use device='auto' or 'cpu'"
        )
    if device.type == "mps" and torch.backends.mps.is_available():
        return
    raise ValueError(
        f"device {str(device)!r} is not available on this machine; use device='auto', "
        f"'cpu' or 'cuda'"
    )


def _check_directory(path: object) -> str:
    """A directory option as a plain string (a Path is accepted; saved models hold str)."""
    try:
        text = os.fspath(path)
    except TypeError:
        raise ValueError(f"checkpoint_dir must be a path, got {path!r}") from None
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"checkpoint_dir must be a non-empty path, got {path!r}")
    return text
