"""The one training engine of every tsattn network.

A network maps (B, L, C) inputs to (B, H, C) forecasts, or with a probabilistic loss to
(B, H, C, K) parameters of its ``output_head`` (see :mod:`tsattn.nn.probabilistic`), which
then gives the loss and the point forecast; :func:`fit_network` trains it on
:class:`~tsattn.training.windows.WindowSet` windows with one :class:`TrainingConfig`.
:func:`train_network` and :func:`predict_windows` do the same on plain (T, C) arrays
(pre-split, standardized data: the benchmark's protocol). :func:`forecast_batches` is the one
batched inference loop, used by every forecaster and by :func:`predict_windows` (point
forecasts); :func:`forecast_quantiles` gives a probabilistic network's quantiles.

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
import dataclasses
import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from tsattn.checks import check_positive_int
from tsattn.datasets.windows import evaluated_windows, window_view
from tsattn.nn.ensemble import NetworkEnsemble, member_parameters
from tsattn.nn.probabilistic import DistributionHead, make_head
from tsattn.training.checkpoint import restore_rng, start_checkpoints, write_checkpoint
from tsattn.training.checkpoint_checks import FreshRun, describe_network
from tsattn.training.config import TrainingConfig, resolve_device
from tsattn.training.distributed import DistContext, all_reduce_sums, init_distributed, wrap_network
from tsattn.training.schedules import SCHEDULES, LRSchedule
from tsattn.training.windows import WindowSampler, WindowSet, split_array_windows

logger = logging.getLogger(__name__)
LOSSES = {"mse": nn.functional.mse_loss, "mae": nn.functional.l1_loss}

__all__ = [
    "SCHEDULES",
    "EpochStats",
    "TrainResult",
    "TrainingConfig",
    "fit_network",
    "forecast_batches",
    "forecast_quantiles",
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

    def state_dict(self) -> dict:
        return {
            "best_loss": self.best_loss,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "weights": self.state,
        }

    def load_state_dict(self, state: dict) -> None:
        self.best_loss, self.best_epoch = state["best_loss"], state["best_epoch"]
        self.bad_epochs, self.state = state["bad_epochs"], state["weights"]


class Progress:
    """The training bar, counted in the unit that ends the run, with a true total.

    When ``max_steps`` ends the run before ``max_epochs`` would, the bar counts optimiser
    steps (total ``max_steps``) and shows the epoch beside them; otherwise it counts epochs
    (total ``max_epochs``). Early stopping may still end a run before the total. The bar's
    description is ``label`` (the model's name), else ``"training"``; only the main rank of a
    DDP run shows it, and only with ``config.progress``.

    >>> config = TrainingConfig(max_epochs=100, max_steps=30, progress=False)
    >>> Progress.plan(config, steps_per_epoch=4)
    ('steps', 30)
    >>> Progress.plan(TrainingConfig(max_epochs=5, max_steps=30), steps_per_epoch=4)
    ('epochs', 5)
    """

    def __init__(self, unit: str, total: int, per_epoch: int, main: bool, bar: tqdm):
        self.unit, self.total, self.main, self.bar = unit, total, main, bar
        self._epochs = math.ceil(total / per_epoch) if unit == "steps" else total

    @staticmethod
    def plan(config: TrainingConfig, steps_per_epoch: int) -> tuple[str, int]:
        """``(unit, total)``: ``("steps", max_steps)`` when the step budget binds, else
        ``("epochs", max_epochs)``."""
        epoch_steps = config.max_epochs * steps_per_epoch
        if config.max_steps is not None and config.max_steps < epoch_steps:
            return "steps", config.max_steps
        return "epochs", config.max_epochs

    @classmethod
    def start(cls, run: TrainRun, label: str | None) -> Progress:
        """The bar of ``run`` (a resumed run starts at its steps or epochs done)."""
        per_epoch = run.sampler.steps_per_epoch
        unit, total = cls.plan(run.config, per_epoch)
        initial = min(run.steps if unit == "steps" else run.epoch, total)
        show = run.config.progress and run.ctx.is_main
        desc = label or "training"
        bar = tqdm(total=total, initial=initial, desc=desc, unit=unit[:-1], disable=not show)
        return cls(unit, total, per_epoch, run.ctx.is_main, bar)

    def step_done(self, steps: int) -> None:
        """After each optimiser step (a step bar moves to ``steps``)."""
        if self.unit == "steps":
            self.bar.update(steps - self.bar.n)

    def epoch_done(self, stats: EpochStats, steps: int) -> None:
        """After each epoch: an epoch bar moves by one; both show the losses."""
        if self.unit == "epochs":
            self.bar.update(1)
        shown = {"train": f"{stats.train_loss:.4f}", "lr": f"{stats.lr:.2e}"}
        if stats.val_loss is not None:
            shown["val"] = f"{stats.val_loss:.4f}"
        if self.unit == "steps":
            shown = {"epoch": f"{stats.epoch + 1}/{self._epochs}", **shown}
        self.bar.set_postfix(shown)
        if self.main:
            logger.info("epoch %d (%d steps): %s (%.1fs)", stats.epoch, steps, shown, stats.seconds)

    def close(self) -> None:
        self.bar.close()


@dataclass
class TrainRun:
    """The mutable state of one :func:`fit_network` call: what a checkpoint saves.

    ``network`` is the bare module (its weights are what is saved); ``model`` is what the
    training steps call (``network`` wrapped in DDP and/or compiled); ``eval_model`` what the
    validation calls (the bare network on a DDP run, so no rank waits on another).
    ``epoch`` counts the epochs done, i.e. is the next epoch to run. ``data`` identifies the
    training and validation windows (see :meth:`WindowSet.fingerprint`), so that a resumed
    run can refuse other data.
    """

    network: nn.Module
    model: nn.Module
    eval_model: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: LRSchedule
    sampler: WindowSampler
    ctx: DistContext
    config: TrainingConfig
    best: BestWeights
    result: TrainResult = field(default_factory=TrainResult)
    epoch: int = 0
    steps: int = 0
    stopped: bool = False
    data: dict = field(default_factory=dict)
    progress: Progress | None = None

    def state_dict(self) -> dict:
        """What a checkpoint saves, as plain tensors and values: every field of
        :data:`~tsattn.training.checkpoint_checks.STATE_FIELDS` but ``"rng"`` (which
        :func:`~tsattn.training.checkpoint.write_checkpoint` gathers from every rank)."""
        return {
            "epoch": self.epoch,
            "steps": self.steps,
            "stopped": self.stopped,
            "history": [vars(e) for e in self.result.history],
            "network": self.network.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "best": self.best.state_dict(),
            "sampler": self.sampler.generator.get_state(),
            "world_size": self.ctx.world_size,
            "config": dataclasses.asdict(self.config),
            "data": self.data,
            "network_options": describe_network(self.network),
        }

    def fresh(self) -> FreshRun:
        """This run as a checkpoint is checked against it: its state and the optimiser's
        parameters (see :func:`~tsattn.training.checkpoint_checks.check_resumable`)."""
        params = (p for group in self.optimizer.param_groups for p in group["params"])
        return FreshRun(self.state_dict(), tuple(p.detach() for p in params))

    def load_state_dict(self, state: dict) -> None:
        """Continue from a checkpoint (checked by
        :func:`~tsattn.training.checkpoint_checks.check_resumable`): weights, optimiser,
        schedule, RNG, counters."""
        try:
            self.network.load_state_dict(state["network"])
        except RuntimeError as err:
            raise ValueError(f"the checkpoint is for a different network: {err}") from None
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.best.load_state_dict(state["best"])
        self.sampler.generator.set_state(state["sampler"])
        self.result.history = [EpochStats(**e) for e in state["history"]]
        self.epoch, self.steps, self.stopped = state["epoch"], state["steps"], state["stopped"]
        rng = state["rng"]
        restore_rng(rng[self.ctx.rank if self.ctx.rank < len(rng) else 0], self.ctx.device)


def fit_network(
    network: nn.Module,
    train: WindowSet,
    val: WindowSet | None,
    config: TrainingConfig,
    resume: bool = False,
    label: str | None = None,
) -> TrainResult:
    """Train ``network`` in place; with ``val``, restore the best validation weights.

    Under ``torchrun`` (``WORLD_SIZE > 1``) every rank calls this with the same data and
    trains data-parallel: ``batch_size`` windows per rank and step (see
    :class:`~tsattn.training.windows.WindowSampler`), losses all-reduced, rank 0 logging and
    writing checkpoints. With ``config.checkpoint_dir`` a checkpoint is written after every
    epoch; ``resume=True`` continues from it (and starts afresh when there is none).
    ``label`` (e.g. the forecaster's name) heads the progress bar (see :class:`Progress`).

    Raises:
        ValueError: training diverged (a non-finite loss or weights), the checkpoint folder
            cannot hold checkpoints, or the checkpoint cannot be resumed (see
            :func:`~tsattn.training.checkpoint_checks.check_resumable`).
    """
    run = _start_run(network, len(train), config)
    if config.checkpoint_dir is not None:  # hashed on the CPU, before any move
        val_data = None if val is None else val.fingerprint()
        run.data = {"train": train.fingerprint(), "val": val_data}
    train, val = train.to(run.ctx.device), (val.to(run.ctx.device) if val is not None else None)
    saved = start_checkpoints(config, run.ctx, run.fresh(), resume)
    if saved is not None:
        run.load_state_dict(saved)
    run.progress = Progress.start(run, label)
    while run.epoch < config.max_epochs and not run.stopped:
        stats = _run_epoch(run, train, val)
        write_checkpoint(config, run.ctx, run.state_dict())
        run.progress.epoch_done(stats, run.steps)
    run.progress.close()
    run.best.restore(network)
    run.result.best_epoch = run.best.best_epoch if val is not None else run.epoch - 1
    network.eval()
    return run.result


def _start_run(network: nn.Module, n_train: int, config: TrainingConfig) -> TrainRun:
    """Device, DDP wrapping, sampler, optimiser and schedule of a fresh run."""
    check_output_head(network, config)
    ctx = init_distributed(config.device)
    torch.manual_seed(config.seed + ctx.rank)  # rank 0 = a single process; ranks differ
    network.to(ctx.device)
    model = wrap_network(network, ctx)
    model = torch.compile(model) if config.compile else model
    n_windows = min(n_train, config.windows_per_epoch or n_train)
    sampler = WindowSampler(
        n_train, n_windows, config.batch_size, ctx.rank, ctx.world_size, config.seed
    )
    total_steps = config.max_epochs * sampler.steps_per_epoch
    total_steps = min(total_steps, config.max_steps or total_steps)
    optimizer = _make_optimizer(network, config)
    schedule = LRSchedule(optimizer, config.lr_schedule, config.lr, total_steps, config.pct_start)
    eval_model = network if ctx.is_distributed else model
    best = BestWeights(config.patience)
    return TrainRun(network, model, eval_model, optimizer, schedule, sampler, ctx, config, best)


def _run_epoch(run: TrainRun, train: WindowSet, val: WindowSet | None) -> EpochStats:
    """Train epoch ``run.epoch``, validate, update early stopping; returns its stats."""
    start = time.perf_counter()
    run.schedule.start_epoch(run.epoch)
    train_loss = _train_epoch(run, train)
    val_loss = None if val is None else evaluate_loss(run.eval_model, val, run.config, run.ctx)
    _check_diverged(run, train_loss, val_loss)
    seconds = time.perf_counter() - start
    stats = EpochStats(run.epoch, train_loss, val_loss, run.schedule.current, seconds, run.steps)
    run.result.history.append(stats)
    if val_loss is not None:
        run.schedule.after_validation(val_loss)
    patience_out = val_loss is not None and run.best.update(run.network, run.epoch, val_loss)
    max_steps = run.config.max_steps
    run.stopped = patience_out or (max_steps is not None and run.steps >= max_steps)
    run.epoch += 1
    return stats


def _check_diverged(run: TrainRun, train_loss: float, val_loss: float | None) -> None:
    """Stop with an error when epoch ``run.epoch`` diverged (a non-finite loss or weights):
    carrying on would only produce NaN forecasts."""
    if not math.isfinite(train_loss):
        problem = f"the training loss is {train_loss}"
    elif val_loss is not None and not math.isfinite(val_loss):
        problem = f"the validation loss is {val_loss}"
    elif val_loss is None and not _finite_weights(run.network):
        problem = "the weights are not finite"
    else:
        return
    raise ValueError(
        f"training diverged at epoch {run.epoch}: {problem}; lower the learning rate "
        f"(lr={run.config.lr:g}), set grad_clip, or check the data for extreme values"
    )


def _finite_weights(network: nn.Module) -> bool:
    """Whether every floating-point parameter is finite (one device sync)."""
    checks = [torch.isfinite(p).all() for p in network.parameters() if p.is_floating_point()]
    return bool(torch.stack(checks).all()) if checks else True


def _train_epoch(run: TrainRun, train: WindowSet) -> float:
    """One pass over this rank's batches; returns the mean loss over all ranks' windows."""
    run.model.train()
    max_steps = run.config.max_steps
    total, count = torch.zeros((), device=run.ctx.device), 0  # summed on the device: no sync
    for batch in run.sampler.epoch_batches():
        if max_steps is not None and run.steps >= max_steps:
            break
        loss = _train_step(run, *train.gather(batch))  # (B, L, C), (B, H, C)
        total, count = total + loss.detach() * len(batch), count + len(batch)
        run.steps += 1
        if run.progress is not None:
            run.progress.step_done(run.steps)
    total, count = all_reduce_sums(run.ctx, [total.item(), float(count)])
    return total / max(count, 1)


def _train_step(run: TrainRun, inputs: Tensor, targets: Tensor) -> Tensor:
    """Forward, loss, backward (gradients all-reduced under DDP), clip, step; the loss."""
    with _autocast(targets.device, run.config.bf16):
        forecast = run.model(inputs)  # (B, H, C), or (B, H, C, K) with a head
    if not isinstance(run.network, NetworkEnsemble):
        forecast = forecast[None]  # one member: (1, B, H, C[, K])
    # each member its own loss on the same batch; summed, so no gradients mix
    losses = torch.stack([_batch_loss(run, member, targets) for member in forecast])  # (M,)
    run.optimizer.zero_grad(set_to_none=True)
    losses.sum().backward()
    if run.config.grad_clip is not None:
        for parameters in member_parameters(run.network):
            nn.utils.clip_grad_norm_(parameters, run.config.grad_clip)
    run.optimizer.step()
    run.schedule.after_batch()
    return losses.mean()


def _batch_loss(run: TrainRun, forecast: Tensor, targets: Tensor) -> Tensor:
    """The training loss of one network's ``forecast`` (B, H, C[, K]) on ``targets``."""
    head = output_head(run.network)
    if head is None:
        return LOSSES[run.config.loss](forecast.float(), targets)
    return head.loss(forecast.float(), targets).mean()


@torch.no_grad()
def evaluate_loss(
    model: nn.Module,
    windows: WindowSet,
    config: TrainingConfig,
    ctx: DistContext | None = None,
) -> float:
    """Mean loss over every window, in eval mode. On a DDP run (``ctx``) each rank scores
    windows ``rank::world_size`` and the sums are all-reduced, so all ranks agree."""
    ctx = ctx or DistContext(windows.values.device)
    model.eval()
    head = make_head(config.loss, config.quantiles)
    loss_fn, total = LOSSES.get(config.loss), 0.0
    index = torch.arange(len(windows))[ctx.rank :: ctx.world_size]
    for batch in index.split(config.batch_size):
        inputs, targets = windows.gather(batch)
        with _autocast(targets.device, config.bf16):
            forecast = model(inputs)  # (B, H, C), or (B, H, C, K) with a head
        if head is None:
            total += loss_fn(forecast.float(), targets, reduction="sum").item()
        else:
            total += head.loss(forecast.float(), targets).sum().item()
    total, count = all_reduce_sums(ctx, [total, float(len(index))])
    return total / max(count * windows.horizon * windows.n_channels, 1)


def train_network(
    network: nn.Module,
    train: np.ndarray,
    val: np.ndarray | None,
    input_size: int,
    horizon: int,
    config: TrainingConfig | None = None,
    resume: bool = False,
    label: str | None = None,
) -> TrainResult:
    """Train on pre-split arrays: ``train`` (T_train, C) and optionally ``val`` (T_val, C),
    whose first ``input_size`` rows are the lookback of its first window (the literature
    protocol). Every stride-1 window is used; training windows are shuffled. ``resume`` and
    ``label``: as :func:`fit_network`."""
    config = config or TrainingConfig()
    train_set, _ = split_array_windows(train, input_size, horizon)
    val_set = WindowSet.from_array(val, input_size, horizon) if val is not None else None
    return fit_network(network, train_set, val_set, config, resume=resume, label=label)


def output_head(network: nn.Module) -> DistributionHead | None:
    """The distribution head of a network trained with a probabilistic loss (else None)."""
    return getattr(network, "output_head", None)


def check_output_head(network: nn.Module, config: TrainingConfig) -> None:
    """A ``ValueError`` unless the network's outputs fit ``config.loss``: a point network
    for ``"mse"`` / ``"mae"``, a head of that loss (and quantiles) otherwise."""
    head, wanted = output_head(network), make_head(config.loss, config.quantiles)
    have = "point" if head is None else head.name
    need = "point" if wanted is None else wanted.name
    same_quantiles = getattr(head, "probs", None) == getattr(wanted, "probs", None)
    if have != need or not same_quantiles:
        raise ValueError(
            f"the network has a {have} output but the training loss is {config.loss!r}: "
            f"build the network with the same loss (and quantiles) as the TrainingConfig"
        )


@torch.no_grad()
def forecast_batches(network: nn.Module, inputs: np.ndarray, batch_size: int) -> np.ndarray:
    """The one batched inference loop: (B, L, C) windows -> (B, H, C) float32 forecasts
    (a probabilistic network's point forecast: the median or the location).

    ``batch_size`` windows per forward pass, in eval mode, on the network's device; the
    inputs may be a strided view (each batch is copied to the device as float32).
    """
    head = output_head(network)
    point = None if head is None else head.point
    return _forward_batches(network, inputs, batch_size, point)


def forecast_quantiles(
    network: nn.Module, inputs: np.ndarray, probs: np.ndarray, batch_size: int
) -> np.ndarray:
    """A probabilistic network's quantiles: (B, L, C) windows -> (B, H, C, len(probs))
    float64, in the scale of the inputs, non-decreasing in ``probs`` (sorted, in (0, 1)).

    Raises:
        ValueError: the network has no distribution head, or (quantile head) a probability
            lies outside the head's quantiles.
    """
    head = output_head(network)
    if head is None:
        raise ValueError("the network was trained with a point loss: it has no quantiles")
    probs = np.asarray(probs, dtype=np.float64)  # (Q,)
    head.check_probs(probs)
    params = _forward_batches(network, inputs, batch_size, None)  # (B, H, C, K)
    return head.quantiles(params.astype(np.float64), probs)  # (B, H, C, Q)


@torch.no_grad()
def _forward_batches(network: nn.Module, inputs: np.ndarray, batch_size: int, reduce) -> np.ndarray:
    """The network's outputs on every window, batched; ``reduce`` maps each batch's output
    (e.g. parameters to a point forecast) before it leaves the device."""
    check_positive_int("batch_size", batch_size)
    if len(inputs) == 0:
        raise ValueError("no windows to forecast: inputs has shape (0, ...)")
    network.eval()
    device = next(network.parameters()).device
    outputs = []
    for start in range(0, len(inputs), batch_size):
        chunk = np.ascontiguousarray(inputs[start : start + batch_size])  # (b, L, C)
        x = torch.as_tensor(chunk, dtype=torch.float32, device=device)
        output = network(x)  # (b, H, C), or (b, H, C, K) with a head
        if reduce is not None:
            output = reduce(output)  # (b, H, C)
        outputs.append(output.float().cpu())
    return torch.cat(outputs).numpy()


def predict_windows(
    network: nn.Module,
    array: np.ndarray,
    input_size: int,
    horizon: int,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    legacy_drop_last: int | None = None,
) -> np.ndarray:
    """Forecast every stride-1 window of a (T, C) array -> (n_windows, horizon, C).

    ``legacy_drop_last=<batch size>`` drops the windows that do not fill a last batch of
    that size, as the reference PatchTST test loader does (see
    :func:`~tsattn.datasets.windows.evaluated_windows`), to reproduce published numbers.
    """
    device = resolve_device(device or next(network.parameters()).device.type)
    network.to(device)
    view = window_view(array, input_size, horizon)
    n = evaluated_windows(len(view.inputs), legacy_drop_last)
    if n == 0:  # legacy mode with fewer windows than one batch
        return np.zeros((0, horizon, array.shape[1]), dtype=np.float32)
    return forecast_batches(network, view.inputs[:n], batch_size)  # (n, H, C)


def _make_optimizer(network: nn.Module, config: TrainingConfig) -> torch.optim.Optimizer:
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return cls(network.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def _autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
