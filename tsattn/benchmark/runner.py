"""The literature benchmark runner: train on train, early-stop on val, score every test window.

One *cell* is (dataset, model, horizon, input size, seed). Each finished cell is appended to
``<out_dir>/results.csv`` (the single source) and ``results.json`` (rebuilt from it), so a long
campaign can be stopped and resumed: cells already present are skipped. Several processes may
share one ``out_dir``: appends are locked and re-read the files first, so no row is lost, and a
process claims a cell before running it (:mod:`tsattn.benchmark.claims`), so each cell runs
once; a cell another live process has claimed is skipped and logged.

>>> results = run_benchmark("ETTh1", ["patchtst:mlr", "dlinear"], horizons=[96])  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tsattn.benchmark import claims
from tsattn.benchmark.reference import published
from tsattn.benchmark.results_store import (
    CELL_KEYS,
    LOCK_FILE,
    RESULT_FILES,
    append_locked,
    has_cell,
    matches,
    read_results,
    repair_json,
    results_lock,
)
from tsattn.benchmark.scoring import INTERVAL_LEVELS, QuantileScores, score_windows
from tsattn.datasets import BenchmarkSplit, benchmark_split, get_spec
from tsattn.models import MODELS, Forecaster
from tsattn.models.base import no_window_entry
from tsattn.models.factory import ModelSpec, build_model, parse_model_spec
from tsattn.models.recipes import QUICK, Recipe
from tsattn.nn.probabilistic import DEFAULT_QUANTILES
from tsattn.parallel import run_units

log = logging.getLogger(__name__)

__all__ = ["CELL_KEYS", "LOCK_FILE", "RESULT_FILES", "format_table", "run_benchmark"]

#: cells that differ only in these are averaged over seeds in the printed table
TABLE_KEYS = ["dataset", "horizon", "input_size", "quick", "legacy_drop_last", "max_epochs"]
#: quick mode (the ``literature:<dataset>:quick`` recipe, :data:`tsattn.models.recipes.QUICK`):
#: a few minutes on a laptop CPU instead of the reference 100 epochs at lr 1e-4, though every
#: test window is still scored
QUICK_MAX_EPOCHS = QUICK["max_epochs"]


#: windows per forward pass when scoring every test window (a speed setting only: the
#: forecasts are identical at every size, the scores up to the order of float64 sums).
#: Chosen by benchmarks/eval_batch.py (ETTh1, the reference PatchTST, input 336, horizon 96,
#: interleaved rounds; BENCHMARKS.md "Runner evaluation batch"): at 1 torch thread 128 was
#: the fastest (5.45 s for 1,024 windows; 64: 1.01x, 256: 1.62x, 512: 2.42x, 1024: 4.40x
#: its time), and that was the fastest setting measured at any thread count; at 2 threads on
#: the overloaded shared machine larger batches amortised the threads' synchronisation (1024
#: fastest, 128 1.54x slower, yet 1.9x slower than 1 thread at 128). Issue 17 had measured 256
#: 1.41x slower than 128 on the same data.
EVAL_BATCH_SIZE = 128


@dataclass(frozen=True)
class RunSettings:
    """Options shared by every cell of one :func:`run_benchmark` call."""

    input_size: int
    quick: bool
    max_epochs: int | None
    legacy_drop_last: int | None
    device: str
    progress: bool
    eval_batch_size: int = EVAL_BATCH_SIZE


def run_benchmark(
    dataset: str,
    models: Sequence[str | ModelSpec],
    horizons: Sequence[int] = (96, 192, 336, 720),
    input_size: int = 336,
    seeds: Sequence[int] = (0,),
    out_dir: str | os.PathLike = "results",
    data_dir: str | os.PathLike | None = None,
    quick: bool = False,
    max_epochs: int | None = None,
    legacy_drop_last: int | None = None,
    device: str = "auto",
    progress: bool = True,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Benchmark ``models`` on ``dataset`` by the literature protocol.

    Neural models train on the standardized train split with early stopping on val (the
    dataset's reference training protocol, and for PatchTST its reference architecture, fill
    whatever a spec leaves unset; other models keep their own architecture defaults) and
    are scored on EVERY test window (MSE/MAE on standardized data, as in the papers; a
    model trained with a probabilistic ``loss`` also gets ``crps``, ``wql`` and
    ``coverage_80`` / ``coverage_95`` on the same windows and scale, empty for the others);
    ``legacy_drop_last=<batch size>`` reproduces the PatchTST code's ``drop_last`` test
    loader. ``naive`` and ``seasonal_naive`` are scored on the same windows. Every model goes
    through the same window-level entry (:meth:`~tsattn.models.Forecaster.fit_arrays` on the
    split's standardized train/val arrays, :meth:`~tsattn.models.Forecaster.predict_windows`
    on its test windows); models that fit per series have none and are refused.

    Args:
        dataset: a benchmark name (see :func:`tsattn.list_datasets`).
        models: specs such as ``"patchtst:mlr"``, ``"patchtst:softmax"``, ``"dlinear"``,
            ``"seasonal_naive"``, or ``"patchtst:mlr:ranks=[2,1,1]"``.
        quick: 3 epochs of 4096 sampled train windows at lr 1e-3 (a few minutes on a CPU;
            a smoke run, not the reference training budget).
        max_epochs: cap on the epochs of every neural model (the reference is 100).
        n_jobs: cells run at once in local processes (:func:`tsattn.parallel.run_units`; each
            with cores // n_jobs torch threads, and no training bars); 1: one after another.

    Returns:
        The requested cells (run now, or found in ``out_dir`` from an earlier run), one row
        per cell, with ``mse``, ``mae``, window counts, timings and the published figures.
    """
    settings = RunSettings(input_size, quick, max_epochs, legacy_drop_last, device, progress)
    specs = [parse_model_spec(m) if isinstance(m, str) else m for m in models]
    out = Path(out_dir)
    name = get_spec(dataset).name
    repair_json(out)  # a kill between the CSV and JSON writes of an earlier run
    requested, busy, skipped = [], [], []
    quiet = settings if n_jobs == 1 else dataclasses.replace(settings, progress=False)
    for horizon in horizons:  # one split in memory at a time; its cells in n_jobs processes
        split = benchmark_split(name, input_size, horizon, data_dir=data_dir)
        cells = []
        for spec in specs:
            for seed in seeds:
                key = _cell_key(name, spec, horizon, seed, settings)
                requested.append(key)
                run = functools.partial(_run_cell, name, spec, split, seed, quiet)
                cells.append((out, key, run))
        outcomes = run_units(_run_unless_taken, cells, n_jobs=n_jobs, progress=False)
        busy += [key for (_, key, _), done in zip(cells, outcomes) if done == "busy"]
        skipped += [key for (_, key, _), done in zip(cells, outcomes) if done == "done"]
    if busy:
        log.warning("%d cell(s) left to the processes running them: %s", len(busy), busy)
    if skipped:
        print(skipped_message(skipped, out / RESULT_FILES[0]))
    table = read_results(out)
    mine = pd.concat([table[matches(table, key)] for key in requested], ignore_index=True)
    print(format_table(mine))
    return mine


