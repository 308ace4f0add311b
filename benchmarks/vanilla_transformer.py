"""The MLR paper's Transformer experiment as the paper ran it: Time-Series-Library's vanilla
encoder-decoder Transformer on ETTh1, MLR attention vs softmax.

Protocol (Time-Series-Library's ``exp_long_term_forecasting`` with its ETTh1 Transformer
script): seq_len 96, label_len 48, horizons 96/192/336, batch 32, Adam lr 1e-4, MSE loss,
the 'type1' schedule (epochs 1 and 2 at lr, then halved every epoch), at most 10 epochs,
early stopping on the validation MSE with patience 3 (best weights restored), hourly time
features ('timeF'), the literature split with train-only standardisation
(``tsattn.datasets.benchmark_split``); MSE and MAE on every test window, standardised scale.

Variants: softmax everywhere; MLR with 2 or 4 levels in the encoder only (``enc``) or in the
encoder and the decoder's causal self-attention (``encdec``); cross-attention stays softmax.
MLR is the paper's recipe (``mlr_paper``: per-level scale 1/r_l, QK-norm, block-divide) by
default, ``--mlr mlr`` for tsattn's plain MLR. Ranks: the head width d split equally, 2
levels [d/2, d/2], 4 levels [d/4] * 4 (the official code's default); blocks: 2^l near-equal
(ragged) blocks of the sequence at level l (96 encoder tokens, label_len + H decoder tokens).

The metric is the relative MAE, MAE(variant) / MAE(softmax) of the same seed, with its mean
and a 95% t-interval over seeds. Results are appended to
``benchmarks/results/vanilla_transformer/runs.csv`` (finished cells are skipped, so the run
can be split); ``--report`` writes the BENCHMARKS.md section from that file.

CPU (reduced width, see ``--help``)::

    python benchmarks/vanilla_transformer.py --d-model 64 --d-ff 256 --seeds 0 1 2
    python benchmarks/vanilla_transformer.py --report

Full size (GPU): ``--d-model 512 --n-heads 8 --d-ff 2048 --max-epochs 10`` (see
``benchmarks/gpu_campaign.sh``).
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from _report import write_section
from scipy import stats

from tsattn.datasets import benchmark_split
from tsattn.models import VanillaTransformerConfig, VanillaTransformerNetwork, hourly_time_features

RESULTS = Path(__file__).resolve().parent / "results" / "vanilla_transformer"
RUNS = RESULTS / "runs.csv"
VARIANTS = ("softmax", "mlr2_enc", "mlr2_encdec", "mlr4_enc", "mlr4_encdec")
HORIZONS = (96, 192, 336)
INPUT_SIZE, LABEL_LEN = 96, 48


@dataclass(frozen=True)
class Cell:
    """One training run."""

    horizon: int
    variant: str
    seed: int


# ----------------------------------------------------------------------------- data
class MarkedWindows:
    """Stride-1 windows of one split with their time features.

    ``values`` (T, C) standardised, ``marks`` (T, F) time features of the same rows.
    """

    def __init__(self, values: np.ndarray, marks: np.ndarray, horizon: int, device: str):
        self.values = torch.as_tensor(values, dtype=torch.float32, device=device)
        self.marks = torch.as_tensor(marks, dtype=torch.float32, device=device)
        self.horizon = horizon
        self.count = len(values) - INPUT_SIZE - horizon + 1

    def starts(self, stride: int = 1) -> torch.Tensor:
        """Window starts, every ``stride``-th window."""
        return torch.arange(0, self.count, stride, device=self.values.device)

    def batch(self, starts: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """x (B, L, C), x_marks (B, L, F), y (B, H, C), y_marks (B, label_len + H, F)."""
        steps = torch.arange(INPUT_SIZE + self.horizon, device=starts.device)
        rows = starts[:, None] + steps  # (B, L + H)
        values, marks = self.values[rows], self.marks[rows]  # (B, L + H, C), (B, L + H, F)
        return (
            values[:, :INPUT_SIZE],
            marks[:, :INPUT_SIZE],
            values[:, INPUT_SIZE:],
            marks[:, INPUT_SIZE - LABEL_LEN :],
        )


def load_splits(horizon: int, device: str = "cpu") -> dict[str, MarkedWindows]:
    """ETTh1's train / val / test windows with hourly time features, on ``device``."""
    split = benchmark_split("ETTh1", input_size=INPUT_SIZE, horizon=horizon)
    marks = hourly_time_features(split.index)
    return {
        name: MarkedWindows(split.array(name), marks[start:end], horizon, device)
        for name, (start, end) in split.borders.items()
    }


