"""statsforecast's and neuralforecast's models on M4 Hourly, scored exactly as
``benchmarks/m4.py`` scores tsattn's.

The same data (checksums verified), the same hourly calendar, the same metrics (sMAPE, MASE with
m = 24, OWA, MSIS and coverage at 95%); each model fitted on all 414 train parts with its
defaults and the season(s) of hourly data: ``MSTL(season_length=[24, 168])``,
``AutoETS(season_length=24)``, ``AutoTheta(season_length=24)``. neuralforecast's ``NHITS`` and
``PatchTST`` get their defaults and only the required ``h=48, input_size=96`` (2 h, as
neuralforecast's quickstart sets it), freq "h"; they give point forecasts only (their default
MAE loss), so MSIS and coverage stay empty. Neither library is a tsattn dependency: run this in
a throwaway environment (it needs numpy, pandas and the library only, not tsattn), e.g.

    python -m venv /tmp/sfenv && /tmp/sfenv/bin/pip install statsforecast
    /tmp/sfenv/bin/python benchmarks/m4_external.py --data-dir ../shared/data --models MSTL

    python -m venv /tmp/nfenv && /tmp/nfenv/bin/pip install torch==2.13.0 neuralforecast
    OMP_NUM_THREADS=1 /tmp/nfenv/bin/python benchmarks/m4_external.py --data-dir \
        ../shared/data --models NHITS,PatchTST

It writes ``results/m4/external.csv`` (and ``per_series_external.csv``), replacing only the
rows of the models it ran, which ``python benchmarks/m4.py --report-only`` puts in the
BENCHMARKS.md section. ``--max-steps N`` shortens a network's training budget and
``--max-minutes M`` stops its training after M minutes of wall time (Lightning's ``max_time``);
the row's name then says so (with the steps it ran when the cap cut them short). PatchTST
neither decays its learning rate (``num_lr_decays=-1``) nor stops early by default, so a
PatchTST run cut at step N is the first N steps of its default run; NHITS decays it 3 times
over ``max_steps``, so a shorter NHITS budget is another schedule.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import m4  # noqa: E402

SEASONS = {"MSTL": [24, 168], "AutoETS": 24, "AutoTheta": 24}
#: neuralforecast models: only the required look-back given (2 h, the quickstart's choice)
NEURAL = ("NHITS", "PatchTST")
INPUT_SIZE = 2 * m4.H


def _local_file(name: str, data_dir: str | None) -> Path:
    """``name`` (.csv or .csv.gz) in ``data_dir``: this environment has no tsattn."""
    for candidate in (Path(data_dir) / name, Path(data_dir) / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{name}(.gz) not found in {data_dir}")


def forecast(name: str, frame: pd.DataFrame, ids: list[str]):
    """(point, lo, hi), each (414, 48), of one statsforecast model with its defaults."""
    import statsforecast.models as models
    from statsforecast import StatsForecast

    model = getattr(models, name)(season_length=SEASONS[name])
    engine = StatsForecast(models=[model], freq="h", n_jobs=1)
    out = engine.forecast(df=frame, h=m4.H, level=[95]).reset_index()
    out = out.set_index("unique_id").loc[ids]
    column = str(model)

    def matrix(col: str):
        return out[col].to_numpy().reshape(len(ids), m4.H)

    return matrix(column), matrix(f"{column}-lo-95"), matrix(f"{column}-hi-95")


def forecast_neural(
    name: str, frame: pd.DataFrame, ids: list[str], max_steps: int | None, minutes: float | None
):
    """(point (414, 48), steps trained) of one neuralforecast model with its defaults; the
    trainer is only told to keep no logs and show no progress bar or summary, and with
    ``minutes`` to stop training after that wall time (Lightning's ``max_time``)."""
    import neuralforecast.models as models
    import torch
    from neuralforecast import NeuralForecast

    torch.set_num_threads(1)
    budget = {} if max_steps is None else {"max_steps": max_steps}
    quiet = {"logger": False, "enable_progress_bar": False, "enable_model_summary": False}
    if minutes is not None:
        budget["max_time"] = {"minutes": minutes}
    model = getattr(models, name)(h=m4.H, input_size=INPUT_SIZE, **budget, **quiet)
    engine = NeuralForecast(models=[model], freq="h")
    engine.fit(df=frame)
    out = engine.predict().reset_index()  # unique_id is a column or (older) the index
    out = out.set_index("unique_id").loc[ids]
    fitted = engine.models[0]
    steps = len(fitted.train_trajectories)  # one (step, loss) per optimizer step
    return out[str(model)].to_numpy().reshape(len(ids), m4.H), steps


def label(name: str, max_steps: int | None, minutes: float | None, steps: int | None) -> str:
    """The row's name; a network's says how its budget differs from the default."""
    if name not in NEURAL:
        return f"statsforecast {name}"
    if max_steps is not None:
        return f"neuralforecast {name} (max_steps={max_steps})"
    default = {"NHITS": 1000, "PatchTST": 5000}[name]
    if minutes is not None and steps is not None and steps < default:
        cap = f"stopped by a {minutes:g}-min cap at {steps} of {default} steps"
        return f"neuralforecast {name} ({cap})"
    return f"neuralforecast {name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("TSATTN_DATA_DIR"), required=False)
    parser.add_argument("--models", default="MSTL,AutoTheta,AutoETS")
    parser.add_argument("--out", default="external.csv")
    parser.add_argument("--max-steps", type=int, default=None, help="networks: not the default")
    parser.add_argument("--max-minutes", type=float, default=None, help="networks: time cap")
    args = parser.parse_args()
    m4.find_file = _local_file
    ids, train, test = m4.load_m4(args.data_dir)
    frame = m4.long_frame(ids, train)
    scale = m4.mase_scale(train)
    rows, per_series = [], []
    for name in args.models.split(","):
        wall, cpu = time.perf_counter(), time.process_time()
        extra = {}
        if name in NEURAL:
            f, extra["steps"] = forecast_neural(name, frame, ids, args.max_steps, args.max_minutes)
            lo = hi = None
            extra["lookback"] = INPUT_SIZE
        else:
            f, lo, hi = forecast(name, frame, ids)
        seconds = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
        row, per = m4.scores(test, f, scale, lo, hi)
        model = label(name, args.max_steps, args.max_minutes, extra.get("steps"))
        rows.append({"model": model, **row, **seconds, "threads": 1, **extra})
        per_series.append(per.assign(model=model, unique_id=ids))
        print(f"{name}: {row} {seconds}", flush=True)
        m4.save(pd.DataFrame(rows), pd.concat(per_series), args.out)


if __name__ == "__main__":
    main()