def skipped_message(keys: Sequence[dict], path: Path) -> str:
    """One line per cell not run because ``path`` already holds it (a resumed campaign)."""
    cells = [
        f"  {k['dataset']} {k['model']} horizon {k['horizon']} input {k['input_size']} "
        f"seed {k['seed']}"
        for k in keys
    ]
    head = f"skipped {len(keys)} cell(s) already in {path} (delete their rows to rerun them):"
    return "\n".join([head, *cells])


def _run_unless_taken(out: Path, key: dict, run: Callable[[], dict[str, Any]]) -> str:
    """Run the cell ``key`` unless it is finished or another live process runs it; return
    ``"ran"``, ``"done"`` (finished before: skipped) or ``"busy"`` (another process runs it:
    neither finished nor run here)."""
    ours, theirs = _claim_unfinished(out, key)
    if ours is None:
        return "done" if theirs is None else "busy"
    try:
        row = {**key, **run()}
    except BaseException:
        with results_lock(out):
            claims.release(out, key, ours)  # free the failed cell for the next try
        raise
    with results_lock(out):  # the row appears and the claim goes in one step
        append_locked(out, row)
        claims.release(out, key, ours)
    return "ran"


def _claim_unfinished(out: Path, key: dict) -> tuple[claims.Claim | None, claims.Claim | None]:
    """``(our claim, None)`` when this process may run the cell, ``(None, their claim)`` when
    another live process runs it, ``(None, None)`` when it is finished (resume). The checks and
    the claim happen under the results lock: of several processes at one cell, one runs it."""
    with results_lock(out):
        if has_cell(read_results(out), key):  # re-read: another process may share out
            log.info("skipping %s: already in %s", key, out)
            return None, None
        holder = claims.live_holder(out, key)
        if holder is not None:
            log.warning(
                "skipping %s: claimed by %s (delete %s if that run is gone)",
                key,
                holder.describe(),
                claims.claim_path(out, key),
            )
            return None, holder
        return claims.take(out, key), None