# ----------------------------------------------------------------------------- model
def mlr_ranks(levels: int, head_dim: int) -> list[int]:
    """The head width split equally over the levels, as the official code's default
    (``mlr_rank_list="16|16|16|16"`` for head width 64): 2 levels [d/2, d/2], 4 levels
    [d/4] * 4."""
    if head_dim % levels:
        raise ValueError(f"head width {head_dim} does not split into {levels} equal levels")
    return [head_dim // levels] * levels


def build_network(cell: Cell, args: argparse.Namespace) -> VanillaTransformerNetwork:
    """The network of ``cell`` at the run's width, seeded."""
    attention = {}
    if cell.variant != "softmax":
        levels = int(cell.variant[3])
        mlr = {"ranks": mlr_ranks(levels, args.d_model // args.n_heads)}
        attention = {"attention": args.mlr, "attention_options": mlr}
        if cell.variant.endswith("encdec"):
            attention.update(decoder_attention=args.mlr, decoder_attention_options=mlr)
    config = VanillaTransformerConfig(
        input_size=INPUT_SIZE,
        horizon=cell.horizon,
        n_channels=7,
        label_len=LABEL_LEN,
        d_model=args.d_model,
        n_heads=args.n_heads,
        d_ff=args.d_ff,
        n_layers=2,
        decoder_layers=1,
        dropout=0.1,
        attention_dropout=0.1,
        **attention,
    )
    torch.manual_seed(cell.seed)
    return VanillaTransformerNetwork(config)


# ----------------------------------------------------------------------------- training
def type1_lr(lr: float, epoch: int) -> float:
    """TSLib's 'type1' lr of 0-based ``epoch``: lr, lr, lr/2, lr/4, ... (it adjusts after
    each epoch with ``lr * 0.5 ** (epoch_1_based - 1)``, so epoch 1 keeps lr)."""
    return lr * 0.5 ** max(epoch - 1, 0)


def train_epoch(
    network, optimizer, data: MarkedWindows, batch_size: int, seed: int, windows: int | None
) -> float:
    """One pass over ``windows`` random training windows (all when None); the mean loss."""
    network.train()
    order = torch.randperm(data.count, generator=torch.Generator().manual_seed(seed))
    order = order[:windows].to(data.values.device)
    total = 0.0
    for starts in order.split(batch_size):
        x, x_marks, y, y_marks = data.batch(starts)
        loss = F.mse_loss(network(x, x_marks, y_marks), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(starts)
    return total / len(order)


@torch.no_grad()
def evaluate(network, data: MarkedWindows, stride: int = 1, batch: int = 256) -> dict[str, float]:
    """MSE and MAE over every ``stride``-th window (standardised scale)."""
    network.eval()
    squared = absolute = 0.0
    chosen = data.starts(stride)
    for starts in chosen.split(batch):
        x, x_marks, y, y_marks = data.batch(starts)
        error = network(x, x_marks, y_marks) - y  # (B, H, C)
        squared += error.square().sum().item()
        absolute += error.abs().sum().item()
    n = len(chosen) * data.horizon * data.values.shape[1]
    return {"mse": squared / n, "mae": absolute / n}


def run_cell(cell: Cell, splits: dict[str, MarkedWindows], args) -> dict:
    """Train with early stopping on the validation MSE; score the best weights on test."""
    start = time.perf_counter()
    network = build_network(cell, args).to(args.device)
    optimizer = torch.optim.Adam(network.parameters(), lr=args.lr)
    best, best_state, best_epoch, waited, epochs = math.inf, None, -1, 0, 0
    for epoch in range(args.max_epochs):
        for group in optimizer.param_groups:
            group["lr"] = type1_lr(args.lr, epoch)
        seed = cell.seed * 1000 + epoch
        train_epoch(network, optimizer, splits["train"], args.batch_size, seed, args.windows)
        val = evaluate(network, splits["val"], args.val_stride)["mse"]
        epochs = epoch + 1
        if val < best:
            best, best_epoch, waited = val, epoch, 0
            best_state = {k: v.clone() for k, v in network.state_dict().items()}
        else:
            waited += 1
            if waited >= args.patience:
                break
    network.load_state_dict(best_state)
    test = evaluate(network, splits["test"], args.test_stride)
    return {
        **asdict(cell),
        "mlr": args.mlr,
        "d_model": args.d_model,
        "n_heads": args.n_heads,
        "d_ff": args.d_ff,
        "max_epochs": args.max_epochs,
        "windows_per_epoch": args.windows or splits["train"].count,
        "val_stride": args.val_stride,
        "test_stride": args.test_stride,
        "epochs_run": epochs,
        "best_epoch": best_epoch,
        "val_mse": best,
        "test_mse": test["mse"],
        "test_mae": test["mae"],
        "seconds": round(time.perf_counter() - start, 1),
    }


# ----------------------------------------------------------------------------- results
def read_runs(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def same_setting(row: dict, args) -> bool:
    """Whether a stored row was run with this invocation's width, epochs and MLR kind."""
    wanted = {"mlr": args.mlr, "d_model": args.d_model, "n_heads": args.n_heads}
    wanted.update(d_ff=args.d_ff, max_epochs=args.max_epochs, val_stride=args.val_stride)
    wanted.update(test_stride=args.test_stride)
    if args.windows is not None:
        wanted["windows_per_epoch"] = args.windows
    return all(str(row[k]) == str(v) for k, v in wanted.items())


def append_run(path: Path, row: dict) -> None:
    new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def relative_mae(rows: list[dict], horizon: int, variant: str) -> tuple[list[float], float]:
    """Per seed MAE(variant) / MAE(softmax), and the mean softmax MAE, at ``horizon``."""
    mae = {
        (r["variant"], r["seed"]): float(r["test_mae"])
        for r in rows
        if int(r["horizon"]) == horizon
    }
    seeds = sorted({s for v, s in mae if v == "softmax"} & {s for v, s in mae if v == variant})
    base = [mae[("softmax", s)] for s in seeds]
    return [mae[(variant, s)] / mae[("softmax", s)] for s in seeds], float(
        np.mean(base or [np.nan])
    )


def interval(values: list[float]) -> tuple[float, float, float]:
    """Mean and 95% t-interval (nan bounds with fewer than 2 values)."""
    mean = float(np.mean(values))
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def report_table(rows: list[dict]) -> tuple[str, list[dict]]:
    """Markdown table of relative MAE per horizon and variant, and its summary rows."""
    lines = [
        "| horizon | variant | seeds | softmax MAE | relative MAE (mean) | 95% CI | epochs run |",
        "|---:|---|---:|---:|---:|---|---|",
    ]
    summary = []
    for horizon in HORIZONS:
        for variant in VARIANTS[1:]:
            ratios, base = relative_mae(rows, horizon, variant)
            if not ratios:
                continue
            mean, low, high = interval(ratios)
            epochs = sorted(
                int(r["epochs_run"])
                for r in rows
                if int(r["horizon"]) == horizon and r["variant"] == variant
            )
            summary.append(
                {
                    "horizon": horizon,
                    "variant": variant,
                    "mean": mean,
                    "low": low,
                    "high": high,
                    "n": len(ratios),
                }
            )
            lines.append(
                f"| {horizon} | {variant} | {len(ratios)} | {base:.4f} | {mean:.4f} | "
                f"[{low:.4f}, {high:.4f}] | {', '.join(map(str, epochs))} |"
            )
    return "\n".join(lines), summary


def horizon_trend(summary: list[dict]) -> str:
    """One line per variant: does the gain (1 - relative MAE) grow with the horizon? Read
    only where some interval excludes 1 (otherwise the gains are within seed noise)."""
    lines = []
    for variant in VARIANTS[1:]:
        cells = [s for s in summary if s["variant"] == variant]
        if len(cells) < 2:
            continue
        gains = [1 - s["mean"] for s in cells]
        text = ", ".join(f"H={s['horizon']}: {100 * g:+.2f}%" for s, g in zip(cells, gains))
        if all(s["low"] <= 1 <= s["high"] for s in cells):
            verdict = "no trend to read: every 95% interval contains 1 (no significant gain)"
        else:
            grows = all(b > a for a, b in zip(gains, gains[1:]))
            verdict = f"grows with the horizon: {'yes' if grows else 'no'}"
        lines.append(f"- {variant}: gain {text}; {verdict}")
    return "\n".join(lines)


def reduced_training(args, rows: list[dict]) -> str:
    """How training and scoring were cut down, in words."""
    windows = sorted({int(r["windows_per_epoch"]) for r in rows})
    return (
        f"{'/'.join(map(str, windows))} random training windows per epoch, validation on every "
        f"{args.val_stride}th window, test on every {args.test_stride}th window"
    )


def write_report(args) -> None:
    rows = [r for r in read_runs(args.out) if same_setting(r, args)]
    table, summary = report_table(rows)
    check = read_runs(RESULTS / "tslib_check.csv")
    check_line = ""
    if check:
        worst = max(float(r["max_abs_output_diff"]) for r in check)
        check_line = (
            f"The model equals Time-Series-Library's `Transformer` (ETTh1 script configuration): "
            f"{int(check[0]['params_tsattn']):,} parameters on both sides, outputs from the same "
            f"weights within {worst:.1e} (`benchmarks/check_tslib_transformer.py`, "
            f"`results/vanilla_transformer/tslib_check.csv`).\n\n"
        )
    body = (
        f"{check_line}"
        f"Time-Series-Library's vanilla encoder-decoder Transformer on ETTh1 (seq_len 96, "
        f"label_len "
        f"48, batch {args.batch_size}, Adam lr {args.lr:g}, type1 schedule, at most "
        f"{args.max_epochs} epochs, patience {args.patience}, literature split and scaling, "
        f"hourly time features), **reduced for the CPU: d_model {args.d_model}, "
        f"{args.n_heads} heads, d_ff {args.d_ff}, {reduced_training(args, rows)}**, e_layers 2, "
        f"d_layers 1, dropout 0.1. "
        f"MLR = `{args.mlr}`; `enc`: MLR in the encoder self-attention only, `encdec`: also in the "
        f"decoder's causal self-attention (cross-attention softmax). Relative MAE = MAE(variant) / "
        f"MAE(softmax) with the same seed (below 1: MLR better); 95% t-interval over seeds. "
        f"Raw rows: `benchmarks/results/vanilla_transformer/runs.csv`. The full-size run "
        f"(d_model 512, 8 heads, d_ff 2048, 10 epochs) is in `benchmarks/gpu_campaign.sh`.\n\n"
        f"{table}\n\nDoes the gain grow with the horizon (the paper's claim)?\n\n"
        f"{horizon_trend(summary)}\n"
    )
    if args.notes_file is not None:
        body += "\n" + args.notes_file.read_text()
    write_section(
        args.section,
        "The MLR paper's experiment as it ran it: vanilla "
        "encoder-decoder Transformer (Time-Series-Library) on ETTh1",
        body,
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizons", type=int, nargs="+", default=list(HORIZONS))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--mlr", default="mlr_paper", choices=("mlr_paper", "mlr"))
    parser.add_argument("--d-model", type=int, default=512)
    parser.add_argument("--n-heads", type=int, default=8)
    parser.add_argument("--d-ff", type=int, default=2048)
    parser.add_argument("--max-epochs", type=int, default=10)
    parser.add_argument(
        "--windows", type=int, default=None, help="random training windows per epoch (all)"
    )
    parser.add_argument("--val-stride", type=int, default=1, help="validate every k-th window")
    parser.add_argument("--test-stride", type=int, default=1, help="test every k-th window")
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--section", default="vanilla_transformer", help="BENCHMARKS.md section")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--out", type=Path, default=RUNS, help="the runs CSV")
    parser.add_argument("--no-report", action="store_true", help="leave BENCHMARKS.md alone")
    parser.add_argument("--notes-file", type=Path, default=None, help="text added to the section")
    parser.add_argument("--report", action="store_true", help="only write BENCHMARKS.md")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.report:
        done = {
            (int(r["horizon"]), r["variant"], int(r["seed"]))
            for r in read_runs(args.out)
            if same_setting(r, args)
        }
        for horizon in args.horizons:
            splits = load_splits(horizon, args.device)
            for seed in args.seeds:
                for variant in args.variants:
                    if (horizon, variant, seed) in done:
                        continue
                    row = run_cell(Cell(horizon, variant, seed), splits, args)
                    append_run(args.out, row)
                    print(row, flush=True)
    if not args.no_report:
        write_report(args)


if __name__ == "__main__":
    main()
