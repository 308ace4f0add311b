"""Tuned against literature-default PatchTST on the long ETT benchmark, in one run.

The tuning target of issue 24 on ETT: PatchTST tuned with Optuna beside PatchTST with the
literature defaults, both by the literature protocol of ``tsattn.benchmark`` (the split's
train-only standardization, training on train with early stopping on val, MSE/MAE on EVERY
test window), with the trials' wall and CPU seconds and the attention chosen.

Each trial builds PatchTST exactly as the runner builds a cell (the recipe
``literature:<dataset>[:quick]``: the dataset's reference architecture and training, the
runner's seed, epoch cap and device; :func:`tsattn.benchmark.runner.benchmark_defaults`) plus
the options a seeded TPE sampler draws from PatchTST's default space
(:func:`tsattn.auto.tune.default_search_space`, drawn and applied by ``tsattn.auto.tune``'s
``sample`` and ``build``): the attention (softmax, mlr, mlr-global, btt, sliding, none), the
look-back (336, or 2/4/8/16 times the horizon up to 336), patch length (stride half of it),
width (choices that the reference head count divides into heads of 2 or more, the reference
width among them), learning rate and dropout. The first trial is the literature defaults. A
trial fits on the train split, early-stopped on val, and its objective is the MSE on every
standardized VALIDATION window; the test split is touched only after the search, when the
best options and the defaults are fitted again (same seed) and scored on every test window.

A look-back shorter than ``--input-size`` reads the last steps of the same windows: every
model is validated and tested on the same target windows (those of ``--input-size``), and
early-stops on the same val windows.

``--quick`` is the runner's quick budget (at most 3 epochs of 4096 sampled train windows at a
constant lr 1e-3): a CPU budget, not the reference 100 epochs, so the numbers are far from the
published ones. Writes ``results/ett_tune/trials.csv`` (one row per trial: options, val
MSE/MAE, wall and CPU seconds) and ``results/ett_tune/results.csv`` (one row per model); a
rerun replaces only its own (dataset, horizon) rows. Optuna is the ``tsattn[tune]`` extra.

    OMP_NUM_THREADS=1 python benchmarks/ett_tune.py --data-dir ../shared/data \\
        --dataset ETTh1 --horizon 96 --quick --trials 8 --threads 1
    OMP_NUM_THREADS=1 python benchmarks/ett_tune.py --data-dir ../shared/data \\
        --dataset ETTm1 --horizon 96 --quick --trials 8 --threads 1
    # on one CPU thread, patch length 4 at look-back 336 (168 patches) costs ~13x the
    # default's training step (an ETTh1 quick trial took 26 min): leave it out there
    OMP_NUM_THREADS=1 python benchmarks/ett_tune.py --data-dir ../shared/data \\
        --dataset ETTh1 --horizon 96 --quick --trials 8 --threads 1 --time-limit 1500 \\
        --patch-lens 8 16 24
    # smoke test
    OMP_NUM_THREADS=1 python benchmarks/ett_tune.py --data-dir ../shared/data \\
        --quick --max-epochs 1 --trials 2 --threads 1
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from m4_tune import clock, since  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "ett_tune"
DATASETS = ("ETTh1", "ETTh2", "ETTm1", "ETTm2")
#: a row's identity in both CSVs: a rerun replaces the rows of its own (dataset, horizon)
KEYS = ["dataset", "horizon"]


def search_space(base, horizon: int, max_input: int, patch_lens=None) -> dict[str, Any]:
    """PatchTST's default space, adapted to the literature protocol: the look-back the model
    would choose itself (None) is the protocol's ``max_input``, and the widths are those that
    the reference head count divides into heads of two or more, the reference width added
    (ETTm's reference is 128 wide with 16 heads); ``patch_lens`` replaces the patch lengths."""
    from tsattn.auto.tune import default_search_space

    space = default_search_space("patchtst", horizon, max_input)
    looks = [max_input if v is None else v for v in space["input_size"]]
    space["input_size"] = sorted(set(looks), reverse=True)
    widths = {*space["d_model"], base.d_model}
    space["d_model"] = sorted(d for d in widths if d % base.n_heads == 0 and d >= 2 * base.n_heads)
    if patch_lens:
        space["patch_len"] = sorted(set(patch_lens))
    return space


def scored(model, split, which: str, batch_size: int):
    """The model's errors on every window of split ``which`` (of the split's input size),
    each read through the model's own look-back (its last steps)."""
    from tsattn.benchmark.scoring import score_windows

    lag = split.input_size - model.lookback

    def predict(x: np.ndarray) -> np.ndarray:
        return model.predict_windows(x[:, lag:], batch_size=batch_size)

    return score_windows(
        predict, split.array(which), split.input_size, split.horizon, batch_size=batch_size
    )


def fit(model, split):
    """``fit_arrays`` on the train split, early stopping on the val windows of the split's
    input size (a shorter look-back starts its first val window at the same target)."""
    lag = split.input_size - model.lookback
    if lag < 0:
        raise ValueError(f"look-back {model.lookback} > the split's {split.input_size}")
    return model.fit_arrays(split.train, split.val[lag:])


class Objective:
    """One trial: the sampled options on the literature model, the val MSE."""

    def __init__(self, base, split, space, batch_size: int) -> None:
        self.base, self.split, self.space, self.batch_size = base, split, space, batch_size

    def __call__(self, trial) -> float:
        from tsattn.auto.tune import build, sample

        start = clock()
        options = sample(trial, self.space)
        trial.set_user_attr("options", dict(options))
        try:
            model = fit(build(self.base, options), self.split)
            val = scored(model, self.split, "val", self.batch_size)
            trial.set_user_attr("val_mae", val.mae)
            trial.set_user_attr("epochs", model.training_summary().get("epochs"))
        finally:
            for key, value in since(start).items():
                trial.set_user_attr(key, value)
        if not math.isfinite(val.mse):
            raise ValueError("the trial's validation MSE is not finite")
        line = f"trial {trial.number}: val mse {val.mse:.4f} ({since(start)['wall_s']:.0f} s)"
        print(f"{line} {options}", flush=True)
        return val.mse


def trial_rows(study) -> list[dict[str, Any]]:
    rows = []
    for t in study.trials:
        options = t.user_attrs.get("options", t.params)
        rows.append(
            {
                "number": t.number,
                "state": t.state.name,
                "val_mse": t.value,
                "val_mae": t.user_attrs.get("val_mae"),
                "wall_s": t.user_attrs.get("wall_s"),
                "cpu_s": t.user_attrs.get("cpu_s"),
                "epochs": t.user_attrs.get("epochs"),
                **options,
                "options": json.dumps(options, sort_keys=True),
            }
        )
    return rows


def final_row(name, model, split, options, batch_size: int) -> dict[str, Any]:
    """Fit ``model`` and score it on every val and test window."""
    start = clock()
    fit(model, split)
    val = scored(model, split, "val", batch_size)
    test = scored(model, split, "test", batch_size)
    summary = model.training_summary()
    return {
        "model": name,
        "attention": options["attention"],
        "options": json.dumps(options, sort_keys=True),
        "val_mse": val.mse,
        "val_mae": val.mae,
        "test_mse": test.mse,
        "test_mae": test.mae,
        "test_windows": test.n_windows,
        "epochs": summary.get("epochs"),
        "best_epoch": summary.get("best_epoch"),
        "parameters": summary.get("parameters"),
        **since(start),
    }


def replace_rows(path: Path, rows: pd.DataFrame) -> pd.DataFrame:
    """``path``'s rows with those of ``rows``' (dataset, horizon) replaced by ``rows``."""
    from tsattn.atomic import atomic_file

    if path.exists():
        old = pd.read_csv(path)
        mine = old[KEYS].apply(tuple, axis=1).isin(set(rows[KEYS].apply(tuple, axis=1)))
        rows = pd.concat([old[~mine], rows], ignore_index=True)
    text = io.StringIO()
    rows.to_csv(text, index=False, float_format="%.6g")
    with atomic_file(path) as handle:
        handle.write(text.getvalue().encode())
    return rows


def markdown(table: pd.DataFrame) -> str:
    cells = table.map(lambda v: f"{v:.4f}" if isinstance(v, float) else str(v))
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in cells.to_numpy().tolist()]
    return "\n".join(lines)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("TSATTN_DATA_DIR"))
    parser.add_argument("--dataset", default="ETTh1", choices=DATASETS)
    parser.add_argument("--horizon", type=int, default=96)
    parser.add_argument("--input-size", type=int, default=336)
    parser.add_argument("--quick", action="store_true", help="3 epochs x 4096 windows (CPU)")
    parser.add_argument("--max-epochs", type=int, default=None, help="epoch cap (ref. 100)")
    parser.add_argument("--trials", type=int, default=8, help="trials, the defaults first")
    parser.add_argument("--time-limit", type=float, default=None, help="search seconds")
    parser.add_argument(
        "--patch-lens", type=int, nargs="+", help="patch length choices (default 4 8 16 24)"
    )
    parser.add_argument("--seed", type=int, default=0, help="the models' and the sampler's")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--device", default="auto")
    return parser.parse_args()


