"""Data-parallel training through ``torch.distributed`` (DDP), launched by ``torchrun``.

The engine asks :func:`init_distributed` where it runs. In a single process (no
``WORLD_SIZE > 1`` in the environment and no process group) the answer is a
:class:`DistContext` of rank 0 in a world of 1, and every helper here is a no-op, so the
single-process path costs one environment look-up. Under ``torchrun`` (which sets ``RANK``,
``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``) the process group is
initialised (``nccl`` on CUDA, ``gloo`` on CPU) unless the caller already did, CUDA ranks
train on ``cuda:LOCAL_RANK``, and the network is wrapped in ``DistributedDataParallel``.

Launch a script that calls ``fit`` on every rank::

    torchrun --nproc_per_node=4 train_script.py
    torchrun --nnodes=2 --node_rank=0 --master_addr=10.0.0.1 --master_port=29500 \\
        --nproc_per_node=8 train_script.py   # and --node_rank=1 on the second node

>>> ctx = DistContext(torch.device("cpu"))
>>> ctx.is_main, ctx.is_distributed, all_reduce_sums(ctx, [1.0, 2.0])
(True, False, [1.0, 2.0])
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from tsattn.training.config import resolve_device

__all__ = [
    "DistContext",
    "all_reduce_sums",
    "broadcast_object",
    "cleanup",
    "gather_objects",
    "init_distributed",
    "is_main_process",
    "wrap_network",
]


@dataclass(frozen=True)
class DistContext:
    """Where this process trains: its device, its rank and the number of processes."""

    device: torch.device
    rank: int = 0
    world_size: int = 1

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that logs and writes files."""
        return self.rank == 0


def init_distributed(device: str | torch.device = "auto") -> DistContext:
    """This process's :class:`DistContext`; initialises the process group under torchrun.

    ``device`` is the training config's: ``"auto"`` or ``"cuda"`` become ``cuda:LOCAL_RANK``
    on a distributed run; an explicit index (``"cuda:1"``) is kept.
    """
    if not _wants_distributed():
        return DistContext(resolve_device(device))
    resolved = _rank_device(resolve_device(device))
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if resolved.type == "cuda" else "gloo")
    return DistContext(resolved, dist.get_rank(), dist.get_world_size())


def wrap_network(network: nn.Module, ctx: DistContext) -> nn.Module:
    """``network`` in ``DistributedDataParallel`` on a distributed run, else as is.

    DDP broadcasts rank 0's weights when it wraps, averages gradients over the ranks in
    ``backward`` and broadcasts rank 0's buffers (e.g. BatchNorm running statistics) before
    each training forward, so every rank keeps identical parameters and buffers.
    """
    if not ctx.is_distributed:
        return network
    device_ids = [ctx.device] if ctx.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(network, device_ids=device_ids)


def all_reduce_sums(ctx: DistContext, values: list[float]) -> list[float]:
    """Element-wise sums of ``values`` over the ranks (one collective call)."""
    if not ctx.is_distributed:
        return values
    total = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total.tolist()


def gather_objects(ctx: DistContext, obj: Any) -> list[Any]:
    """``obj`` of every rank, in rank order (``[obj]`` in a single process)."""
    if not ctx.is_distributed:
        return [obj]
    gathered: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(gathered, obj)
    return gathered


def broadcast_object(ctx: DistContext, obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank (``obj`` itself in a single process)."""
    if not ctx.is_distributed:
        return obj
    box = [obj if ctx.is_main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def is_main_process() -> bool:
    """True on rank 0 of a distributed run and in a single process: where to save files."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return int(os.environ.get("RANK", "0")) == 0


def cleanup() -> None:
    """Destroy the process group (if any) at the end of a distributed script."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _wants_distributed() -> bool:
    if not dist.is_available():
        return False
    if dist.is_initialized():
        return dist.get_world_size() > 1
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def _rank_device(device: torch.device) -> torch.device:
    """``cuda`` without an index -> ``cuda:LOCAL_RANK`` (made the current CUDA device)."""
    if device.type != "cuda":
        return device
    if device.index is None:
        device = torch.device("cuda", _local_rank())
    torch.cuda.set_device(device)
    return device


def _local_rank() -> int:
    """torchrun's ``LOCAL_RANK``; for a group made by hand, the rank modulo the GPU count."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if dist.is_initialized():
        return dist.get_rank() % max(torch.cuda.device_count(), 1)
    return 0
