"""statsforecast's models on M4 Hourly, scored exactly as ``benchmarks/m4.py`` scores tsattn's.

The same data (checksums verified), the same hourly calendar, the same metrics (sMAPE, MASE with
m = 24, OWA, MSIS and coverage at 95%); each model fitted on all 414 train parts with its
defaults and the season(s) of hourly data: ``MSTL(season_length=[24, 168])``,
``AutoETS(season_length=24)``, ``AutoTheta(season_length=24)``. statsforecast is not a tsattn
dependency: run this in a throwaway environment (it needs numpy, pandas and statsforecast
only, not tsattn), e.g.

    python -m venv /tmp/sfenv && /tmp/sfenv/bin/pip install statsforecast
    /tmp/sfenv/bin/python benchmarks/m4_external.py --data-dir ../shared/data --models MSTL

It writes ``results/m4/external.csv`` (and ``per_series_external.csv``), which
``python benchmarks/m4.py --report-only`` puts in the BENCHMARKS.md section.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("TSATTN_DATA_DIR"), required=False)
    parser.add_argument("--models", default="MSTL,AutoTheta,AutoETS")
    parser.add_argument("--out", default="external.csv")
    args = parser.parse_args()
    m4.find_file = _local_file
    ids, train, test = m4.load_m4(args.data_dir)
    frame = m4.long_frame(ids, train)
    scale = m4.mase_scale(train)
    rows, per_series = [], []
    for name in args.models.split(","):
        wall, cpu = time.perf_counter(), time.process_time()
        f, lo, hi = forecast(name, frame, ids)
        seconds = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
        row, per = m4.scores(test, f, scale, lo, hi)
        rows.append({"model": f"statsforecast {name}", **row, **seconds, "threads": 1})
        per_series.append(per.assign(model=f"statsforecast {name}", unique_id=ids))
        print(f"{name}: {row} {seconds}", flush=True)
        m4.save(pd.DataFrame(rows), pd.concat(per_series), args.out)


if __name__ == "__main__":
    main()
