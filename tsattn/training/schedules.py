"""Learning-rate schedules of the training engine.

* ``"constant"``: the configured lr throughout.
* ``"type3"``: the reference PatchTST schedule (its ``adjust_learning_rate`` with
  ``lradj="type3"``): epoch ``e`` (0-based) trains with ``lr`` if ``e < 3`` else
  ``lr * 0.9 ** (e - 3)``, so epochs 0-3 use lr, epoch 4 uses 0.9 lr, epoch 5 0.81 lr...
* ``"onecycle"``: ``torch.optim.lr_scheduler.OneCycleLR`` stepped per batch (the reference's
  ``lradj="TST"``), warming up for ``pct_start`` of the steps.

>>> [round(type3_lr(1.0, e), 4) for e in range(6)]
[1.0, 1.0, 1.0, 1.0, 0.9, 0.81]
"""

from __future__ import annotations

import torch

SCHEDULES = ("constant", "type3", "onecycle")


def type3_lr(lr: float, epoch: int) -> float:
    """The reference "type3" learning rate of 0-based ``epoch``."""
    return lr if epoch < 3 else lr * 0.9 ** ((epoch - 3) // 1)


class LRSchedule:
    """Sets the optimiser's learning rate at each epoch start and after each batch."""

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
        if kind == "onecycle":
            self._onecycle = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=lr, total_steps=max(total_steps, 1), pct_start=pct_start
            )
        self._set(lr)

    def start_epoch(self, epoch: int) -> None:
        if self.kind == "type3":
            self._set(type3_lr(self.lr, epoch))

    def after_batch(self) -> None:
        if self._onecycle is not None and self._onecycle.last_epoch < self._onecycle.total_steps:
            self._onecycle.step()

    def state_dict(self) -> dict:
        """What a checkpoint needs: the one-cycle scheduler's position (the other schedules
        are set from the epoch alone)."""
        return {"onecycle": self._onecycle.state_dict() if self._onecycle is not None else None}

    def load_state_dict(self, state: dict) -> None:
        if self._onecycle is not None and state.get("onecycle") is not None:
            self._onecycle.load_state_dict(state["onecycle"])

    @property
    def current(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _set(self, lr: float) -> None:
        if self._onecycle is not None:
            return
        for group in self.optimizer.param_groups:
            group["lr"] = lr