def main() -> None:
    import torch

    from tsattn.auto.tune import _defaults_in, _optuna, build
    from tsattn.benchmark.runner import EVAL_BATCH_SIZE, RunSettings, _build_model, _epoch_cap
    from tsattn.datasets import benchmark_split
    from tsattn.models.factory import parse_model_spec

    args = arguments()
    torch.set_num_threads(args.threads)
    optuna = _optuna()

    # the runner's cell: its split, settings and literature model (private runner helpers)
    split = benchmark_split(args.dataset, args.input_size, args.horizon, data_dir=args.data_dir)
    settings = RunSettings(args.input_size, args.quick, args.max_epochs, None, args.device, False)
    base = _build_model(args.dataset, parse_model_spec("patchtst"), split, args.seed, settings)
    space = search_space(base, args.horizon, args.input_size, args.patch_lens)
    defaults = _defaults_in(base, space)
    missing = sorted(set(space) - set(defaults))
    if missing:
        raise SystemExit(f"the literature defaults lie outside the space for {missing}")
    print(f"{args.dataset} h={args.horizon}: {split.n_windows} windows; space {space}")

    study = optuna.create_study(
        direction="minimize", sampler=optuna.samplers.TPESampler(seed=args.seed)
    )
    study.enqueue_trial(defaults)
    start = clock()
    study.optimize(
        Objective(base, split, space, EVAL_BATCH_SIZE),
        n_trials=args.trials,
        timeout=args.time_limit,
        catch=(ValueError, RuntimeError),
    )
    search = since(start)
    key = {"dataset": args.dataset, "horizon": args.horizon}
    trials = pd.DataFrame([{**key, **row} for row in trial_rows(study)])
    replace_rows(RESULTS / "trials.csv", trials)
    best = study.best_trial
    found = best.user_attrs["options"]
    print(f"search {search}: best trial {best.number} {found} (val mse {best.value:.4f})")

    rows = []
    for name, options in (("default", defaults), ("tuned", found)):
        rows.append(final_row(name, build(base, options), split, options, EVAL_BATCH_SIZE))
        print(rows[-1], flush=True)
    results = pd.DataFrame([{**key, **row} for row in rows]).assign(
        trials=len(trials),
        completed=int((trials["state"] == "COMPLETE").sum()),
        best_trial=best.number,
        search_wall_s=search["wall_s"],
        search_cpu_s=search["cpu_s"],
        trials_wall_s=trials["wall_s"].sum(),
        trials_cpu_s=trials["cpu_s"].sum(),
        input_size=args.input_size,
        quick=args.quick,
        max_epochs=_epoch_cap(settings) or 0,
        seed=args.seed,
        space=json.dumps(space),
        threads=torch.get_num_threads(),
    )
    replace_rows(RESULTS / "results.csv", results)
    shown = ["model", "attention", "val_mse", "val_mae", "test_mse", "test_mae", "wall_s"]
    print(markdown(results[shown].round(4)))
    print(markdown(trials[["number", "attention", "val_mse", "wall_s", "cpu_s"]].round(4)))


if __name__ == "__main__":
    main()
