"""The one training engine of every tsattn network.

A network maps (B, L, C) inputs to (B, H, C) forecasts; :func:`fit_network` trains it on
:class:`~tsattn.models.windowing.WindowSet` windows with one :class:`TrainingConfig`.
:func:`train_network` and :func:`predict_windows` do the same on plain (T, C) arrays, for the
benchmark runner (pre-split, standardized data).

>>> import numpy as np
>>> from tsattn.models.linear import NLinearNetwork, NLinearConfig
>>> net = NLinearNetwork(NLinearConfig(input_size=24, horizon=6))
>>> data = np.sin(np.arange(300) / 4.0)[:, None]
>>> config = TrainingConfig(max_epochs=2, lr=1e-2, batch_size=64, progress=False)
>>> result = train_network(net, data[:240], data[216:], 24, 6, config)
>>> len(result.history), result.best_epoch in (0, 1)
(2, True)
>>> predict_windows(net, data[216:], 24, 6).shape
(55, 6, 1)
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from tsattn.models.schedules import SCHEDULES, LRSchedule
from tsattn.models.training_config import TrainingConfig, resolve_device
from tsattn.models.windowing import WindowSet, split_array_windows

logger = logging.getLogger(__name__)
LOSSES = {"mse": nn.functional.mse_loss, "mae": nn.functional.l1_loss}

__all__ = [
    "SCHEDULES",
    "EpochStats",
    "TrainResult",
    "TrainingConfig",
    "fit_network",
    "predict_windows",
    "train_network",
]


@dataclass(frozen=True)
class EpochStats:
    """One epoch: mean training loss, validation loss (None without validation), the
    learning rate at the epoch's end, wall-clock seconds, and optimiser steps so far."""

    epoch: int
    train_loss: float
    val_loss: float | None
    lr: float
    seconds: float
    steps: int


@dataclass
class TrainResult:
    """Per-epoch history and the epoch whose weights were kept (the best validation loss,
    or the last epoch without validation)."""

    history: list[EpochStats] = field(default_factory=list)
    best_epoch: int = -1

    def to_dict(self) -> dict:
        return {"best_epoch": self.best_epoch, "history": [vars(e) for e in self.history]}


class BestWeights:
    """Keeps a copy of the weights with the lowest validation loss; counts patience."""

    def __init__(self, patience: int | None):
        self.patience, self.best_loss, self.best_epoch = patience, float("inf"), -1
        self.state: dict[str, Tensor] | None = None
        self.bad_epochs = 0

    def update(self, network: nn.Module, epoch: int, val_loss: float) -> bool:
        """Record the epoch; True when training should stop (patience exhausted)."""
        if val_loss < self.best_loss:
            self.best_loss, self.best_epoch, self.bad_epochs = val_loss, epoch, 0
            self.state = {k: v.detach().clone() for k, v in network.state_dict().items()}
            return False
        self.bad_epochs += 1
        return self.patience is not None and self.bad_epochs >= self.patience

    def restore(self, network: nn.Module) -> None:
        if self.state is not None:
            network.load_state_dict(self.state)


