"""neuralforecast's NHITS and PatchTST on the tasks of ``benchmarks/covariates.py``, with and
without the same covariates, by the same rolling origin.

The same three tasks (imported from ``covariates.py``: target, covariates, ``h``, history and
step), the same frame (the first ``history + windows * step`` rows of the CSV), the same
cutoffs (the last ``--windows`` windows of ``h`` steps, ``step`` apart, ending at the end of
that frame: the first cutoff is the last row of the history, as ``tsattn.backtest`` puts it),
and the same protocol: each model is fitted once on the history before the first window, then
forecasts every window with ``NeuralForecast.predict(df=history up to the cutoff)``, no refit;
MAE and MSE in the original scale. NHITS runs on every task first, then PatchTST.

Models: ``NHITS`` and ``PatchTST`` with their library defaults (``max_steps``, learning rate,
batch sizes, ``scaler_type="identity"``, PatchTST's RevIN, loss MAE, seed 1), given only
``h``, ``input_size = 2 * h`` (neuralforecast's quickstart choice, as ``m4_external.py``),
the data's freq and, with covariates, the task's columns: past-only ones as
``hist_exog_list``, the calendar as ``futr_exog_list`` with tsattn's calendar columns
(``hour``, ``dayofweek``, ``dayofmonth``, ``dayofyear``: the sine and cosine of the phases
``hour / 24``, ``dayofweek / 7``, ``(day - 1) / days_in_month``, ``(dayofyear - 1) /
days_in_year``, computed here with numpy, not neuralforecast's ``augment_calendar_df``).
neuralforecast's PatchTST accepts no exogenous variables (it raises "PatchTST does not
support historical exogenous variables"), so its "with covariates" rows are recorded as not
supported (empty scores). The trainer is only told to keep no logs and show no progress bar.

Neither library is a tsattn dependency and this script does not import tsattn (it reads the
gzipped CSVs with pandas): run it in a throwaway environment, e.g.

    python -m venv /tmp/nfenv && /tmp/nfenv/bin/pip install torch==2.13.0 neuralforecast
    OMP_NUM_THREADS=1 /tmp/nfenv/bin/python benchmarks/covariates_external.py \
        --data-dir ../shared/data

It writes ``results/covariates/external.csv``, which ``python benchmarks/covariates.py
--report-only`` shows beside tsattn's table. ``--max-steps N`` (or ``PatchTST=N``, for one
network) shortens the training budget; the row's model name then says so. Each run replaces
only the rows of the tasks, models and variants it ran.
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
from covariates import RESULTS, TASKS, Task, tidy  # noqa: E402 - it imports tsattn lazily

NEURAL = ("NHITS", "PatchTST")
DEFAULT_STEPS = {"NHITS": 1000, "PatchTST": 5000}
FREQ = {"ETTh1": "h", "weather": "10min"}
#: tsattn's calendar for hourly data (``calendar=True`` at freq "h")
CALENDAR = ("hour", "dayofweek", "dayofmonth", "dayofyear")


def read_wide(dataset: str, data_dir: str) -> pd.DataFrame:
    """The dataset's wide frame (``date`` parsed), read directly from ``NAME.csv(.gz)``."""
    for candidate in (Path(data_dir) / f"{dataset}.csv", Path(data_dir) / f"{dataset}.csv.gz"):
        if candidate.is_file():
            wide = pd.read_csv(candidate)
            wide["date"] = pd.to_datetime(wide["date"])
            return tidy(wide)  # as covariates.py cleans it
    raise FileNotFoundError(f"{dataset}.csv(.gz) not found in {data_dir}")


def calendar_frame(dates: pd.Series) -> pd.DataFrame:
    """tsattn's calendar columns of ``dates``: ``<feature>_sin``, ``<feature>_cos``."""
    dates = pd.DatetimeIndex(dates)
    year_length = np.where(dates.is_leap_year, 366.0, 365.0)
    phases = {
        "hour": dates.hour / 24,
        "dayofweek": dates.dayofweek / 7,
        "dayofmonth": (dates.day - 1) / dates.days_in_month.astype(np.float64),
        "dayofyear": (dates.dayofyear - 1) / year_length,
    }
    columns = {}
    for name in CALENDAR:
        angle = 2 * np.pi * np.asarray(phases[name], dtype=np.float64)
        columns[f"{name}_sin"], columns[f"{name}_cos"] = np.sin(angle), np.cos(angle)
    return pd.DataFrame(columns)


def task_frame(task: Task, data_dir: str, windows: int) -> tuple[pd.DataFrame, list[str]]:
    """``unique_id, ds, y`` and every covariate column of ``task``, cut as covariates.py cuts
    it (history plus the windows), and the names of the covariate columns."""
    wide = read_wide(task.dataset, data_dir).iloc[: task.history + windows * task.step]
    frame = pd.DataFrame({"unique_id": task.target, "ds": wide["date"], "y": wide[task.target]})
    for column in task.past:
        frame[column] = wide[column].to_numpy()
    if task.calendar:
        calendar = calendar_frame(frame["ds"])
        frame = pd.concat([frame.reset_index(drop=True), calendar], axis=1)
        return frame.reset_index(drop=True), list(calendar.columns)
    return frame.reset_index(drop=True), list(task.past)


