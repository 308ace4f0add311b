"""What each ``tsattn`` subcommand does; :mod:`tsattn.cli` only parses arguments.

Each function takes the parsed ``argparse.Namespace`` and returns a DataFrame or a string to
print.
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

import pandas as pd


def datasets(args: argparse.Namespace) -> pd.DataFrame:
    from tsattn.datasets import list_datasets

    return list_datasets(args.data_dir)


def attention(args: argparse.Namespace) -> pd.DataFrame:
    from tsattn.attention import ATTENTION

    rows = [
        {"name": name, "description": _first_line(ATTENTION.get(name))}
        for name in ATTENTION.names()
    ]
    return pd.DataFrame(rows)


def models(args: argparse.Namespace) -> pd.DataFrame:
    from tsattn.models import MODELS

    rows = [{"name": n, "description": _first_line(MODELS.get(n))} for n in MODELS.names()]
    return pd.DataFrame(rows)


def benchmark(args: argparse.Namespace) -> str:
    from tsattn.benchmark import run_benchmark
    from tsattn.evaluation.plots import plot_benchmark
    from tsattn.models.factory import parse_model_list

    results = run_benchmark(
        args.dataset,
        parse_model_list(args.models),
        horizons=args.horizons,
        input_size=args.input_size,
        seeds=args.seeds,
        out_dir=args.out,
        data_dir=args.data_dir,
        quick=args.quick,
        max_epochs=args.max_epochs,
        legacy_drop_last=args.legacy_drop_last,
        device=args.device,
        progress=not args.no_progress,
    )
    plot_path = f"{args.out}/benchmark_mse.png"
    plot_benchmark(results, metric="mse", path=plot_path)
    return f"results: {args.out}/results.csv, {args.out}/results.json; plot: {plot_path}"


def backtest(args: argparse.Namespace) -> pd.DataFrame:
    from tsattn.evaluation import backtest as run_backtest
    from tsattn.evaluation import evaluate
    from tsattn.evaluation.plots import plot_backtest
    from tsattn.models.factory import build_model, parse_model_list

    df = _read(args)
    defaults = _model_defaults(args)
    forecasters = [build_model(spec, **defaults) for spec in parse_model_list(args.models)]
    frame = run_backtest(
        forecasters,
        df,
        h=args.h,
        n_windows=args.n_windows,
        step=args.step,
        refit=_refit(args.refit),
        level=args.level,
    )
    if args.out:
        frame.to_csv(_output_path(args.out), index=False)
    if args.plot:
        plot_backtest(frame, history=df, path=args.plot)
    metrics = _names(args.metrics, "--metrics", "mae,mse")
    if args.level:  # how well the intervals cover, and their M4 score
        metrics += [m for m in ("coverage", "msis") if m not in metrics]
    return evaluate(frame, metrics=metrics, train_df=df, season_length=args.season_length)


def fit(args: argparse.Namespace) -> str:
    from tsattn.models.factory import build_model

    if args.resume and not args.checkpoint_dir:
        raise ValueError("--resume needs --checkpoint-dir (where the checkpoint is)")
    df = _read(args)
    defaults = _model_defaults(args)
    if args.checkpoint_dir:
        defaults["checkpoint_dir"] = args.checkpoint_dir
    model = build_model(args.model, **defaults)
    model.fit(df, val_size=args.val_size, resume=args.resume)
    path = model.save(args.save)
    return f"saved {model.name} to {path}"


def predict(args: argparse.Namespace) -> pd.DataFrame | str:
    from tsattn.datasets import read_series
    from tsattn.datasets.loaders import read_csv_file
    from tsattn.models import load

    model = load(args.model_path)
    history = read_series(read_csv_file(args.csv), time_col=args.time_col) if args.csv else None
    forecast = model.predict(df=history, h=args.h, level=args.level)
    if args.out:
        forecast.to_csv(_output_path(args.out), index=False)
        return f"wrote {len(forecast)} rows to {args.out}"
    return forecast


def _read(args: argparse.Namespace) -> pd.DataFrame:
    from tsattn.datasets import read_series
    from tsattn.datasets.loaders import read_csv_file

    value_cols = args.value_cols.split(",") if args.value_cols else None
    return read_series(
        read_csv_file(args.csv),
        time_col=args.time_col,
        value_cols=value_cols,
        id_col=args.id_col,
        target_col=args.target_col,
        freq=args.freq,
        fill=args.fill,
    )


def _names(text: str, option: str, example: str) -> list[str]:
    """The comma-separated names given to ``option``; at least one."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError(f"{option} is empty; give comma-separated names, e.g. {example}")
    return names


def _output_path(path: str) -> Path:
    """``path`` with its parent directories created (as the plots and ``save`` do)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def _model_defaults(args: argparse.Namespace) -> dict:
    defaults = {"h": args.h, "progress": False}
    if args.input_size:
        defaults["input_size"] = args.input_size
    return defaults


def _refit(text: str) -> bool | int:
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    try:
        return int(lowered)
    except ValueError:
        raise ValueError(f"--refit must be true, false or an integer, got {text!r}") from None


def _first_line(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.splitlines()[0] if doc else ""