def fit_network(
    network: nn.Module, train: WindowSet, val: WindowSet | None, config: TrainingConfig
) -> TrainResult:
    """Train ``network`` in place; with ``val``, restore the best validation weights."""
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    network.to(device)
    train, val = train.to(device), (val.to(device) if val is not None else None)
    model = torch.compile(network) if config.compile else network
    optimizer = _make_optimizer(network, config)
    n_windows = min(len(train), config.windows_per_epoch or len(train))
    steps_per_epoch = -(-n_windows // config.batch_size)
    total_steps = config.max_epochs * steps_per_epoch
    total_steps = min(total_steps, config.max_steps or total_steps)
    schedule = LRSchedule(optimizer, config.lr_schedule, config.lr, total_steps, config.pct_start)
    generator = torch.Generator().manual_seed(config.seed)
    best, result, steps = BestWeights(config.patience), TrainResult(), 0
    bar = tqdm(range(config.max_epochs), desc="training", disable=not config.progress)
    for epoch in bar:
        start = time.perf_counter()
        schedule.start_epoch(epoch)
        order = torch.randperm(len(train), generator=generator)[:n_windows]
        train_loss, steps = _train_epoch(model, optimizer, schedule, train, order, steps, config)
        val_loss = evaluate_loss(model, val, config) if val is not None else None
        stats = EpochStats(
            epoch, train_loss, val_loss, schedule.current, time.perf_counter() - start, steps
        )
        result.history.append(stats)
        _report(bar, stats)
        stop = val_loss is not None and best.update(network, epoch, val_loss)
        if stop or (config.max_steps is not None and steps >= config.max_steps):
            break
    bar.close()
    best.restore(network)
    result.best_epoch = best.best_epoch if val is not None else len(result.history) - 1
    network.eval()
    return result


def _train_epoch(model, optimizer, schedule, train, order, steps, config) -> tuple[float, int]:
    """One pass over the windows ``order`` in batches; returns (mean loss, steps so far)."""
    model.train()
    loss_fn, total, count = LOSSES[config.loss], 0.0, 0
    for batch in order.split(config.batch_size):
        if config.max_steps is not None and steps >= config.max_steps:
            break
        inputs, targets = train.gather(batch)  # (B, L, C), (B, H, C)
        with _autocast(targets.device, config.bf16):
            forecast = model(inputs)  # (B, H, C)
        loss = loss_fn(forecast.float(), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        schedule.after_batch()
        total, count, steps = total + loss.item() * len(batch), count + len(batch), steps + 1
    return total / max(count, 1), steps


@torch.no_grad()
def evaluate_loss(model: nn.Module, windows: WindowSet, config: TrainingConfig) -> float:
    """Mean loss over every window, in eval mode."""
    model.eval()
    loss_fn, total = LOSSES[config.loss], 0.0
    for batch in torch.arange(len(windows)).split(config.batch_size):
        inputs, targets = windows.gather(batch)
        with _autocast(targets.device, config.bf16):
            forecast = model(inputs)
        total += loss_fn(forecast.float(), targets, reduction="sum").item()
    return total / max(len(windows) * windows.horizon * windows.n_channels, 1)


def train_network(
    network: nn.Module,
    train: np.ndarray,
    val: np.ndarray | None,
    input_size: int,
    horizon: int,
    config: TrainingConfig | None = None,
) -> TrainResult:
    """Train on pre-split arrays: ``train`` (T_train, C) and optionally ``val`` (T_val, C),
    whose first ``input_size`` rows are the lookback of its first window (the literature
    protocol). Every stride-1 window is used; training windows are shuffled."""
    config = config or TrainingConfig()
    train_set, _ = split_array_windows(train, input_size, horizon)
    val_set = WindowSet.from_array(val, input_size, horizon) if val is not None else None
    return fit_network(network, train_set, val_set, config)


@torch.no_grad()
def predict_windows(
    network: nn.Module,
    array: np.ndarray,
    input_size: int,
    horizon: int,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    legacy_drop_last: bool = False,
) -> np.ndarray:
    """Forecast every stride-1 window of a (T, C) array -> (n_windows, horizon, C).

    ``legacy_drop_last`` drops the last incomplete batch of ``batch_size`` windows, as the
    reference PatchTST test loader does, to reproduce published numbers.
    """
    device = resolve_device(device or next(network.parameters()).device.type)
    network.to(device).eval()
    windows = WindowSet.from_array(array, input_size, horizon).to(device)
    n = len(windows) - len(windows) % batch_size if legacy_drop_last else len(windows)
    outputs = [
        network(windows.gather(batch)[0]).float().cpu()  # (B, H, C)
        for batch in torch.arange(n).split(batch_size)
    ]
    if not outputs:
        return np.zeros((0, horizon, windows.n_channels), dtype=np.float32)
    return torch.cat(outputs).numpy()


def _make_optimizer(network: nn.Module, config: TrainingConfig) -> torch.optim.Optimizer:
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return cls(network.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def _autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _report(bar, stats: EpochStats) -> None:
    shown = {"train": f"{stats.train_loss:.4f}", "lr": f"{stats.lr:.2e}"}
    if stats.val_loss is not None:
        shown["val"] = f"{stats.val_loss:.4f}"
    bar.set_postfix(shown)
    logger.info("epoch %d: %s (%.1fs)", stats.epoch, shown, stats.seconds)
