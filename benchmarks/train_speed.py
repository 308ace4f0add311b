"""Training throughput of tsattn's PatchTST against the PatchTST reference code and
neuralforecast's, where its time goes, and per attention.

One training step (forward, MSE loss, backward, Adam step) on random data at the ETTh1
reference configuration: lookback 336, horizon 96, d_model 16, 4 heads, 3 layers, d_ff 128,
dropout 0.3, patch 16 stride 8, RevIN, residual attention, BatchNorm; a batch of 128 windows x
7 channels = 896 univariate sequences. Contenders, each its own network at that configuration:

- tsattn, eager, and (unless ``--no-compile``) the same network under ``torch.compile``, whose
  compile time is reported apart from its step time;
- the reference code (yuqinie98/PatchTST, ``PatchTST_supervised/models/PatchTST.py`` and its
  ``layers``), imported from a checkout named by ``--reference-dir``: it needs torch and numpy
  only, takes the batch as (128, 336, 7) like tsattn, and is configured as the reference's
  ``scripts/PatchTST/etth1.sh`` (fc_dropout 0.3, head_dropout 0, end padding, RevIN without
  affine);
- neuralforecast's PatchTST (univariate by construction) on 896 series of (336, 1), its torch
  module called directly (no Lightning loop), BatchNorm like the reference.

Candidates are interleaved in rounds (order rotated each round, after warm-up); each round
gives every candidate's step time and its ratio to tsattn's in the same round. The table shows
the median step time and the median of the per-round ratios (the paired figure, robust to a
loaded machine). Throughput = channel-windows (sequences) per second. A torch.profiler run of
each library's step adds the share of step time per op group (self CPU time).

The reference code and neuralforecast are never tsattn dependencies: a contender that is
missing is skipped with the hint to get it. Raw figures go to
``benchmarks/results/train_speed/*.csv``.

Usage::

    git clone https://github.com/yuqinie98/PatchTST /tmp/PatchTST   # the reference code
    python benchmarks/train_speed.py --threads 2 --reference-dir /tmp/PatchTST/PatchTST_supervised
    python benchmarks/train_speed.py --quick --no-write --no-compile --no-attentions
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _op_profile import groups_rows, groups_table, profile_groups  # noqa: E402
from _report import write_section  # noqa: E402

from tsattn.attention import list_attention  # noqa: E402
from tsattn.models import create_network  # noqa: E402

LOOKBACK, HORIZON, CHANNELS, BATCH = 336, 96, 7, 128
REFERENCE = {"d_model": 16, "n_heads": 4, "n_layers": 3, "d_ff": 128, "dropout": 0.3}
RESULTS = Path(__file__).resolve().parent / "results" / "train_speed"

Step = Callable[[], None]


def make_step(model: nn.Module, forward: Callable[[], torch.Tensor], target: torch.Tensor) -> Step:
    """A closure running one forward + MSE + backward + Adam step."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    model.train()

    def step() -> None:
        loss = nn.functional.mse_loss(forward(), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def tsattn_step(
    attention: str = "softmax", residual_attention: bool = True, compiled: bool = False
) -> Step:
    """tsattn's PatchTST step; ``compiled``: the network under ``torch.compile`` (the
    engine's ``compile=True``), compiled lazily by the first call."""
    torch.manual_seed(0)
    options = {**REFERENCE, "attention": attention, "residual_attention": residual_attention}
    net = create_network("patchtst", LOOKBACK, HORIZON, CHANNELS, **options)
    model = torch.compile(net) if compiled else net
    x = torch.randn(BATCH, LOOKBACK, CHANNELS)  # (B, L, C)
    y = torch.randn(BATCH, HORIZON, CHANNELS)  # (B, H, C)
    return make_step(net, lambda: model(x), y)


def reference_step(source: Path | None) -> Step | None:
    """The PatchTST reference code's step at the same configuration, or None when
    ``source`` (a ``PatchTST_supervised`` folder) is not given or does not hold it."""
    if source is None or not (source / "models" / "PatchTST.py").is_file():
        print("the PatchTST reference code was not found (git clone "
              "https://github.com/yuqinie98/PatchTST, then --reference-dir "
              "PatchTST/PatchTST_supervised): row skipped")  # fmt: skip
        return None
    sys.path.insert(0, str(source.resolve()))  # the reference imports `layers.…`
    from models.PatchTST import Model

    if not Path(sys.modules["models.PatchTST"].__file__).resolve().is_relative_to(source.resolve()):
        raise RuntimeError(f"`models.PatchTST` was imported from outside {source}")
    configs = SimpleNamespace(
        enc_in=CHANNELS, seq_len=LOOKBACK, pred_len=HORIZON, e_layers=3, n_heads=4, d_model=16,
        d_ff=128, dropout=0.3, fc_dropout=0.3, head_dropout=0.0, individual=0, patch_len=16,
        stride=8, padding_patch="end", revin=1, affine=0, subtract_last=0, decomposition=0,
        kernel_size=25,
    )  # fmt: skip
    torch.manual_seed(0)
    model = Model(configs)
    x = torch.randn(BATCH, LOOKBACK, CHANNELS)  # (B, L, C)
    y = torch.randn(BATCH, HORIZON, CHANNELS)  # (B, H, C)
    return make_step(model, lambda: model(x), y)


def neuralforecast_step() -> Step | None:
    """neuralforecast's PatchTST at the same configuration, or None when not installed."""
    try:
        import logging

        logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
        logging.getLogger("lightning").setLevel(logging.ERROR)
        from neuralforecast.models import PatchTST as NFPatchTST
    except ImportError:
        print("neuralforecast is not installed (pip install neuralforecast): row skipped")
        return None
    torch.manual_seed(0)
    model = NFPatchTST(
        h=HORIZON, input_size=LOOKBACK, encoder_layers=3, n_heads=4, hidden_size=16,
        linear_hidden_size=128, dropout=0.3, fc_dropout=0.3, head_dropout=0.0, patch_len=16,
        stride=8, revin=True, revin_affine=False, revin_subtract_last=False, res_attention=True,
        batch_normalization=True, learn_pos_embed=True,
    )  # fmt: skip
    sequences = BATCH * CHANNELS
    batch = {"insample_y": torch.randn(sequences, LOOKBACK, 1)}  # (B*C, L, 1)
    y = torch.randn(sequences, HORIZON, 1)  # (B*C, H, 1)
    return make_step(model, lambda: model(batch), y)


def time_first_call(step: Step) -> float:
    """Seconds of ``step``'s first call (for a compiled network: compiling plus one step)."""
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def time_interleaved(steps: dict[str, Step], rounds: int, per_round: int) -> dict[str, list[float]]:
    """Seconds per step of each candidate in each round, rounds interleaved and rotated."""
    for step in steps.values():
        for _ in range(2):
            step()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in steps}
    names = list(steps)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            for _ in range(per_round):
                steps[name]()
            times[name].append((time.perf_counter() - start) / per_round)
    return times