def _cell_key(dataset: str, spec: ModelSpec, horizon: int, seed: int, s: RunSettings) -> dict:
    return {
        "dataset": dataset,
        "model": spec.alias,
        "horizon": int(horizon),
        "input_size": s.input_size,
        "seed": int(seed),
        "legacy_drop_last": s.legacy_drop_last or 0,
        "quick": bool(s.quick),
        "max_epochs": _epoch_cap(s) or 0,  # 0: each model's own (reference) epoch budget
    }


def _epoch_cap(s: RunSettings) -> int | None:
    """The epoch cap the run gives every neural model: ``--max-epochs``, quick mode's
    (:data:`QUICK_MAX_EPOCHS`) binding it too; None: each model's own budget."""
    if s.quick:
        return min(s.max_epochs or QUICK_MAX_EPOCHS, QUICK_MAX_EPOCHS)
    return s.max_epochs


def _run_cell(
    dataset: str, spec: ModelSpec, split: BenchmarkSplit, seed: int, s: RunSettings
) -> dict[str, Any]:
    """Fit the spec's model on the split's train/val arrays, score it on every test window."""
    started = time.perf_counter()
    model = _build_model(dataset, spec, split, seed, s).fit_arrays(split.train, split.val)
    trained = time.perf_counter()
    probs = _quantile_probs(model)
    scores = score_windows(
        functools.partial(model.predict_windows, batch_size=s.eval_batch_size),
        split.test,
        split.input_size,
        split.horizon,
        batch_size=s.eval_batch_size,
        legacy_drop_last=s.legacy_drop_last,
        quantiles=_window_quantiles(model, split, probs, s),
        probs=probs,
    )
    done = time.perf_counter()
    reference = published(dataset, split.horizon)
    row = {
        "mse": scores.mse,
        "mae": scores.mae,
        **probabilistic_columns(scores.quantiles),
        "test_windows": scores.n_windows,
        "train_seconds": round(trained - started, 2),
        "eval_seconds": round(done - trained, 2),
        "threads": _torch_threads(),  # intra-op CPU threads: wall times depend on it
        **model.training_summary(),
        "paper_patchtst42_mse": reference.get("patchtst42_mse"),
        "paper_patchtst42_mae": reference.get("patchtst42_mae"),
        "rerun_patchtst_mse": reference.get("rerun_mse"),
    }
    log.info(
        "%s %s H=%s: mse %.4f mae %.4f", dataset, spec.alias, split.horizon, row["mse"], row["mae"]
    )
    return row


def _torch_threads() -> int:
    """torch's intra-op CPU threads (``OMP_NUM_THREADS`` / ``torch.set_num_threads``)."""
    import torch

    return torch.get_num_threads()


#: the probabilistic result columns, empty for point models (and in results files written
#: before they existed)
PROBABILISTIC_COLUMNS = ["crps", "wql", *(f"coverage_{level}" for level in INTERVAL_LEVELS)]


def probabilistic_columns(scores: QuantileScores | None) -> dict[str, float | None]:
    """A row's ``crps``, ``wql`` and ``coverage_<level>`` (percent); None for a point model
    (or a level the model's quantiles do not reach)."""
    if scores is None:
        return dict.fromkeys(PROBABILISTIC_COLUMNS)
    coverage = {f"coverage_{level}": value for level, value in scores.coverage.items()}
    return {"crps": scores.crps, "wql": scores.wql, **coverage}


def _quantile_probs(model: Forecaster) -> tuple[float, ...]:
    """The quantiles the CRPS averages over: those the model was trained for (a quantile
    head's own), else :data:`~tsattn.nn.probabilistic.DEFAULT_QUANTILES`."""
    return tuple(getattr(model, "quantiles", None) or DEFAULT_QUANTILES)


def _window_quantiles(
    model: Forecaster, split: BenchmarkSplit, probs: tuple[float, ...], s: RunSettings
) -> Callable[[Any, Any], Any] | None:
    """The model's window-level quantile entry, or None for a point model (one that answers
    :meth:`~tsattn.models.Forecaster.predict_window_quantiles` with NotImplementedError,
    asked on one test window)."""
    predict = functools.partial(model.predict_window_quantiles, batch_size=s.eval_batch_size)
    inputs, _ = split.window_view("test")
    try:
        predict(np.array(inputs[:1]), sorted(probs))  # a copy: the view is read-only
    except NotImplementedError:
        return None
    return predict


