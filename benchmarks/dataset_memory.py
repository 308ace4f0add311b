"""Memory of the Electricity-size pipeline: load, split, windows as views, a few batches.

Generates a random file of Electricity's shape (26304 rows x 321 channels + ``date``) as CSV
in a temporary directory (in a child process, so generation does not count), then loads it
through ``tsattn.load_dataset``, splits it by the literature protocol (lookback 336, horizon
96), builds the windows as strided views and gathers a few training batches. Reports peak
RSS after each stage and compares with the analytic cost of materialising every window.

    python benchmarks/dataset_memory.py [--batches 20] [--batch-size 32] [--no-write]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ROWS, CHANNELS, INPUT_SIZE, HORIZON = 26304, 321, 336, 96
MIB = 2**20


def generate(path: Path) -> None:
    """Write a random Electricity-format CSV (``date``, ``0`` … ``319``, ``OT``)."""
    import pandas as pd

    rng = np.random.default_rng(0)
    columns = [str(i) for i in range(CHANNELS - 1)] + ["OT"]
    frame = pd.DataFrame(rng.gamma(2.0, 500.0, size=(ROWS, CHANNELS)), columns=columns)
    frame.insert(0, "date", pd.date_range("2016-07-01 02:00", periods=ROWS, freq="h"))
    frame.to_csv(path, index=False, float_format="%.3f")
    print(hashlib.sha256(path.read_bytes()).hexdigest())  # the checksum load_dataset verifies


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def materialised_bytes(n_windows: int) -> int:
    """Bytes of float32 arrays holding every window's input and target (not allocated)."""
    return n_windows * CHANNELS * (INPUT_SIZE + HORIZON) * 4


def measure(
    data_dir: Path, sha256: str, batches: int, batch_size: int
) -> tuple[list[tuple[str, float, float]], dict[str, int]]:
    """(stage, seconds, peak RSS MiB) for each stage, and the window count of each split."""
    from tsattn.datasets import benchmark_split, get_spec, load_dataset

    spec = dataclasses.replace(get_spec("electricity"), sha256=sha256)  # of the random file
    stages = [("imports", 0.0, peak_rss_mib())]
    start = time.perf_counter()
    frame = load_dataset(spec, data_dir, download=False)
    stages.append(
        ("load_dataset (sha256 + CSV -> frame)", time.perf_counter() - start, peak_rss_mib())
    )
    start = time.perf_counter()
    split = benchmark_split(frame, INPUT_SIZE, HORIZON, split=spec.split)
    del frame
    stages.append(("benchmark_split (scale, float32)", time.perf_counter() - start, peak_rss_mib()))
    start = time.perf_counter()
    views = {s: split.window_view(s) for s in ("train", "val", "test")}
    assert all(np.shares_memory(v.inputs, split.array(s)) for s, v in views.items())
    stages.append(("window_view (all splits)", time.perf_counter() - start, peak_rss_mib()))
    start = time.perf_counter()
    windows, rng = split.windows("train"), np.random.default_rng(0)
    for _ in range(batches):
        x, y = windows.batch(rng.integers(0, len(windows), size=batch_size))
    stages.append(
        (f"{batches} batches of {batch_size} windows", time.perf_counter() - start, peak_rss_mib())
    )
    return stages, split.n_windows


def report(stages: list[tuple[str, float, float]], counts: dict[str, int], csv_mib: float) -> str:
    lines = [
        f"Random file of Electricity's shape: {ROWS} rows x {CHANNELS} channels + date, "
        f"CSV {csv_mib:.0f} MiB; lookback {INPUT_SIZE}, horizon {HORIZON}.",
        "",
        "| stage | seconds | peak RSS (MiB) |",
        "|---|---:|---:|",
        *(f"| {name} | {sec:.2f} | {rss:.0f} |" for name, sec, rss in stages),
        "",
        "| split | windows | materialised float32 inputs+targets (GiB, computed, not allocated) |",
        "|---|---:|---:|",
        *(f"| {s} | {n} | {materialised_bytes(n) / 2**30:.2f} |" for s, n in counts.items()),
        f"| all | {sum(counts.values())} | "
        f"{materialised_bytes(sum(counts.values())) / 2**30:.2f} |",
        "",
        f"Peak RSS of the whole pipeline: {stages[-1][2]:.0f} MiB, of which "
        f"{stages[-1][2] - stages[0][2]:.0f} MiB above the imports; materialising the train "
        f"windows alone would take {materialised_bytes(counts['train']) / MIB:.0f} MiB.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate)
        return
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "electricity.csv"
        command = [sys.executable, __file__, "--generate", str(path)]
        sha256 = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        stages, counts = measure(Path(tmp), sha256.strip(), args.batches, args.batch_size)
        body = report(stages, counts, path.stat().st_size / MIB)
    print(body)
    if not args.no_write:
        from _report import write_section

        write_section("dataset_memory", "Dataset memory: Electricity-size windows as views", body)


if __name__ == "__main__":
    main()
