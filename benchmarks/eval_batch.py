"""The benchmark runner's evaluation batch: how fast every ETTh1 test window is scored.

Builds the runner's PatchTST for ETTh1 (the reference architecture, input 336, horizon 96),
trains it for a moment (the weights do not change the speed), then scores every test window
(``tsattn.benchmark.scoring.score_windows``, as the runner does) with each batch size in
turn, in interleaved rounds so the load of a shared machine falls on all of them alike. The
scores must be the same whatever the batch. Writes the seconds per round as CSV under
``benchmarks/results/eval_batch/`` and the median ratios to the fastest to BENCHMARKS.md.

    TSATTN_DATA_DIR=/work/shared/data python benchmarks/eval_batch.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "eval_batch"
BATCH_SIZES = (64, 128, 256, 512, 1024)
DATASET, INPUT_SIZE, HORIZON = "ETTh1", 336, 96


def runner_model(split):
    """The runner's PatchTST for the split, trained on a few hundred windows."""
    from tsattn.benchmark.runner import RunSettings, _build_model
    from tsattn.models.factory import parse_model_spec

    settings = RunSettings(INPUT_SIZE, True, 1, None, "cpu", False)
    spec = parse_model_spec("patchtst:softmax:windows_per_epoch=256")
    return _build_model(DATASET, spec, split, 0, settings).fit_arrays(split.train, split.val)


def score(model, split, batch_size: int):
    from tsattn.benchmark.scoring import score_windows

    predict = functools.partial(model.predict_windows, batch_size=batch_size)
    return score_windows(predict, split.test, INPUT_SIZE, HORIZON, batch_size=batch_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from tsattn.datasets import benchmark_split

    split = benchmark_split(DATASET, INPUT_SIZE, HORIZON)
    model = runner_model(split)
    scores = {b: score(model, split, b) for b in BATCH_SIZES}  # also a warm-up round
    rows = []
    for r in range(args.rounds):
        for b in BATCH_SIZES if r % 2 == 0 else BATCH_SIZES[::-1]:
            start = time.perf_counter()
            score(model, split, b)
            rows.append({"round": r, "batch_size": b, "seconds": time.perf_counter() - start})
            print(rows[-1], flush=True)
    table = summarise(pd.DataFrame(rows), scores)
    print(table.to_string(index=False))
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows).to_csv(RESULTS / "rounds.csv", index=False)
        table.to_csv(RESULTS / "summary.csv", index=False)
        write_section("eval_batch", "Runner evaluation batch (ETTh1 test windows)", report(
            table, split, args))  # fmt: skip


def summarise(rounds: pd.DataFrame, scores: dict) -> pd.DataFrame:
    """Median seconds per batch size, the ratio to the fastest, and the scores."""
    median = rounds.groupby("batch_size")["seconds"].median()
    return pd.DataFrame(
        {
            "batch_size": median.index,
            "median_s": median.to_numpy().round(3),
            "vs_fastest": (median / median.min()).to_numpy().round(3),
            "mse": [scores[b].mse for b in median.index],
            "mae": [scores[b].mae for b in median.index],
        }
    )


def report(table: pd.DataFrame, split, args) -> str:
    n_windows = len(split.window_view("test")[0])
    spread = np.ptp(table["mse"]) / table["mse"].mean()
    lines = [
        f"Every {DATASET} test window ({n_windows} windows x 7 channels, input {INPUT_SIZE}, "
        f"horizon {HORIZON}) scored by the runner's PatchTST (reference architecture) with "
        f"each evaluation batch size; {args.rounds} interleaved rounds, {args.threads} torch "
        f"threads, median seconds and the ratio to the fastest. Relative spread of the MSE "
        f"across batch sizes: {spread:.1e} (float32 sums in another order).",
        "",
        "| batch | median s | vs fastest | mse | mae |",
        "|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.batch_size} | {row.median_s:.2f} | {row.vs_fastest:.2f} | "
            f"{row.mse:.6f} | {row.mae:.6f} |"
        )
    lines.append("\nRaw seconds: `benchmarks/results/eval_batch/rounds.csv`.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