def _build_model(
    dataset: str, spec: ModelSpec, split: BenchmarkSplit, seed: int, s: RunSettings
) -> Forecaster:
    """The spec's model under the dataset's literature recipe (``literature:<dataset>``, with
    ``:quick`` in quick mode; see :mod:`tsattn.models.recipes`) and the benchmark's settings
    (the split's sizes, the seed, the dataset's season); the spec's own params win."""
    cls = MODELS.get(spec.name)
    if not cls.supports_windows:
        raise ValueError(no_window_entry(cls))
    return build_model(spec, **benchmark_defaults(dataset, split, seed, s))


def benchmark_defaults(
    dataset: str, split: BenchmarkSplit, seed: int, s: RunSettings
) -> dict[str, Any]:
    """What the runner gives every model (each takes those it accepts): the recipe, the
    split's sizes, the seed, the season, the device; the run's epoch cap (quick mode's binds
    it too)."""
    defaults: dict[str, Any] = {
        "recipe": Recipe("literature", dataset, quick=s.quick).name,
        "h": split.horizon,
        "input_size": split.input_size,
        "seed": seed,
        "season_length": _season_length(dataset),
        "device": s.device,
        "progress": s.progress,
    }
    if s.max_epochs is not None:
        defaults["max_epochs"] = _epoch_cap(s)
    return defaults


def _season_length(dataset: str) -> int:
    freq = get_spec(dataset).freq
    return {"h": 24, "15min": 96, "10min": 144, "D": 7}.get(freq, 1)


#: how the cells of one (dataset, horizon, model) are summarised over seeds, with the published
#: figures beside them (``DataFrame.groupby(...).agg(**SEED_SUMMARY)``)
SEED_SUMMARY = {
    "seeds": ("seed", "nunique"),
    "mse": ("mse", "mean"),
    "mse_std": ("mse", "std"),
    "mae": ("mae", "mean"),
    "mae_std": ("mae", "std"),
    "paper_mse": ("paper_patchtst42_mse", "first"),
    "paper_mae": ("paper_patchtst42_mae", "first"),
    "rerun_mse": ("rerun_patchtst_mse", "first"),
}
#: what the cells of a row trained: epochs actually run (they stop early) and training time,
#: seed means, shown when the results hold them
TRAINING_SUMMARY = {"epochs": ("epochs", "mean"), "train_s": ("train_seconds", "mean")}
#: the published PatchTST figures and our distance to them: printed on PatchTST rows only
PUBLISHED_COLUMNS = ["paper_mse", "paper_mae", "rerun_mse", "vs_rerun_%"]


def _probabilistic_summary(results: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Seed means of the probabilistic columns that some row of ``results`` holds (none for
    point models only, or results written before those columns existed)."""
    shown = ["crps", *(c for c in PROBABILISTIC_COLUMNS if c.startswith("coverage_"))]
    return {
        column: (column, "mean")
        for column in shown
        if column in results.columns and results[column].notna().any()
    }


def format_table(results: pd.DataFrame) -> str:
    """Our MSE/MAE, the epochs each model ran and its training seconds, the published
    PatchTST/42 numbers (paper and full-test re-run) beside PatchTST rows, and the CRPS and
    80%/95% coverage of models that forecast quantiles. Empty cells: not applicable."""
    if results.empty:
        return "(no results)"
    keys = [k for k in TABLE_KEYS if k in results.columns]
    grouped = results.groupby([*keys, "model"], sort=False, dropna=False)
    training = {k: v for k, v in TRAINING_SUMMARY.items() if v[0] in results.columns}
    summary = {**SEED_SUMMARY, **training, **_probabilistic_summary(results)}
    table = grouped.agg(**summary).reset_index()
    table["vs_rerun_%"] = 100 * (table["mse"] / table["rerun_mse"] - 1)
    table.loc[~table["model"].map(_is_patchtst), PUBLISHED_COLUMNS] = np.nan
    table = table.sort_values(["dataset", "horizon"], kind="stable")
    formatters = {"epochs": _whole, "train_s": _seconds}
    with pd.option_context("display.width", 160, "display.max_rows", 500):
        return table.to_string(
            index=False,
            na_rep="",
            float_format=lambda v: f"{v:.4f}",
            formatters={k: f for k, f in formatters.items() if k in table.columns},
        )


def _is_patchtst(alias: object) -> bool:
    """Whether a results row's model is a PatchTST (``patchtst``, ``patchtst:mlr``, ...)."""
    try:
        return parse_model_spec(str(alias)).name == "patchtst"
    except ValueError:
        return False


def _whole(value: float) -> str:
    """Epochs: a whole number when every seed ran the same, else their mean; blank if none."""
    if pd.isna(value):
        return ""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _seconds(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.1f}"
