"""Learning-rate schedules of the training engine.

* ``"constant"``: the configured lr throughout.
* ``"type3"``: the reference PatchTST schedule (its ``adjust_learning_rate`` with
  ``lradj="type3"``): epoch ``e`` (0-based) trains with ``lr`` if ``e < 3`` else
  ``lr * 0.9 ** (e - 3)``, so epochs 0-3 use lr, epoch 4 uses 0.9 lr, epoch 5 0.81 lr...
* ``"type3_reference"``: "type3" as the reference code actually runs it. PatchTST's
  ``exp_main.py`` builds a ``OneCycleLR`` whatever ``lradj`` is and steps it only under
  ``lradj="TST"``; its constructor alone sets the optimiser's lr to ``max_lr / div_factor``
  = lr / 25 and Adam's beta1 to ``max_momentum`` = 0.95. ``adjust_learning_rate`` first runs
  after epoch 0, so epoch 0 trains at lr / 25 (4e-6 for lr 1e-4), epochs 1-3 at lr, then
  x0.9 per epoch, and beta1 stays 0.95 for the whole run. A quirk of the reference, kept
  only in the literature preset (``tsattn.benchmark.reference``); ``"type3"`` stays the
  clean schedule.
* ``"onecycle"``: ``torch.optim.lr_scheduler.OneCycleLR`` stepped per batch (the reference's
  ``lradj="TST"``), warming up for ``pct_start`` of the steps.
* ``"plateau"``: the configured lr, halved whenever :data:`PLATEAU_EPOCHS` epochs in a row
  bring no better validation loss (``torch.optim.lr_scheduler.ReduceLROnPlateau``); without
  validation data it stays constant. With early stopping it lets a run settle at a lower lr
  before its patience runs out.

>>> [round(type3_lr(1.0, e), 4) for e in range(6)]
[1.0, 1.0, 1.0, 1.0, 0.9, 0.81]
>>> [round(type3_reference_lr(1.0, e), 4) for e in range(6)]
[0.04, 1.0, 1.0, 1.0, 0.9, 0.81]
"""

from __future__ import annotations

import torch

SCHEDULES = ("constant", "type3", "type3_reference", "onecycle", "plateau")
#: "plateau": epochs without a better validation loss before the lr is halved
PLATEAU_EPOCHS = 3
PLATEAU_FACTOR = 0.5

#: torch's ``OneCycleLR`` defaults that the reference's unstepped scheduler leaves in place
ONECYCLE_DIV_FACTOR = 25.0
ONECYCLE_MAX_MOMENTUM = 0.95


def type3_lr(lr: float, epoch: int) -> float:
    """The reference "type3" learning rate of 0-based ``epoch``."""
    return lr if epoch < 3 else lr * 0.9 ** ((epoch - 3) // 1)


def type3_reference_lr(lr: float, epoch: int) -> float:
    """The learning rate the reference code trains 0-based ``epoch`` with under "type3":
    lr / 25 in epoch 0 (set by the OneCycleLR constructor), :func:`type3_lr` afterwards."""
    return lr / ONECYCLE_DIV_FACTOR if epoch == 0 else type3_lr(lr, epoch)


class LRSchedule:
    """Sets the optimiser's learning rate at each epoch start, after each batch and after
    each validation."""

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        kind: str,
        lr: float,
        total_steps: int,
        pct_start: float = 0.3,
    ):
        if kind not in SCHEDULES:
            raise ValueError(f"unknown lr_schedule {kind!r}; valid: {', '.join(SCHEDULES)}")
        self.optimizer, self.kind, self.lr = optimizer, kind, lr
        self._onecycle = None
        self._plateau = None
        if kind == "plateau":  # torch counts "patience" bad epochs, then cuts on the next
            self._plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, factor=PLATEAU_FACTOR, patience=PLATEAU_EPOCHS - 1, threshold=0.0
            )
        if kind == "onecycle":
            self._onecycle = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=lr, total_steps=max(total_steps, 1), pct_start=pct_start
            )
        if kind == "type3_reference":
            self._set_beta1(ONECYCLE_MAX_MOMENTUM)
        self._set(lr)

    def start_epoch(self, epoch: int) -> None:
        if self.kind == "type3":
            self._set(type3_lr(self.lr, epoch))
        elif self.kind == "type3_reference":
            self._set(type3_reference_lr(self.lr, epoch))

    def after_batch(self) -> None:
        if self._onecycle is not None and self._onecycle.last_epoch < self._onecycle.total_steps:
            self._onecycle.step()

    def after_validation(self, val_loss: float) -> None:
        """``"plateau"``: count the epoch's validation loss (the lr may be halved)."""
        if self._plateau is not None:
            self._plateau.step(val_loss)

    def state_dict(self) -> dict:
        """What a checkpoint needs: the one-cycle scheduler's position and the plateau
        counter with the lr it reached (the other schedules are set from the epoch alone)."""
        state = {"onecycle": self._onecycle.state_dict() if self._onecycle is not None else None}
        if self._plateau is not None:  # only then: other schedules' checkpoints keep their shape
            state["plateau"] = self._plateau.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        if self._onecycle is not None and state.get("onecycle") is not None:
            self._onecycle.load_state_dict(state["onecycle"])
        if self._plateau is not None and state.get("plateau") is not None:
            self._plateau.load_state_dict(state["plateau"])

    @property
    def current(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _set(self, lr: float) -> None:
        if self._onecycle is not None:
            return
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def _set_beta1(self, beta1: float) -> None:
        """Adam's beta1 (or SGD's momentum), as OneCycleLR's constructor sets it."""
        for group in self.optimizer.param_groups:
            if "betas" in group:
                group["betas"] = (beta1, *group["betas"][1:])
            elif "momentum" in group:
                group["momentum"] = beta1
