"""Many series at scale (issue 26): the same local-model fits and backtests in one process,
in ``n_jobs=2`` local processes, and on a Dask cluster (``engine="dask"``, two single-threaded
worker processes on this machine), with wall and CPU seconds and a check that every mode gives
the same forecasts.

Data: M4 Hourly from the data dir (414 series, 700 to 960 hourly points; horizon 48, season 24).
The backtest case cuts the same training series into non-overlapping 168-hour pieces (one week
each, ~2,000 series) and backtests Theta and SeasonalNaive on their last day.

CPU seconds are this process's plus its child processes' (the loky workers, the Dask nanny and
worker processes), read with psutil before and after each run; wall seconds include starting
the worker processes (loky: the first ``n_jobs=2`` call of a process; Dask: the cluster is
started before the runs, and its start-up is reported on its own line).

    python benchmarks/scale_out.py --data-dir ../shared/data             # every case
    python benchmarks/scale_out.py --cases ets --series 100               # one, smaller
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import tsattn
from tsattn.parallel import run_units

RESULTS = Path(__file__).parent / "results" / "scale_out"
H, SEASON, PIECE = 48, 24, 168
CASES = ("control", "ets", "theta", "auto_arima", "backtest")


def m4_hourly(data_dir: str, n_series: int | None) -> pd.DataFrame:
    """M4 Hourly training series as a long frame on an integer time axis."""
    table = pd.read_csv(Path(data_dir) / "M4-Hourly-train.csv.gz")
    frames = []
    for row in table.head(n_series).itertuples(index=False):
        values = np.asarray(row[1:], dtype=float)
        values = values[~np.isnan(values)]
        frames.append(
            pd.DataFrame({"unique_id": row[0], "ds": np.arange(len(values)), "y": values})
        )
    return pd.concat(frames, ignore_index=True)


def weekly_pieces(frame: pd.DataFrame, n_series: int) -> pd.DataFrame:
    """Non-overlapping 168-step pieces of every series: ``n_series`` short series."""
    pieces = []
    for uid, one in frame.groupby("unique_id", sort=False):
        y = one["y"].to_numpy()
        for k in range(len(y) // PIECE):
            part = y[k * PIECE : (k + 1) * PIECE]
            pieces.append(
                pd.DataFrame({"unique_id": f"{uid}_{k}", "ds": np.arange(PIECE), "y": part})
            )
            if len(pieces) == n_series:
                return pd.concat(pieces, ignore_index=True)
    return pd.concat(pieces, ignore_index=True)


def _warm(_: int) -> int:
    """What a worker imports before its first unit (timed apart from the runs)."""
    import statsmodels.tsa.api  # noqa: F401

    import tsattn.models.baselines  # noqa: F401

    return os.getpid()


def busy(_: int, seconds: float = 1.0) -> int:
    """Burn ``seconds`` of CPU: the control case, which measures how many cores this session
    really gets (no library, no data: 4 units take 2 s on two free cores, 4 s on one)."""
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass
    return 0


def control_run(mode: dict) -> pd.DataFrame:
    if "engine" in mode:
        return pd.DataFrame({"x": run_units(busy, [(i,) for i in range(4)], engine="dask")})
    return pd.DataFrame({"x": run_units(busy, [(i,) for i in range(4)], **mode)})


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its live children."""
    import psutil

    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            continue
    return total


def timed(run: Callable[[], pd.DataFrame]) -> tuple[pd.DataFrame, float, float]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = run()
    return out, time.perf_counter() - wall, cpu_seconds() - cpu


def fit_predict(make: Callable[..., object], frame: pd.DataFrame, mode: dict) -> pd.DataFrame:
    return make(**mode).fit(frame).predict()


def backtest_run(frame: pd.DataFrame, mode: dict) -> pd.DataFrame:
    models = [tsattn.Theta(season_length=SEASON), tsattn.SeasonalNaive(season_length=SEASON)]
    return tsattn.backtest(models, frame, h=SEASON, n_windows=1, progress=False, **mode)


def first_series(data: pd.DataFrame, n: int) -> pd.DataFrame:
    return data[data["unique_id"].isin(data["unique_id"].unique()[:n])]