def medians(times: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(t) for name, t in times.items()}


def paired_ratios(times: dict[str, list[float]], base: str) -> dict[str, float]:
    """Median over rounds of (candidate's step time / ``base``'s) in the same round."""
    return {
        name: statistics.median(t / b for t, b in zip(seconds, times[base], strict=True))
        for name, seconds in times.items()
    }


def library_table(times: dict[str, list[float]]) -> str:
    sequences = BATCH * CHANNELS
    ratios = paired_ratios(times, "tsattn")
    rows = [
        "| implementation | step (ms, median) | channel-windows / s | "
        "step time / tsattn's (median of paired rounds) |",
        "|---|---:|---:|---:|",
    ]
    for name, seconds in medians(times).items():
        rows.append(
            f"| {name} | {seconds * 1e3:.1f} | {sequences / seconds:,.0f} | {ratios[name]:.2f}x |"
        )
    return "\n".join(rows)


def attention_table(times: dict[str, list[float]]) -> str:
    ratios = paired_ratios(times, "softmax")
    rows = ["| attention | step (ms) | step time vs softmax (paired) |", "|---|---:|---:|"]
    for name, seconds in medians(times).items():
        rows.append(f"| {name} | {seconds * 1e3:.1f} | {ratios[name]:.2f}x |")
    return "\n".join(rows)


