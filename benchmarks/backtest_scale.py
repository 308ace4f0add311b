"""Backtests and forecasts over many series: 2,000 series x 500 rows, SeasonalNaive, 3 windows.

Times, each in a fresh process (imports not counted), on the same generated frame:

* ``backtest``: ``tsattn.backtest(SeasonalNaive(), df, h=24, n_windows=3)`` on hourly series;
* ``predict_df``: ``predict(df=...)`` of a fitted SeasonalNaive from all 2,000 histories;
* ``validate_h`` / ``validate_ms``: ``read_series`` of the hourly frame and of the same frame
  dated monthly (``MS``), and their ratio (monthly frames used to validate 8x slower).

With ``--compare-with REV`` the package as of git revision REV runs too (extracted with
``git archive`` into a temporary directory), alternating with the working tree round by
round so that the load of a shared machine falls on both alike. A cProfile of one backtest
of the working tree gives the time per stage. Raw seconds go to
``benchmarks/results/backtest_scale/``, the table to BENCHMARKS.md.

    python benchmarks/backtest_scale.py [--rounds 5] [--compare-with 7af6342]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "backtest_scale"
N_SERIES, N_ROWS, H, N_WINDOWS = 2000, 500, 24, 3
FIGURES = ("backtest", "predict_df", "validate_h", "validate_ms")
#: the stages of the profile: (label, file suffix, function name); cumulative seconds
STAGES = (
    ("read and validate the input", "evaluation/backtest.py", "_read"),
    ("build each window's frames", "evaluation/backtest.py", "_window"),
    ("fit (validation, series split)", "models/base.py", "fit"),
    ("  of which validation", "datasets/validation.py", "validate_long_frame"),
    ("predict (forecasts, future dates)", "models/base.py", "predict"),
    ("join forecasts to actuals", "evaluation/backtest.py", "_attach"),
)


def make_frame(freq: str = "h") -> pd.DataFrame:
    """``N_SERIES`` random-walk series of ``N_ROWS`` rows each, long form."""
    rng = np.random.default_rng(0)
    ds = pd.date_range("1980-01-01", periods=N_ROWS, freq=freq)
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"series_{i}" for i in range(N_SERIES)], N_ROWS),
            "ds": np.tile(ds, N_SERIES),
            "y": rng.normal(size=(N_SERIES, N_ROWS)).cumsum(axis=1).ravel(),
        }
    )


def run_backtest(frame: pd.DataFrame) -> pd.DataFrame:
    from tsattn import backtest
    from tsattn.models.baselines import SeasonalNaive

    return backtest(SeasonalNaive(h=H), frame, h=H, n_windows=N_WINDOWS)


def worker() -> None:
    """One round of every figure in this process; prints them as JSON."""
    from tsattn.datasets import read_series
    from tsattn.models.baselines import SeasonalNaive

    hourly, monthly = make_frame("h"), make_frame("MS")
    figures = {}
    start = time.perf_counter()
    run_backtest(hourly)
    figures["backtest"] = time.perf_counter() - start
    model = SeasonalNaive(h=H).fit(hourly)
    start = time.perf_counter()
    model.predict(df=hourly)
    figures["predict_df"] = time.perf_counter() - start
    for name, frame in (("validate_h", hourly), ("validate_ms", monthly)):
        start = time.perf_counter()
        read_series(frame)
        figures[name] = time.perf_counter() - start
    print(json.dumps(figures))


def one_round(package_dir: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(package_dir)}
    done = subprocess.run(
        [sys.executable, __file__, "--worker"], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def extract(revision: str, into: Path) -> Path:
    """The ``tsattn`` package as of ``revision``, extracted under ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "tsattn"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def stage_profile() -> list[tuple[str, float]]:
    """Cumulative seconds of each stage in one profiled backtest of the working tree."""
    frame = make_frame("h")
    run_backtest(frame.head(N_ROWS * 2))  # imports and first-call costs stay out
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(run_backtest, frame)
    total = time.perf_counter() - start
    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (cc, nc, tt, ct, callers)
    rows = []
    for label, suffix, name in STAGES:
        seconds = sum(
            v[3] for (file, _, func), v in stats.items() if file.endswith(suffix) and func == name
        )
        rows.append((label, seconds))
    return [("whole backtest (profiled)", total), *rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--compare-with", metavar="REV", help="git revision to compare with")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"now": ROOT}
        if args.compare_with:
            trees[args.compare_with] = extract(args.compare_with, Path(tmp))
        rows = []
        for r in range(args.rounds):
            for label, tree in trees.items() if r % 2 == 0 else reversed(trees.items()):
                rows.append({"round": r, "code": label, **one_round(tree)})
                print(rows[-1], flush=True)
    rounds = pd.DataFrame(rows)
    profile = stage_profile()
    text = report(rounds, profile, args)
    print(text)
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        rounds.to_csv(RESULTS / "rounds.csv", index=False)
        pd.DataFrame(profile, columns=["stage", "seconds"]).to_csv(
            RESULTS / "profile.csv", index=False
        )
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _report import write_section

        write_section("backtest_scale", "Backtests over many series", text)


def report(rounds: pd.DataFrame, profile: list[tuple[str, float]], args) -> str:
    medians = rounds.groupby("code", sort=False)[list(FIGURES)].median()
    lines = [
        f"{N_SERIES:,} series x {N_ROWS} rows, SeasonalNaive (season 24 from the hourly "
        f"frequency), h={H}, {N_WINDOWS} windows; each round in a fresh process, "
        f"{args.rounds} rounds"
        + (", alternating with the package as of the revision named" if args.compare_with else "")
        + "; medians in seconds (the machine was shared: read the ratios).",
        "",
        "| code | backtest | predict(df=...) | validate hourly | validate monthly | "
        "monthly / hourly |",
        "|---|---|---|---|---|---|",
    ]
    for code, m in medians.iterrows():
        lines.append(
            f"| {code} | {m.backtest:.2f} | {m.predict_df:.2f} | {m.validate_h:.2f} | "
            f"{m.validate_ms:.2f} | {m.validate_ms / m.validate_h:.2f} |"
        )
    if args.compare_with:
        old, now = medians.loc[args.compare_with], medians.loc["now"]
        speedup = ", ".join(f"{f} {old[f] / now[f]:.1f}x" for f in FIGURES)
        lines.append(f"\nSpeed-up of the working tree over {args.compare_with}: {speedup}.")
    lines += ["", "One profiled backtest of the working tree (cumulative seconds, cProfile):", ""]
    lines += ["| stage | seconds |", "|---|---|"]
    lines += [f"| {label} | {seconds:.2f} |" for label, seconds in profile]
    lines.append("\nRaw seconds: `benchmarks/results/backtest_scale/rounds.csv`, `profile.csv`.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