def case_runs(case: str, data: pd.DataFrame, args: argparse.Namespace):
    """(label, series, run(mode)) of a case; ``mode`` is n_jobs=/engine= keywords."""
    quiet = {"progress": False, "h": H, "season_length": SEASON}
    if case == "ets":
        some = first_series(data, args.ets_series)
        return "ETS fit+predict", some, lambda m: fit_predict(tsattn.ETS, some, {**quiet, **m})
    if case == "theta":
        return "Theta fit+predict", data, lambda m: fit_predict(tsattn.Theta, data, {**quiet, **m})
    if case == "auto_arima":
        some = first_series(data, args.arima_series)
        return (
            "AutoARIMA fit+predict",
            some,
            lambda m: fit_predict(tsattn.AutoARIMA, some, {**quiet, **m}),
        )
    raise ValueError(case)


#: run by ``--sf-python`` (a venv with statsforecast): AutoETS on the same series, one process
SF_SCRIPT = """
import json, sys, time
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS
frame = pd.read_csv(sys.argv[1])
sf = StatsForecast(models=[AutoETS(season_length=%d)], freq=1, n_jobs=int(sys.argv[2]))
first = frame[frame["unique_id"] == frame["unique_id"].iloc[0]]
sf.forecast(df=first, h=%d)  # compiles numba: not timed
start, cpu = time.perf_counter(), time.process_time()
out = sf.forecast(df=frame, h=%d)
wall, cpu = time.perf_counter() - start, time.process_time() - cpu
out = out.reset_index() if "unique_id" not in out.columns else out
print(json.dumps({"wall": wall, "cpu": cpu, "ids": out["unique_id"].astype(str).tolist(),
                  "forecast": out["AutoETS"].tolist()}))
"""


def statsforecast_ets(python: str, frame: pd.DataFrame, n_jobs: int) -> dict:
    """statsforecast's AutoETS (season 24) on ``frame`` in ``python``'s environment: its wall
    and CPU seconds (after one warm-up fit that compiles numba) and its forecasts."""
    import json
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "series.csv"
        frame.to_csv(path, index=False)
        script = SF_SCRIPT % (SEASON, H, H)
        done = subprocess.run(
            [python, "-c", script, str(path), str(n_jobs)], capture_output=True, text=True
        )
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # statsforecast sorts the series by id (H1, H10, H100, ...): back to the frame's order
    by_id = pd.DataFrame({"unique_id": result["ids"], "f": result["forecast"]})
    order = {uid: k for k, uid in enumerate(frame["unique_id"].unique())}
    by_id = by_id.assign(rank=by_id["unique_id"].map(order)).sort_values("rank", kind="stable")
    result["forecast"] = by_id["f"].tolist()
    return result


def smape(frame: pd.DataFrame, forecast: np.ndarray, data_dir: str) -> float:
    """M4's sMAPE (percent) of ``forecast`` (series after series, 48 steps each)."""
    test = pd.read_csv(Path(data_dir) / "M4-Hourly-test.csv.gz").set_index("V1")
    y = test.loc[frame["unique_id"].unique()].to_numpy(float)[:, :H].ravel()
    f = np.asarray(forecast, dtype=float)
    return float(np.mean(200 * np.abs(y - f) / (np.abs(y) + np.abs(f))))