def write_csv(name: str, rows: list[dict[str, object]]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / name, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def round_rows(table: str, times: dict[str, list[float]]) -> list[dict[str, object]]:
    return [
        {"table": table, "candidate": name, "round": r, "seconds_per_step": round(t, 6)}
        for name, seconds in times.items()
        for r, t in enumerate(seconds)
    ]


def library_steps(args: argparse.Namespace) -> tuple[dict[str, Step], float | None]:
    """The library contenders, and the compiled network's compile time (s) when included."""
    steps = {"tsattn": tsattn_step()}
    compile_seconds = None
    if args.compile:
        compiled = tsattn_step(compiled=True)
        first = time_first_call(compiled)
        eager_step = min(time_first_call(steps["tsattn"]) for _ in range(2))
        compile_seconds = first - eager_step
        steps["tsattn (torch.compile)"] = compiled
    for name, step in (("PatchTST reference code", reference_step(args.reference_dir)),
                       ("neuralforecast", neuralforecast_step())):  # fmt: skip
        if step is not None:
            steps[name] = step
    return steps, compile_seconds


def profiles(steps: dict[str, Step]) -> dict[str, dict[str, float]]:
    """Op-group profiles of the eager library steps (compiled code is not profiled)."""
    return {name: profile_groups(step) for name, step in steps.items() if "compile" not in name}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds (default 7)")
    parser.add_argument("--steps", type=int, default=3, help="steps per round and candidate")
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--no-write", action="store_true", help="print only, skip BENCHMARKS.md")
    parser.add_argument("--reference-dir", type=Path, default=None,
                        help="the reference's PatchTST_supervised folder (a yuqinie98/PatchTST "
                             "checkout); without it the reference row is skipped")  # fmt: skip
    parser.add_argument(
        "--no-compile",
        dest="compile",
        action="store_false",
        help="skip the torch.compile row (compiling takes about a minute)",
    )
    parser.add_argument("--no-attentions", dest="attentions", action="store_false",
                        help="skip the per-attention tables")  # fmt: skip
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 7)
    if args.threads:
        torch.set_num_threads(args.threads)

    steps, compile_seconds = library_steps(args)
    libraries = time_interleaved(steps, rounds, args.steps)
    ops = profiles(steps)
    rows = round_rows("libraries", libraries)
    body = (
        f"PatchTST training step (forward + MSE + backward + Adam) at the ETTh1 reference "
        f"configuration, batch {BATCH} windows x {CHANNELS} channels = {BATCH * CHANNELS} "
        f"sequences of {LOOKBACK} steps, horizon {HORIZON}; random data; {rounds} interleaved "
        f"rounds of {args.steps} steps; torch threads: {torch.get_num_threads()}.\n\n"
        f"{library_table(libraries)}\n"
    )
    if compile_seconds is not None:
        body += (f"\n`torch.compile` (inductor, CPU): {compile_seconds:.0f} s of compiling "
                 f"before the first step, apart from the step times above.\n")  # fmt: skip
    print(body, flush=True)  # the library figures as soon as they are in
    body += (f"\nWhere each step's time goes (torch.profiler, self CPU time by op group, "
             f"eager):\n\n{groups_table(ops)}\n")  # fmt: skip
    if args.attentions:
        attentions = time_interleaved(
            {name: tsattn_step(name) for name in list_attention()}, rounds, args.steps
        )
        fast_paths = time_interleaved(
            {name: tsattn_step(name, residual_attention=False) for name in list_attention()},
            rounds,
            args.steps,
        )
        rows += round_rows("attention", attentions) + round_rows("fast_path", fast_paths)
        body += (
            f"\nPer attention (tsattn PatchTST, default options), reference residual attention "
            f"(explicit scores, `MultiHeadAttention.attend`):\n\n{attention_table(attentions)}"
            f"\n\nPer attention without residual attention (each scorer's fastest exact path, "
            f"SDPA where separable):\n\n{attention_table(fast_paths)}\n"
        )
    body += (
        "\nTargets: >= 2x both the reference code and neuralforecast; matmuls the largest share."
    )
    print(body[body.index("\nWhere each step") :])
    write_csv("steps.csv", rows)
    write_csv("op_groups.csv", groups_rows(ops))
    if compile_seconds is not None:
        write_csv("compile.csv", [{"compile_seconds": round(compile_seconds, 2)}])
    if not args.no_write:
        write_section("train_speed", "PatchTST training throughput (CPU)", body)


if __name__ == "__main__":
    main()
