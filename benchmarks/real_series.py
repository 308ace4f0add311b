"""Point forecasts on 18 real series with every default left as is (issue 13).

Every model forecasts the series of ``series_suite.load_real_suite`` (30-minute to yearly, 53 to
3,000 points) by rolling origin: ``--windows`` cutoffs ``h`` apart at the end of each series,
refit at every cutoff, defaults only (no per-series tuning; only ``h`` is given, and the season
comes from the data's frequency). Per series: MASE and sMAPE. Aggregates: mean MASE, the
geometric mean over series of the MAE relative to the seasonal naive's, and the share of series
where a model's MAE is below the seasonal naive's.

    python benchmarks/real_series.py --aeon-dir /tmp/aeon_x    # BENCHMARKS.md, results/real_series/
    python benchmarks/real_series.py --quick                   # 4 series, 2 windows: a smoke run

The external half (statsforecast, neuralforecast) is ``benchmarks/real_series_external.py``;
its per-series CSV, when present, joins the table written here.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402
from series_suite import SeriesCase, load_real_suite  # noqa: E402

import tsattn  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "real_series"
METRICS = ["mae", "mase", "smape"]
REFERENCE = "SeasonalNaive"
AUTO = "AutoForecaster"
NEURAL = [
    "PatchTST-softmax",
    "PatchTST-mlr",
    "PatchTST-btt",
    "DLinear",
    "NLinear",
    "Transformer",
    "VanillaTransformer",
]
QUICK_SERIES = ["etth1_ot_hourly", "weather_pressure_daily", "exchange_1_monthly", "ili_quarterly"]


def models_for(h: int) -> list:
    """Every compared tsattn model with its defaults (only ``h``; quiet, on the CPU)."""
    quiet = dict(progress=False, device="cpu")
    patchtst = [
        tsattn.PatchTST(h=h, attention=kind, alias=f"PatchTST-{kind}", **quiet)
        for kind in ("softmax", "mlr", "btt")
    ]
    return [
        tsattn.SeasonalNaive(h=h),
        tsattn.Naive(h=h),
        tsattn.ETS(h=h),
        tsattn.ARIMA(h=h),
        tsattn.AutoARIMA(h=h),
        tsattn.Theta(h=h),
        tsattn.SklearnForecaster(h=h),
        *patchtst,
        tsattn.DLinear(h=h, **quiet),
        tsattn.NLinear(h=h, **quiet),
        tsattn.Transformer(h=h, **quiet),
        tsattn.VanillaTransformer(h=h, **quiet),
        tsattn.AutoForecaster(h=h),
    ]


def score_case(
    case: SeriesCase, windows: int, only: list[str] | None, n_jobs: int = 1
) -> pd.DataFrame:
    """One row per model: its metrics on ``case`` and its wall and CPU seconds (CPU NaN with
    ``n_jobs`` > 1: the workers' time is not this process's)."""
    rows = []
    for model in models_for(case.h):
        if only and model.name not in only and model.name != REFERENCE:
            continue
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            frame = tsattn.backtest(
                model, case.frame, h=case.h, n_windows=windows, on_error="warn", n_jobs=n_jobs
            )
            figures = scores(frame, model.name, case)
        except ValueError as error:  # the series is too short for the model's defaults
            print(f"  {case.name} {model.name} cannot run: {error}", flush=True)
            figures = dict.fromkeys(METRICS, float("nan"))
        cpu = time.process_time() - cpu if n_jobs == 1 else float("nan")
        seconds = {"wall_s": time.perf_counter() - wall, "cpu_s": cpu}
        rows.append({"model": model.name, **figures, **seconds})
        print(f"  {case.name} {model.name}: {seconds['wall_s']:.0f} s", flush=True)
    frame = pd.DataFrame(rows).assign(series=case.name, freq=case.freq, n=len(case.frame))
    return frame.assign(h=case.h)


def scores(frame: pd.DataFrame, column: str, case: SeriesCase) -> dict[str, float]:
    """MAE, MASE and sMAPE of ``column`` in a backtest frame; NaN when a window failed (the
    failure is counted, not hidden: the model has no figures for that series)."""
    if frame[column].isna().any():
        return dict.fromkeys(METRICS, float("nan"))
    table = tsattn.evaluate(
        frame, metrics=METRICS, train_df=case.frame, season_length=case.season_length
    )
    return dict(table.set_index("metric")[column])


def summary(per_series: pd.DataFrame) -> pd.DataFrame:
    """Per model: mean MASE and sMAPE, the geometric mean of MAE / seasonal naive MAE, the share
    of series it beats the seasonal naive on, and its seconds over the suite."""
    reference = per_series[per_series["model"] == REFERENCE].set_index("series")["mae"]
    relative = per_series["mae"] / per_series["series"].map(reference)
    scored = per_series.assign(log_rel=np.log(relative), beats=relative < 1)
    grouped = scored.groupby("model", sort=False)
    return pd.DataFrame(
        {
            "mean MASE": grouped["mase"].mean(),
            "mean sMAPE": grouped["smape"].mean(),
            "gmean rel MAE": np.exp(grouped["log_rel"].mean()),
            "beats SN %": 100 * grouped["beats"].mean(),
            "series": grouped["mase"].count(),
            "wall s": grouped["wall_s"].sum(),
            "cpu s": grouped["cpu_s"].sum(),
        }
    )


def table_rows(table: pd.DataFrame) -> list[str]:
    """The markdown table of :func:`summary`'s figures."""
    rows = [
        "| model | mean MASE | mean sMAPE | gmean MAE / SN | beats SN | series | wall s | CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for model, r in table.iterrows():
        rows.append(
            f"| {model} | {r['mean MASE']:.3f} | {r['mean sMAPE']:.2f} | "
            f"{r['gmean rel MAE']:.3f} | {r['beats SN %']:.0f}% | {r['series']:.0f} | "
            f"{r['wall s']:.0f} | {r['cpu s']:.0f} |"
        )
    return rows


def targets(table: pd.DataFrame) -> list[str]:
    """Issue 13's targets, each with its figures and whether it is met (missing models are
    skipped)."""
    mase, lines = table["mean MASE"], []

    def line(text: str, met: bool) -> None:
        lines.append(f"- {'met' if met else '**missed**'}: {text}")

    for name in [n for n in NEURAL if n in table.index]:
        rel = table.loc[name, "gmean rel MAE"]
        line(f"{name} beats seasonal naive on gmean relative MAE ({rel:.3f} < 1)", rel < 1)
    for name in [n for n in NEURAL if n.startswith("PatchTST") and n in table.index]:
        share = table.loc[name, "beats SN %"]
        line(f"{name} beats seasonal naive on {share:.0f}% of the series (>= 80%)", share >= 80)
    neural = mase[[n for n in NEURAL if n in mase.index]]
    stats = mase[[n for n in mase.index if n.startswith("sf-")]]
    if len(neural) and len(stats):
        ratio = neural.min() / stats.min()
        line(
            f"best tsattn neural ({neural.idxmin()}, {neural.min():.3f}) within 5% of the best "
            f"statsforecast model ({stats.idxmin()}, {stats.min():.3f}) on mean MASE: ratio "
            f"{ratio:.3f}",
            ratio <= 1.05,
        )
    if len(neural) and "nf-PatchTST" in mase.index:
        line(
            f"best tsattn neural ({neural.min():.3f}) ahead of neuralforecast PatchTST "
            f"({mase['nf-PatchTST']:.3f}) on mean MASE",
            neural.min() < mase["nf-PatchTST"],
        )
    if AUTO in mase.index:
        lines.extend(auto_targets(table))
    for ours, theirs in (("ETS", "sf-AutoETS"), ("AutoARIMA", "sf-AutoARIMA")):
        if ours in mase.index and theirs in mase.index:
            ratio = mase[ours] / mase[theirs]
            line(
                f"{ours} ({mase[ours]:.3f}) within 3% of {theirs} ({mase[theirs]:.3f}) on mean "
                f"MASE: ratio {ratio:.3f}",
                ratio <= 1.03,
            )
    return lines


def auto_targets(table: pd.DataFrame) -> list[str]:
    """Issue 24's targets: AutoForecaster's mean MASE and geometric-mean relative MAE below
    every other tsattn model's and below statsforecast's AutoARIMA's."""
    lines = []
    singles = table.drop(index=[AUTO, *(n for n in table.index if n[:3] in ("sf-", "nf-"))])
    for column in ("mean MASE", "gmean rel MAE"):
        ours, best = table.loc[AUTO, column], singles[column].idxmin()
        met = ours < singles[column].min()
        lines.append(
            f"- {'met' if met else '**missed**'}: {AUTO} {column} {ours:.3f} below every "
            f"single tsattn model's (best: {best}, {singles.loc[best, column]:.3f})"
        )
        if "sf-AutoARIMA" in table.index:
            theirs = table.loc["sf-AutoARIMA", column]
            lines.append(
                f"- {'met' if ours < theirs else '**missed**'}: {AUTO} {column} {ours:.3f} "
                f"below sf-AutoARIMA's ({theirs:.3f})"
            )
    return lines


def common_series(per_series: pd.DataFrame) -> list[str]:
    """The series that every model of ``per_series`` has figures for."""
    counts = per_series.groupby("series")["model"].nunique()
    return sorted(counts.index[counts == per_series["model"].nunique()])


def write_report(external_steps: int | None = None, notes: tuple[str, ...] = ()) -> None:
    """The BENCHMARKS.md section from ``per_series.csv`` and, when present,
    ``external_per_series.csv`` (written by ``real_series_external.py``)."""
    ours = pd.concat([pd.read_csv(f) for f in sorted(RESULTS.glob("per_series*.csv"))])
    ours = ours.drop_duplicates(["series", "model"], keep="last")
    external = [pd.read_csv(f) for f in sorted(RESULTS.glob("external_per_series*.csv"))]
    external = pd.concat(external) if external else ours.iloc[:0]
    everything = pd.concat([ours, external], ignore_index=True)
    table = summary(everything)
    common = common_series(everything)
    same = summary(everything[everything["series"].isin(common)])
    tsattn_models = ours["model"].unique()
    wall = table.loc[tsattn_models, "wall s"].sum()
    cpu = table.loc[tsattn_models, "cpu s"].sum()
    steps = "their own" if external_steps is None else f"{external_steps}"
    body = [
        f"{ours['series'].nunique()} real series (`benchmarks/series_suite.py`, "
        "`load_real_suite`: 30-minute, 15-minute, hourly, daily, weekly, monthly, quarterly and "
        "yearly; 53 to 3,000 points), 4 rolling windows of h each (the last 4 h steps), refit "
        "per window, every model with its defaults (only `h` given). `gmean MAE / SN`: "
        "geometric mean over series of the MAE relative to the seasonal naive's; `beats SN`: "
        "share of series with a lower MAE. sf-*: statsforecast (season_length = the "
        "frequency's season); nf-*: neuralforecast, `input_size = 2 h`, max_steps "
        f"{steps} (`benchmarks/real_series_external.py`). Seconds: summed over all series and "
        "windows, on a machine shared with other jobs (wall time is inflated; CPU time counts "
        "this process's cores).",
        "",
        *table_rows(table),
        "",
        f"The same on the {len(common)} series every model finished "
        f"({', '.join(common)}); the targets below are judged on these:",
        "",
        *table_rows(same),
        "",
        f"tsattn's models over the series in the first table: {wall / 60:.1f} min wall, "
        f"{cpu / 60:.1f} min CPU.",
        "",
        "Targets:",
        *targets(same),
        "",
        "Per-series figures: `benchmarks/results/real_series/per_series*.csv` (tsattn) and "
        "`external_per_series*.csv`.",
        *notes,
    ]
    title = "Real series with defaults only: tsattn, statsforecast and neuralforecast"
    write_section("real_series", title, "\n".join(body))


def chosen_cases(args: argparse.Namespace) -> list[SeriesCase]:
    """The suite's cases named by ``--series`` (in that order), the quick set with ``--quick``,
    else all of them."""
    cases = load_real_suite(args.data_dir, args.aeon_dir)
    chosen = args.series.split(",") if args.series else (QUICK_SERIES if args.quick else None)
    if not chosen:
        return cases
    by_name = {c.name: c for c in cases}
    return [by_name[name] for name in chosen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("TSATTN_DATA_DIR"),
        required="TSATTN_DATA_DIR" not in os.environ,
        help="the data dir (the benchmark CSVs); default: $TSATTN_DATA_DIR",
    )
    parser.add_argument("--aeon-dir", default=None, help="unpacked aeon wheel (default: import)")
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument(
        "--n-jobs", type=int, default=1, help="backtest worker processes (windows x models)"
    )
    parser.add_argument("--models", default=None, help="comma-separated names (default: all)")
    parser.add_argument("--series", default=None, help="comma-separated names (default: all)")
    parser.add_argument("--quick", action="store_true", help="4 series, 2 windows")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--out", default="per_series.csv", help="per-series CSV under results/real_series/"
    )
    parser.add_argument(
        "--report-only", action="store_true", help="rebuild the BENCHMARKS.md section from the CSVs"
    )
    parser.add_argument("--notes-file", type=Path, help="markdown placed under the targets")
    args = parser.parse_args()
    notes = ("", args.notes_file.read_text().strip()) if args.notes_file else ()
    if args.report_only:
        write_report(notes=notes)
        return
    cases = chosen_cases(args)
    if args.quick:
        args.windows = 2
    only = args.models.split(",") if args.models else None
    frames = []
    for case in cases:
        frames.append(score_case(case, args.windows, only, args.n_jobs))
        print(frames[-1].round(3).to_string(index=False), flush=True)
        if not args.no_write:  # what finished survives an interrupted run
            save_rows(pd.concat(frames, ignore_index=True), RESULTS / args.out)
    per_series = pd.concat(frames, ignore_index=True)
    print(summary(per_series).round(3).to_string())
    if not args.no_write:
        write_report(notes=notes)


def save_rows(rows: pd.DataFrame, path: Path) -> None:
    """Write ``rows`` to ``path``, replacing the rows of the same (series, model) there: a run
    of some series or models updates the suite's table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        kept = pd.read_csv(path)
        done = kept.set_index(["series", "model"]).index.isin(
            rows.set_index(["series", "model"]).index
        )
        rows = pd.concat([kept[~done], rows], ignore_index=True)
    rows.to_csv(path, index=False)


if __name__ == "__main__":
    main()
