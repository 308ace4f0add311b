"""The benchmark runner's evaluation batch: how fast every ETTh1 test window is scored.

Builds the runner's PatchTST for ETTh1 (the reference architecture, input 336, horizon 96),
trains it for a moment (the weights do not change the speed), then scores every test window
(``tsattn.benchmark.scoring.score_windows``, as the runner does) with each batch size in
turn, in interleaved rounds so the load of a shared machine falls on all of them alike. The
scores must be the same whatever the batch. Writes the seconds per round as CSV under
``benchmarks/results/eval_batch/`` and the median ratios to the fastest to BENCHMARKS.md.

    TSATTN_DATA_DIR=<the data dir> python benchmarks/eval_batch.py [--rounds 3]
        [--threads 1,2] [--windows 1024]
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


def score(model, test: np.ndarray, batch_size: int):
    from tsattn.benchmark.scoring import score_windows

    predict = functools.partial(model.predict_windows, batch_size=batch_size)
    return score_windows(predict, test, INPUT_SIZE, HORIZON, batch_size=batch_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", default="1,2", help="torch threads, comma-separated")
    parser.add_argument("--windows", type=int, help="score only the first N test windows")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    from tsattn.datasets import benchmark_split

    split = benchmark_split(DATASET, INPUT_SIZE, HORIZON)
    model = runner_model(split)
    test = (
        split.test
        if args.windows is None
        else split.test[: args.windows + INPUT_SIZE + HORIZON - 1]
    )
    threads = [int(t) for t in args.threads.split(",")]
    scores = {b: score(model, test, b) for b in BATCH_SIZES}  # also a warm-up round
    rows = []
    for r in range(args.rounds):
        for n_threads in threads:
            torch.set_num_threads(n_threads)
            for b in BATCH_SIZES if r % 2 == 0 else BATCH_SIZES[::-1]:
                start = time.perf_counter()
                score(model, test, b)
                seconds = time.perf_counter() - start
                rows.append({"round": r, "threads": n_threads, "batch_size": b, "seconds": seconds})
                print(rows[-1], flush=True)
    table = summarise(pd.DataFrame(rows), scores)
    print(table.to_string(index=False))
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows).to_csv(RESULTS / "rounds.csv", index=False)
        table.to_csv(RESULTS / "summary.csv", index=False)
        n_windows = len(test) - INPUT_SIZE - HORIZON + 1
        write_section("eval_batch", "Runner evaluation batch (ETTh1 test windows)", report(
            table, n_windows, args))  # fmt: skip


def summarise(rounds: pd.DataFrame, scores: dict) -> pd.DataFrame:
    """Median seconds per (threads, batch size), the ratio to the fastest batch at those
    threads, and the scores of each batch size."""
    median = rounds.groupby(["threads", "batch_size"])["seconds"].median().reset_index()
    fastest = median.groupby("threads")["seconds"].transform("min")
    return median.assign(
        median_s=median["seconds"].round(3),
        vs_fastest=(median["seconds"] / fastest).round(3),
        mse=[scores[b].mse for b in median["batch_size"]],
        mae=[scores[b].mae for b in median["batch_size"]],
    ).drop(columns="seconds")


def report(table: pd.DataFrame, n_windows: int, args) -> str:
    spread = np.ptp(table["mse"]) / table["mse"].mean()
    lines = [
        f"{n_windows} {DATASET} test windows (x 7 channels, input {INPUT_SIZE}, horizon "
        f"{HORIZON}) scored by the runner's PatchTST (reference architecture) with each "
        f"evaluation batch size (windows per forward pass); {args.rounds} interleaved rounds "
        f"at each torch thread count, median seconds and the ratio to the fastest batch at "
        f"that thread count. Relative spread of the MSE across batch sizes: {spread:.1e} "
        f"(the forecasts are identical; float64 sums in another order).",
        "",
        "| threads | batch | median s | vs fastest | mse | mae |",
        "|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.threads} | {row.batch_size} | {row.median_s:.2f} | {row.vs_fastest:.2f} | "
            f"{row.mse:.6f} | {row.mae:.6f} |"
        )
    lines.append("\nRaw seconds: `benchmarks/results/eval_batch/rounds.csv`.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
