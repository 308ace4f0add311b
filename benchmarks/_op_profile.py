"""Where a training step spends its CPU time, by op group (torch.profiler, self CPU time).

Ops are grouped by what they do, so that a table of a few rows says whether a step is bound by
its matmuls or by the memory traffic around them (copies, elementwise ops, normalisation).

>>> group_of("aten::bmm"), group_of("aten::_to_copy"), group_of("aten::whatever")
('matmul', 'copy / layout', 'other')
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from torch.profiler import ProfilerActivity, profile

#: op group -> the aten ops it holds (self CPU time of each op is counted once)
OP_GROUPS = {
    "matmul": ("mm", "bmm", "addmm", "baddbmm", "addbmm", "matmul", "linear", "_mkldnn_linear"),
    "copy / layout": ("copy_", "clone", "contiguous", "_to_copy", "cat", "index_select", "fill_"),
    "elementwise mul / div": ("mul", "mul_", "div", "div_", "reciprocal", "rsqrt", "sqrt"),
    "elementwise add / sub": ("add", "add_", "sub", "sub_", "addcmul", "addcmul_", "rsub"),
    "softmax (fwd + bwd)": ("_softmax", "_softmax_backward_data", "softmax"),
    "BatchNorm (fwd + bwd)": ("native_batch_norm", "native_batch_norm_backward",
                              "_batch_norm_with_update", "batch_norm_backward"),
    "dropout RNG / mask": ("random_", "ge", "bernoulli_", "uniform_", "native_dropout",
                           "where", "masked_fill", "masked_fill_"),
    "GELU (fwd + bwd)": ("gelu", "gelu_backward"),
    "reductions": ("sum", "mean", "var", "var_mean", "pow", "mse_loss", "mse_loss_backward"),
}  # fmt: skip
#: every op run inside ``optimizer.step()`` (whatever it is) counts here
OPTIMIZER = "optimizer step"
_GROUP = {f"aten::{op}": group for group, ops in OP_GROUPS.items() for op in ops}


def group_of(name: str) -> str:
    """The op group of a profiler event name (``"other"`` when none fits)."""
    return _GROUP.get(name, "other")


def _in_optimizer(event) -> bool:
    parent = event.cpu_parent
    while parent is not None:
        if parent.name.startswith("Optimizer.step"):
            return True
        parent = parent.cpu_parent
    return False


def profile_groups(step: Callable[[], None], steps: int = 3) -> dict[str, float]:
    """Self CPU milliseconds per step of each op group over ``steps`` calls of ``step``
    (after one warm-up call), largest first."""
    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    totals: dict[str, float] = defaultdict(float)
    for event in prof.events():
        if event.name.startswith("aten::"):
            group = OPTIMIZER if _in_optimizer(event) else group_of(event.name)
            totals[group] += event.self_cpu_time_total / 1e3 / steps
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def groups_table(profiles: dict[str, dict[str, float]], top: int = 8) -> str:
    """A markdown table of each implementation's share of step time per op group: the
    ``top`` groups of the first implementation, then the rest as one row."""
    first = next(iter(profiles.values()))
    names = [group for group in first if group != "other"][:top]
    header = "| op group | " + " | ".join(f"{impl} share" for impl in profiles) + " |"
    rows = [header, "|---|" + "---:|" * len(profiles)]
    for group in [*names, "all other ops"]:
        cells = []
        for totals in profiles.values():
            total = sum(totals.values())
            ms = (
                total - sum(totals.get(g, 0.0) for g in names)
                if group == "all other ops"
                else totals.get(group, 0.0)
            )
            cells.append(f"{100 * ms / total:.1f}%")
        rows.append(f"| {group} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def groups_rows(profiles: dict[str, dict[str, float]]) -> list[dict[str, object]]:
    """CSV rows: implementation, op group, self ms per step, share."""
    rows = []
    for impl, totals in profiles.items():
        total = sum(totals.values())
        for group, ms in totals.items():
            rows.append({"implementation": impl, "op_group": group, "self_ms_per_step":
                         round(ms, 3), "share": round(ms / total, 4)})  # fmt: skip
    return rows
