"""AutoForecaster with its defaults against each of its candidates, on the real-series suite.

The 15 series of ``series_suite.REAL_SUITE`` (15-minute to quarterly, 100 to 3,000 points; the
three aeon series of the full suite are left out: aeon is not installed here), ``--windows``
rolling windows of ``h`` at the end of each series, refit at every window, defaults only.

At each window the script does what ``AutoForecaster(h).fit(train)`` does, with its own
functions (``validate``, ``combine``), and keeps every intermediate: the default candidates
are validated by rolling origin over the last 3 windows of the training data, then every
candidate (not only those with weight) is refit on the whole training data and forecasts the
window. Each candidate's own forecast is its score as a single model (a backtest with refit at
every window); the combination of the refit candidates by each ``method`` is what
``AutoForecaster(method=...)`` forecasts (``--check`` fits the real AutoForecaster on the last
window of one series and asserts the same numbers). AutoForecaster's seconds are the
validation plus the refits of the members it keeps (what its own fit spends).

    OMP_NUM_THREADS=1 python benchmarks/auto.py            # results/auto/per_series.csv
    OMP_NUM_THREADS=1 python benchmarks/auto.py --quick    # 3 series, 1 window

``--tune`` compares PatchTST tuned by ``tsattn.tune`` (its default search space, attention
included; ``--trials`` trials, 2 validation windows inside the training data) with PatchTST's
defaults on the last window of ``--tune-series``: the test MASE of both, the attention chosen,
the best validation MASE beside the best softmax trial's, and the search's seconds.

    OMP_NUM_THREADS=1 python benchmarks/auto.py --tune     # results/auto/tune.csv
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_series import scores, summary  # noqa: E402
from series_suite import REAL_SUITE, SeriesCase, _load_cases  # noqa: E402

import tsattn  # noqa: E402
from tsattn.auto.candidates import build_candidates  # noqa: E402
from tsattn.auto.combine import METHODS, combine  # noqa: E402
from tsattn.auto.validation import (  # noqa: E402
    season_of,
    series_scales,
    usable_windows,
    validate,
)
from tsattn.models.intervals import conformal_quantiles  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "auto"
QUICK = ["exchange_1_monthly", "ili_quarterly", "weather_pressure_daily"]
DEFAULT = "AutoForecaster"  # the default method's column; the others are Auto-<method>


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(start: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - start[0], time.process_time() - start[1]


def validated(train: pd.DataFrame, h: int, models: list[str] | None = None):
    """What ``AutoForecaster(h, models=models).fit(train)`` computes before it refits: the
    series, their season, the candidates (None: the default set), their validation and its
    (wall, CPU) seconds."""
    auto = tsattn.AutoForecaster(h=h, models=models)
    data = auto._series(train)
    season = season_of(data)
    candidates = build_candidates(models, season, {"h": h, "freq": None, "progress": False})
    windows = usable_windows(data, h, auto.n_windows)
    start = clock()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = validate(candidates, data, h, windows, math.inf, "warn")
    result.scale = series_scales(data, windows * h, season)[result.series]
    return auto, data, season, candidates, result, since(start)


def refit_all(candidates, result, train: pd.DataFrame, h: int) -> tuple[dict, dict]:
    """Every validated candidate refit on ``train``: its (n_series, h) forecasts and (wall,
    CPU) seconds; a candidate that fails here leaves the validation too."""
    forecasts, seconds = {}, {}
    for model in candidates:
        if model.name not in result.names:
            continue
        start = clock()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = model.fit(train).predict()
            forecasts[model.name] = out[model.name].to_numpy().reshape(-1, h)
        except Exception as err:  # noqa: BLE001 - a candidate that fails is left out
            print(f"    {model.name} failed at refit: {err}", flush=True)
        seconds[model.name] = since(start)
    keep = [j for j, name in enumerate(result.names) if name in forecasts]
    result.names = [result.names[j] for j in keep]
    result.forecasts = [result.forecasts[j] for j in keep]
    return forecasts, seconds


def combined(method: str, result, forecasts: dict, n_series: int):
    """(point (n_series, h), weights (n_series, M), scaled validation errors (n, h)) of one
    method, as AutoForecaster computes them."""
    h = next(iter(forecasts.values())).shape[-1]  # forecasts: (n_series, h) each
    _, weights = combine(
        method, result.matrix, result.actual, result.scale, result.series, n_series, h
    )
    stacked = np.stack([forecasts[n] for n in result.names])  # (M, S, h)
    point = np.einsum("msh,sm->sh", stacked, weights)
    errors = np.abs(result.actual - np.sum(result.matrix * weights[result.series], axis=1))
    return point, weights, (errors / result.scale).reshape(-1, h)


def one_window(train: pd.DataFrame, h: int) -> tuple[dict, dict]:
    """Forecasts of every candidate and every method for the ``h`` steps after ``train`` (one
    series), and the (wall, CPU) seconds each spent."""
    auto, data, _, candidates, result, validation = validated(train, h)
    forecasts, seconds = refit_all(candidates, result, train, h)
    forecasts = {name: f[0] for name, f in forecasts.items()}
    for method in METHODS:
        point, weights, _ = combined(method, result, {n: f[None] for n, f in forecasts.items()}, 1)
        name = DEFAULT if method == auto.method else f"Auto-{method}"
        members = [n for n, w in zip(result.names, weights[0]) if w > 0]
        forecasts[name] = point[0]
        refits = [seconds[n] for n in members]
        seconds[name] = tuple(v + sum(r[i] for r in refits) for i, v in enumerate(validation))
        if method == auto.method:
            print(f"    weights: {dict(zip(result.names, weights[0].round(3)))}", flush=True)
    return forecasts, seconds


def score_case(case: SeriesCase, n_windows: int) -> pd.DataFrame:
    """One row per model: its metrics on ``case`` over the windows and its seconds."""
    frame = case.frame
    n, h = len(frame), case.h
    windows, totals = [], {}
    for w in range(n_windows):
        cut = n - (n_windows - w) * h  # training rows of window w
        train, actual = frame.iloc[:cut], frame.iloc[cut : cut + h]
        forecasts, seconds = one_window(train, h)
        block = actual.assign(cutoff=train["ds"].iloc[-1], **forecasts)
        windows.append(block)
        for name, (wall, cpu) in seconds.items():
            before = totals.get(name, (0.0, 0.0))
            totals[name] = (before[0] + wall, before[1] + cpu)
    backtest = pd.concat(windows, ignore_index=True)
    rows = []
    for name, (wall, cpu) in totals.items():
        figures = scores(backtest, name, case) if name in backtest else {}
        rows.append({"model": name, **figures, "wall_s": wall, "cpu_s": cpu})
    return pd.DataFrame(rows).assign(series=case.name, freq=case.freq, n=n, h=h)


def check(case: SeriesCase) -> None:
    """The real AutoForecaster gives the numbers this script reconstructs (last window)."""
    train = case.frame.iloc[: len(case.frame) - case.h]
    forecasts, _ = one_window(train, case.h)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        real = tsattn.AutoForecaster(h=case.h).fit(train).predict()["AutoForecaster"]
    np.testing.assert_allclose(real.to_numpy(), forecasts[DEFAULT], rtol=1e-6, atol=1e-9)
    print(f"check: AutoForecaster on {case.name} equals the reconstruction", flush=True)


TUNE_SERIES = ["etth1_ot_hourly", "exchange_0_daily", "ili_weighted_weekly", "exchange_1_monthly"]


def tune_case(case: SeriesCase, trials: int) -> dict:
    """Tuned against default PatchTST on the last window of ``case``."""
    train, actual = case.frame.iloc[: -case.h], case.frame.iloc[-case.h :]
    start = clock()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = tsattn.tune("patchtst", train, case.h, n_trials=trials, n_windows=2)
        search = since(start)
        tuned = found.model.fit(train).predict()[found.model.name].to_numpy()
        default = tsattn.PatchTST(h=case.h, progress=False).fit(train).predict()["PatchTST"]
    trials_frame = found.trials
    done = trials_frame[trials_frame["state"] == "COMPLETE"]
    softmax = done[done["params_attention"] == "softmax"]["value"].min()
    block = actual.assign(cutoff=train["ds"].iloc[-1], tuned=tuned, default=default.to_numpy())
    return {
        "series": case.name,
        "test MASE default": scores(block, "default", case)["mase"],
        "test MASE tuned": scores(block, "tuned", case)["mase"],
        "attention": found.params.get("attention"),
        "best val MASE": found.value,
        "best softmax val MASE": softmax,
        "pruned": int((trials_frame["state"] == "PRUNED").sum()),
        "trials": len(trials_frame),
        "search wall s": search[0],
        "search CPU s": search[1],
        "options": {k: v for k, v in found.params.items() if k != "attention"},
    }


def run_tune(cases: list[SeriesCase], trials: int) -> None:
    rows = []
    for case in cases:
        print(f"tuning PatchTST on {case.name}", flush=True)
        rows.append(tune_case(case, trials))
        print(f"    {rows[-1]}", flush=True)
        pd.DataFrame(rows).to_csv(RESULTS / "tune.csv", index=False)
    print(pd.DataFrame(rows).drop(columns="options").round(3).to_string(index=False))


def run_m4(data_dir: str, models: list[str] | None = None, out: str = "m4.csv") -> None:
    """AutoForecaster's candidates (``models``; None: its default set) and its three methods
    on M4 Hourly, M4's metrics, and the default method's 80% and 95% intervals."""
    import m4

    ids, train, test = m4.load_m4(data_dir)
    frame, scale = m4.long_frame(ids, train), m4.mase_scale(train)
    auto, data, season, candidates, result, validation = validated(frame, m4.H, models)
    print(f"validation: {validation[0]:.0f} s wall, {validation[1]:.0f} s CPU", flush=True)
    forecasts, seconds = refit_all(candidates, result, frame, m4.H)
    rows = []
    for name, f in forecasts.items():
        row, _ = m4.scores(test, f, scale)
        rows.append({"model": name, **row, "wall_s": seconds[name][0], "cpu_s": seconds[name][1]})
    level_scale = series_scales(data, 0, season)[:, None, None]
    for method in METHODS:
        point, weights, errors = combined(method, result, forecasts, len(ids))
        upper = conformal_quantiles(np.zeros_like(point), errors, np.array([0.975, 0.9]))
        radius = upper * level_scale  # (S, h, 2): the 95% and 80% half-widths
        lo95, lo80 = point - radius[..., 0], point - radius[..., 1]
        hi95, hi80 = point + radius[..., 0], point + radius[..., 1]
        row, _ = m4.scores(test, point, scale, lo95, hi95)
        row["coverage80"] = float(np.mean((test >= lo80) & (test <= hi80)))
        used = [n for n, w in zip(result.names, weights.max(axis=0)) if w > 0]
        spent = [sum(seconds[n][i] for n in used) + validation[i] for i in (0, 1)]
        mean = dict(zip(result.names, weights.mean(axis=0).round(3)))
        name = DEFAULT if method == auto.method else f"Auto-{method}"
        rows.append({"model": name, **row, "wall_s": spent[0], "cpu_s": spent[1], "weights": mean})
        print(f"{name}: {rows[-1]}", flush=True)
    table = pd.DataFrame(rows).sort_values("owa")
    table.to_csv(RESULTS / out, index=False)
    print(table.drop(columns="weights").round(3).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("TSATTN_DATA_DIR", "../shared/data"))
    parser.add_argument("--windows", type=int, default=2)
    parser.add_argument("--series", help="comma-separated names (default: all 15)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--check", help="a series name to check the reconstruction on")
    parser.add_argument("--tune", action="store_true", help="tuned vs default PatchTST")
    parser.add_argument("--tune-series", default=",".join(TUNE_SERIES))
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--m4", action="store_true", help="M4 Hourly instead (results/auto/m4.csv)")
    parser.add_argument("--models", help="--m4: comma-separated candidate specs (default: the set)")
    parser.add_argument("--out", default="m4.csv", help="--m4: CSV name under results/auto/")
    args = parser.parse_args()
    cases = _load_cases(REAL_SUITE, args.data_dir)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.m4:
        run_m4(args.data_dir, args.models.split(",") if args.models else None, args.out)
        return
    if args.tune:
        wanted = args.tune_series.split(",")
        run_tune([c for c in cases if c.name in wanted], args.trials)
        return
    chosen = QUICK if args.quick else args.series.split(",") if args.series else None
    if chosen:
        cases = [c for c in cases if c.name in chosen]
    if args.check:
        check(next(c for c in cases if c.name == args.check))
        return
    out = RESULTS / ("per_series_quick.csv" if args.quick else "per_series.csv")
    done = []
    start = clock()
    for case in cases:
        print(f"{case.name} ({len(case.frame)} points, h={case.h})", flush=True)
        done.append(score_case(case, 1 if args.quick else args.windows))
        pd.concat(done, ignore_index=True).to_csv(out, index=False)
    wall, cpu = since(start)
    table = summary(pd.concat(done, ignore_index=True)).sort_values("mean MASE")
    print(table.round(3).to_string())
    print(f"total: {wall:.0f} s wall, {cpu:.0f} s CPU; per-series rows in {out}")


if __name__ == "__main__":
    main()
