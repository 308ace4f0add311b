"""Tuned against default PatchTST on M4 Hourly, in one run (issue 24's tuning target).

``tsattn.tune("patchtst", ...)`` searches PatchTST's default space (the attention among it:
softmax, MLR, BTT, sliding, none; look-back, patch length, width, learning rate, dropout) on
the 414 train parts, validating each trial on their last 48 steps (inside the training data:
the test part is never seen), for ``--trials`` trials or ``--time-limit`` seconds. The best
options are then fitted on the whole train parts and scored on the test part exactly as
``benchmarks/m4.py`` scores (sMAPE, MASE, OWA), beside PatchTST with its defaults fitted in
the same run. Writes ``results/m4/tune.csv`` (one row per model, the trials' seconds and the
options chosen) and ``results/m4/tune_trials.csv``.

    OMP_NUM_THREADS=2 python benchmarks/m4_tune.py --data-dir ../shared/data --trials 6
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import m4  # noqa: E402


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(start: tuple[float, float]) -> dict[str, float]:
    return {"wall_s": time.perf_counter() - start[0], "cpu_s": time.process_time() - start[1]}


def score(model, frame: pd.DataFrame, ids, test, scale) -> dict[str, float]:
    """``model`` fitted on the train parts, scored on the test part."""
    out = model.fit(frame).predict().set_index(["unique_id", "ds"]).sort_index()
    values = out[model.name].unstack("ds")
    forecast = values.loc[ids].to_numpy()[:, : m4.H]
    row, _ = m4.scores(test, forecast, scale)
    return row


def main() -> None:
    import torch

    import tsattn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("TSATTN_DATA_DIR"))
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--time-limit", type=float, default=None, help="search seconds")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ids, train, test = m4.load_m4(args.data_dir)
    frame, scale = m4.long_frame(ids, train), m4.mase_scale(train)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = clock()
        found = tsattn.tune(
            "patchtst", frame, m4.H, n_trials=args.trials, n_windows=1, time_limit=args.time_limit
        )
        search = since(start)
        found.trials.to_csv(m4.RESULTS / "tune_trials.csv", index=False)
        print(f"search: {search}, best {found.params} (validation {found.value:.4f})", flush=True)
        for name, model in (("tuned", found.model), ("default", tsattn.PatchTST(h=m4.H))):
            model.progress, model.alias = False, name
            start = clock()
            row = score(model, frame, ids, test, scale)
            rows.append({"model": name, **row, **since(start), "attention": model.attention})
            print(rows[-1], flush=True)
    done = found.trials["state"] == "COMPLETE"
    summary = pd.DataFrame(rows).assign(
        search_wall_s=search["wall_s"],
        search_cpu_s=search["cpu_s"],
        trials=len(found.trials),
        completed=int(done.sum()),
        best_validation=found.value,
        options=str(found.params),
        threads=args.threads,
    )
    summary.to_csv(m4.RESULTS / "tune.csv", index=False, float_format="%.6g")
    print(summary.drop(columns="options").round(4).to_string(index=False))


if __name__ == "__main__":
    main()