def compare_statsforecast(args, data: pd.DataFrame) -> list[dict]:
    """tsattn's ETS against statsforecast's AutoETS on the first ``--sf-series`` series, one
    process each: CPU seconds (robust to a busy machine) and sMAPE on the M4 test set."""
    ids = data["unique_id"].unique()[: args.sf_series]
    some = data[data["unique_id"].isin(ids)]
    ours, wall, cpu = timed(
        lambda: tsattn.ETS(h=H, season_length=SEASON, progress=False).fit(some).predict()
    )
    theirs = statsforecast_ets(args.sf_python, some, 1)
    rows = [
        {"model": "tsattn ETS (statsmodels)", "wall_s": wall, "cpu_s": cpu,
         "smape": smape(some, ours["ETS"].to_numpy(), args.data_dir)},
        {"model": "statsforecast AutoETS", "wall_s": theirs["wall"], "cpu_s": theirs["cpu"],
         "smape": smape(some, np.array(theirs["forecast"]), args.data_dir)},
    ]  # fmt: skip
    for r in rows:
        print(f"{r['model']:28s} {len(ids)} series: wall {r['wall_s']:.1f} s, cpu "
              f"{r['cpu_s']:.1f} s, sMAPE {r['smape']:.2f}", flush=True)  # fmt: skip
    return rows


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("TSATTN_DATA_DIR", "../shared/data"))
    parser.add_argument("--series", type=int, default=None, help="M4 Hourly series (all: 414)")
    parser.add_argument("--ets-series", type=int, default=60)
    parser.add_argument("--arima-series", type=int, default=6)
    parser.add_argument("--backtest-series", type=int, default=2000)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated; none: none")
    parser.add_argument("--no-engine", action="store_true", help="skip the Dask runs")
    parser.add_argument("--out", default="results.csv")
    parser.add_argument("--sf-python", help="a python with statsforecast: compare AutoETS")
    parser.add_argument("--sf-series", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=1, help="runs of every mode, interleaved")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    data = m4_hourly(args.data_dir, args.series)
    if args.sf_python:
        sf_rows = pd.DataFrame(compare_statsforecast(args, data))
        RESULTS.mkdir(parents=True, exist_ok=True)
        sf_rows.assign(series=args.sf_series).to_csv(RESULTS / f"sf_{args.out}", index=False)
    modes = [("n_jobs=1", {"n_jobs": 1}), ("n_jobs=2", {"n_jobs": 2})]
    _warm(0)  # this process's imports, as the workers'
    _, wall, cpu = timed(lambda: run_units(_warm, [(0,), (1,)], n_jobs=2, progress=False))
    print(f"loky workers (2) started and imported tsattn in {wall:.1f} s ({cpu:.1f} CPU s)")
    client = None
    if not args.no_engine:
        from distributed import Client, LocalCluster

        started = time.perf_counter()
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=50,
        )
        client = Client(cluster)
        client.run(_warm, 0)  # the workers' imports, as loky's above (not in the runs)
        print(
            f"Dask local cluster (2 workers x 1 thread) started in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        modes.append(("dask (2 workers)", {"engine": "dask"}))
    rows = []
    for case in [c for c in args.cases.split(",") if c != "none"]:
        if case == "control":
            label, frame = "control: 4 x 1 CPU s busy loop", pd.DataFrame({"unique_id": [0]})
            run = control_run
        elif case == "backtest":
            pieces = weekly_pieces(data, args.backtest_series)
            label, frame = "backtest Theta+SeasonalNaive", pieces
            run = lambda m, p=pieces: backtest_run(p, m)  # noqa: E731
        else:
            label, frame, run = case_runs(case, data, args)
        first = None
        for name, mode in modes * args.repeat:  # repeats interleave the modes
            out, wall, cpu = timed(lambda r=run, m=mode: r(m))
            same = True if first is None else out.equals(first)
            first = out if first is None else first
            rows.append(
                {
                    "load_avg_1min": os.getloadavg()[0],
                    "case": label,
                    "series": frame["unique_id"].nunique(),
                    "mode": name,
                    "wall_s": wall,
                    "cpu_s": cpu,
                    "identical": same,
                }
            )
            print(
                f"{label:32s} {name:18s} wall {wall:8.1f} s  cpu {cpu:8.1f} s  "
                f"identical to n_jobs=1: {same}",
                flush=True,
            )
            RESULTS.mkdir(parents=True, exist_ok=True)
            pd.DataFrame(rows).to_csv(RESULTS / args.out, index=False)
    if client is not None:
        client.close()
        cluster.close()
    print(markdown(pd.DataFrame(rows)))


def markdown(rows: pd.DataFrame) -> str:
    """The BENCHMARKS.md table: wall and CPU per mode, speed-up over n_jobs=1."""
    lines = [
        "| case | series | mode | wall s | CPU s | speed-up (wall) | same forecasts |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    rows = rows.groupby(["case", "series", "mode"], sort=False, as_index=False).agg(
        wall_s=("wall_s", "median"), cpu_s=("cpu_s", "median"), identical=("identical", "all")
    )  # medians over repeats
    for _, group in rows.groupby("case", sort=False):
        base = group["wall_s"].iloc[0]
        for r in group.itertuples():
            lines.append(
                f"| {r.case} | {r.series} | {r.mode} | {r.wall_s:.1f} | {r.cpu_s:.1f} | "
                f"{base / r.wall_s:.2f}x | {'yes' if r.identical else 'NO'} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
