"""Covariates on real data: the same models with and without them, by rolling origin.

Three tasks from the data dir (``TSATTN_DATA_DIR`` or ``--data-dir``), each a single target
series where a driver is plausible:

* ``etth1_ot_loads``: ETTh1's oil temperature (OT), hourly, with the six load columns
  (HUFL ... LULL) as past-only covariates (observed up to the cutoff, unknown after it);
* ``weather_t_air``: the Weather data's air temperature (10-minute steps) with pressure,
  humidity, wind speed and solar radiation as past-only covariates (the file's -9999 marks of
  missing wind speeds forward-filled: :func:`tidy`);
* ``etth1_hufl_calendar``: ETTh1's high useful load (HUFL) with calendar features (hour of
  day, day of week, day of month, day of year) as future-known covariates.

Each model is fitted once on the history before the first window (defaults only, the user
recipe), then forecasts ``--windows`` windows of ``h`` steps from the growing history
(``tsattn.backtest(..., refit=False)``); MAE and MSE in the original scale. Results go to
``results/covariates/results.csv`` and the "Covariates on real data" section of
BENCHMARKS.md.

    OMP_NUM_THREADS=1 python benchmarks/covariates.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "covariates"


@dataclass(frozen=True)
class Task:
    """One target series, its covariates and its windows."""

    name: str
    dataset: str
    target: str
    past: tuple[str, ...] = ()
    calendar: bool = False
    h: int = 24
    history: int = 8640  # rows before the first cutoff
    step: int = 24


TASKS = {
    "etth1_ot_loads": Task(
        "etth1_ot_loads", "ETTh1", "OT", past=("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL")
    ),
    "weather_t_air": Task(
        "weather_t_air",
        "weather",
        "T (degC)",
        past=("p (mbar)", "rh (%)", "wv (m/s)", "SWDR"),
        h=36,
        history=12_000,
        step=36,
    ),
    "etth1_hufl_calendar": Task("etth1_hufl_calendar", "ETTh1", "HUFL", calendar=True),
}
MODELS = ("nlinear", "dlinear", "patchtst", "sklearn")


#: the value the Weather file writes for a missing wind speed
MISSING_MARK = -9999.0


def tidy(wide: pd.DataFrame) -> pd.DataFrame:
    """The wide frame as a user would clean it: the solar radiation column under a short
    name (its unit is mis-encoded in the file), and the file's -9999 marks of missing values
    (Weather's wind speeds) forward-filled instead of read as numbers."""
    wide = wide.rename(columns={c: "SWDR" for c in wide.columns if str(c).startswith("SWDR")})
    values = wide.columns.drop("date")
    wide[values] = wide[values].mask(wide[values] == MISSING_MARK).ffill()
    return wide


def task_frame(task: Task, data_dir: str | None, windows: int) -> pd.DataFrame:
    """The long frame of ``task``: ``unique_id, ds, y`` and its covariate columns, cut to the
    history plus the windows."""
    from tsattn.datasets import load_dataset

    wide = tidy(load_dataset(task.dataset, data_dir=data_dir))
    rows = task.history + windows * task.step
    wide = wide.iloc[:rows]
    frame = pd.DataFrame({"unique_id": task.target, "ds": wide["date"], "y": wide[task.target]})
    for column in task.past:
        frame[column] = wide[column].to_numpy()
    return frame


def make_model(name: str, task: Task, with_covariates: bool, max_steps: object):
    """A model with its defaults (``max_steps`` for the networks), given the task's
    covariates or not."""
    from tsattn import create_model

    options: dict = {"alias": f"{name}{'+cov' if with_covariates else ''}"}
    if name != "sklearn":
        options.update(progress=False)
        if max_steps is not None:
            options["max_steps"] = max_steps
    if with_covariates:
        if task.past:
            options["hist_exog_list"] = list(task.past)
        if task.calendar:
            options["calendar"] = True
    return create_model(name, h=task.h, **options)


def run_task(task: Task, frame: pd.DataFrame, models: list[str], windows: int, max_steps):
    """One row per model and variant: MAE, MSE, wall and CPU seconds."""
    from tsattn import backtest

    rows = []
    for name in models:
        for with_covariates in (False, True):
            model = make_model(name, task, with_covariates, max_steps)
            wall, cpu = time.perf_counter(), time.process_time()
            result = backtest(
                model, frame, h=task.h, n_windows=windows, step=task.step, refit=False,
                progress=False,
            )  # fmt: skip
            error = result[model.name].to_numpy() - result["y"].to_numpy()
            rows.append(
                {
                    "task": task.name,
                    "model": name,
                    "covariates": with_covariates,
                    "mae": float(np.abs(error).mean()),
                    "mse": float((error**2).mean()),
                    "wall_s": round(time.perf_counter() - wall, 1),
                    "cpu_s": round(time.process_time() - cpu, 1),
                }
            )
            print(rows[-1], flush=True)
    return rows


def gains_table(results: pd.DataFrame) -> str:
    """Markdown: per task and model, MAE without and with covariates and their ratio."""
    lines = [
        "| task | model | MAE without | MAE with | ratio | MSE without | MSE with | CPU s (with) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    order = {name: i for i, name in enumerate(TASKS)}
    results = results.sort_values("task", key=lambda t: t.map(order), kind="stable")
    for (task, model), part in results.groupby(["task", "model"], sort=False):
        without = part[~part["covariates"]].iloc[0]
        with_ = part[part["covariates"]].iloc[0]
        lines.append(
            f"| {task} | {model} | {without.mae:.4g} | {with_.mae:.4g} | "
            f"{with_.mae / without.mae:.3f} | {without.mse:.4g} | {with_.mse:.4g} | "
            f"{with_.cpu_s:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("TSATTN_DATA_DIR"))
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument("--max-steps", type=int, help="cap the networks' steps (default: auto)")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--notes-file", help="a Markdown file appended to the section")
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "results.csv"
    if not args.report_only:
        tasks, models = args.tasks.split(","), args.models.split(",")
        kept = pd.read_csv(out) if out.is_file() else pd.DataFrame(columns=["task", "model"])
        rerun = kept["task"].isin(tasks) & kept["model"].isin(models)
        rows = kept[~rerun].to_dict("records")  # the rows of other tasks and models stay
        for name in tasks:
            task = TASKS[name]
            frame = task_frame(task, args.data_dir, args.windows)
            rows += run_task(task, frame, models, args.windows, args.max_steps)
            pd.DataFrame(rows).to_csv(out, index=False)  # kept as each task finishes
    results = pd.read_csv(out)
    body = (
        "Each model fitted once on the history before the first window with its defaults, "
        "then forecasting the windows from the growing history "
        "(`backtest(..., refit=False)`); MAE and MSE in the original scale; ratio = MAE "
        "with / without covariates (below 1: the covariates help).\n\n" + gains_table(results)
    )
    external = RESULTS / "external.csv"
    if external.is_file():
        table = gains_table(pd.read_csv(external)).replace(" nan |", " n/a |")
        body += (
            "\n\nneuralforecast's NHITS and PatchTST on the same frames and cutoffs, fitted "
            "once on the same history and predicting each window from the history up to its "
            "cutoff (`benchmarks/covariates_external.py`, in a throwaway environment): library "
            "defaults with `input_size` = 2 h, past-only covariates as `hist_exog_list`, the "
            "calendar as `futr_exog_list` (the same sine / cosine columns); PatchTST there "
            "takes no exogenous variables (n/a), and a name with `max_steps=N` was trained "
            "for N steps instead of the library's default.\n\n" + table
        )
    if args.notes_file:
        body += "\n\n" + Path(args.notes_file).read_text().strip()
    write_section("covariates", "Covariates on real data", body)


if __name__ == "__main__":
    main()