def cutoff_positions(task: Task, n_rows: int, windows: int) -> list[int]:
    """Row positions of the cutoffs, as tsattn.backtest(n_windows=windows, step=step) puts
    them: the last one ``h`` rows before the end, the others ``step`` apart before it."""
    last = n_rows - task.h - 1
    return [last - k * task.step for k in range(windows)][::-1]


def make_model(name: str, task: Task, exog: list[str], max_steps: int | None):
    import neuralforecast.models as models

    options = {"logger": False, "enable_progress_bar": False, "enable_model_summary": False}
    if max_steps is not None:
        options["max_steps"] = max_steps
    if exog:
        options["futr_exog_list" if task.calendar else "hist_exog_list"] = exog
    return getattr(models, name)(h=task.h, input_size=2 * task.h, **options)


def run_one(task, frame, exog, name, windows, max_steps):
    """(errors over all windows (windows * h,), steps trained) of one model and variant."""
    from neuralforecast import NeuralForecast

    columns = ["unique_id", "ds", "y", *exog]
    cuts = cutoff_positions(task, len(frame), windows)
    assert cuts[0] == task.history - 1, (cuts[0], task.history)
    model = make_model(name, task, exog, max_steps)
    engine = NeuralForecast(models=[model], freq=FREQ[task.dataset])
    engine.fit(df=frame.iloc[: cuts[0] + 1][columns])
    errors = []
    for cut in cuts:
        future = frame.iloc[cut + 1 : cut + 1 + task.h]
        futr_df = future[["unique_id", "ds", *exog]] if task.calendar and exog else None
        out = engine.predict(df=frame.iloc[: cut + 1][columns], futr_df=futr_df).reset_index()
        out = out.sort_values("ds")
        if not np.array_equal(out["ds"].to_numpy(), future["ds"].to_numpy()):
            raise AssertionError(f"{task.name}: forecast dates differ after cutoff {cut}")
        errors.append(out[str(model)].to_numpy() - future["y"].to_numpy())
    steps = len(engine.models[0].train_trajectories)
    return np.concatenate(errors), steps, frame["ds"].iloc[cuts].tolist()


def label(name: str, max_steps: int | None) -> str:
    """The row's model name; it says when the training budget is not the default."""
    return name if max_steps is None else f"{name} (max_steps={max_steps})"


def parse_steps(text: str | None, names: list[str]) -> dict[str, int | None]:
    """``--max-steps``: ``N`` for every network, or ``NAME=N,...`` for some of them."""
    steps: dict[str, int | None] = dict.fromkeys(names)
    for part in (text or "").split(","):
        if "=" in part:
            name, value = part.split("=")
            steps[name.strip()] = int(value)
        elif part.strip():
            steps = dict.fromkeys(names, int(part))
    return steps


def save(rows: list[dict], out: Path) -> None:
    """Write ``rows`` to ``out``, replacing only the rows of the same task, model and variant."""
    new = pd.DataFrame(rows)
    if out.is_file():
        old = pd.read_csv(out)
        keys = ["task", "model", "covariates"]
        same = old[keys].apply(tuple, axis=1).isin(new[keys].apply(tuple, axis=1))
        new = pd.concat([old[~same], new], ignore_index=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    new.to_csv(out, index=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("TSATTN_DATA_DIR"))
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--models", default=",".join(NEURAL))
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument("--max-steps", help="N or NAME=N,...: not the default budget")
    parser.add_argument("--out", default=str(RESULTS / "external.csv"))
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    models = args.models.split(",")
    budget = parse_steps(args.max_steps, models)
    frames = {name: task_frame(TASKS[name], args.data_dir, args.windows) for name in TASKS}
    rows = []
    for name in models:  # one model over every task, then the next
        for task_name in args.tasks.split(","):
            task = TASKS[task_name]
            frame, columns = frames[task_name]
            for with_covariates in (False, True):
                row = {"task": task.name, "model": label(name, budget[name])}
                row["covariates"] = with_covariates
                if with_covariates and name == "PatchTST":  # no exogenous in neuralforecast
                    row["note"] = "no exogenous support in neuralforecast's PatchTST"
                    rows.append(row)
                    continue
                wall, cpu = time.perf_counter(), time.process_time()
                exog = columns if with_covariates else []
                error, steps, cuts = run_one(task, frame, exog, name, args.windows, budget[name])
                row |= {
                    "mae": float(np.abs(error).mean()),
                    "mse": float((error**2).mean()),
                    "wall_s": round(time.perf_counter() - wall, 1),
                    "cpu_s": round(time.process_time() - cpu, 1),
                    "steps": steps,
                    "input_size": 2 * task.h,
                    "first_cutoff": cuts[0],
                    "last_cutoff": cuts[-1],
                }
                rows.append(row)
                print(row, flush=True)
                save(rows, Path(args.out))  # kept as each run finishes
    save(rows, Path(args.out))


if __name__ == "__main__":
    main()
