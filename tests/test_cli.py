"""The ``tsattn`` command line, run as a user runs it: in a subprocess, on tiny settings."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.data_dir import DATA_DIR, needs_data
from tsattn.attention import list_attention
from tsattn.cli import _parser

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY_PATCHTST = "patchtst:mlr:max_epochs=1:d_model=8:n_heads=2"

#: every option of every subcommand: the CLI surface that --help must document
COVARIATE_OPTIONS = ["--future-covariates", "--past-covariates", "--static-csv", "--calendar",
                     "--holidays", "--ignore-covariates"]  # fmt: skip
OPTIONS = {
    "datasets": ["--data-dir"],
    "attention": [],
    "models": [],
    "benchmark": ["--dataset", "--models", "--horizons", "--input-size", "--seeds", "--out",
                  "--data-dir", "--quick", "--max-epochs", "--legacy-drop-last", "--device",
                  "--no-progress"],
    "backtest": ["--csv", "--time-col", "--id-col", "--target-col", "--value-cols", "--freq",
                 "--fill", "--h", "--models", "--alias", "--input-size", "--n-windows", "--step",
                 "--refit", "--metrics", "--level", "--season-length", "--on-error", "--out",
                 "--plot", "--no-progress", *COVARIATE_OPTIONS],
    "fit": ["--csv", "--time-col", "--id-col", "--target-col", "--value-cols", "--freq",
            "--fill", "--model", "--alias", "--h", "--input-size", "--val-size", "--save",
            "--checkpoint-dir", "--resume", "--no-progress", *COVARIATE_OPTIONS],
    "predict": ["--model-path", "--csv", "--time-col", "--h", "--level", "--out", "--futr-csv",
                "--static-csv", "--id-col"],
}  # fmt: skip


def tsattn(command: str, **paths: str | os.PathLike) -> subprocess.CompletedProcess:
    """Run ``python -m tsattn.cli COMMAND``: shell words, ``{name}`` replaced by ``paths[name]``."""
    quoted = {name: shlex.quote(str(path)) for name, path in paths.items()}
    env = {**os.environ, "MPLBACKEND": "Agg", "TSATTN_DATA_DIR": str(DATA_DIR)}
    return subprocess.run(
        [sys.executable, "-m", "tsattn.cli", *shlex.split(command.format(**quoted))],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def ok(command: str, **paths: str | os.PathLike) -> str:
    """stdout of a run that must succeed."""
    done = tsattn(command, **paths)
    assert done.returncode == 0, f"tsattn {command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def hourly_csv(tmp_path) -> Path:
    """Two hourly series (a clean daily cycle and a noisy trend) as a wide CSV."""
    t = np.arange(240)
    wide = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=len(t), freq="h")})
    wide["cycle"] = 10 + np.sin(2 * np.pi * t / 24)
    wide["trend"] = 0.05 * t + np.random.default_rng(0).normal(0, 0.2, len(t))
    path = tmp_path / "hourly.csv"
    wide.to_csv(path, index=False)
    return path


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert path.stat().st_size > 1000


# ---------------------------------------------------------------------------- help
def test_top_level_help_lists_every_subcommand():
    out = ok("--help")
    for command in OPTIONS:
        assert command in out
    assert "--debug" in out


@pytest.mark.parametrize("command", sorted(OPTIONS))
def test_subcommand_help_lists_and_explains_every_option(command):
    out = ok(f"{command} --help")
    assert out.startswith(f"usage: tsattn {command}")
    for option in OPTIONS[command]:
        assert option in out, f"`tsattn {command} --help` does not list {option}"
    subparsers = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser = subparsers.choices[command]
    actions = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
    assert sorted(a.option_strings[0] for a in actions) == sorted(OPTIONS[command])
    assert all(a.help for a in actions), [a.option_strings for a in actions if not a.help]


# ---------------------------------------------------------------------------- listings
@needs_data
def test_datasets_lists_etth1_as_available_in_data_dir():
    out = ok("datasets --data-dir {data}", data=DATA_DIR)
    etth1 = next(line for line in out.splitlines() if line.split()[:1] == ["ETTh1"])
    assert str(DATA_DIR) in etth1 and "True" in etth1


def test_attention_lists_every_registered_variant():
    names = [line.split()[0] for line in ok("attention").splitlines()[1:]]
    assert sorted(names) == list_attention()
    assert {"bilinear_mlr", "btt", "mlr", "mlr_paper", "sliding", "softmax"} <= set(names)


def test_models_lists_the_neural_models_and_baselines():
    names = {line.split()[0] for line in ok("models").splitlines()[1:]}
    assert {"patchtst", "transformer", "dlinear", "nlinear", "naive", "ets", "theta"} <= names


# ---------------------------------------------------------------------------- work
@needs_data
def test_benchmark_writes_results_and_plot(tmp_path):
    out = ok(
        "benchmark --dataset ETTh1 --models naive,seasonal_naive --horizons 96 --out {out} "
        "--data-dir {data}",
        out=tmp_path,
        data=DATA_DIR,
    )
    results = pd.read_csv(tmp_path / "results.csv")
    assert sorted(results["model"]) == ["naive", "seasonal_naive"]
    assert (tmp_path / "results.json").exists()
    assert_png(tmp_path / "benchmark_mse.png")
    assert "benchmark_mse.png" in out and "seasonal_naive" in out


@needs_data
def test_benchmark_prints_epochs_training_time_and_patchtst_figures_and_says_what_it_skips(
    tmp_path,
):
    tiny = "patchtst:d_model=8:n_heads=2:n_layers=1:windows_per_epoch=64"
    command = (
        f"benchmark --dataset ETTh1 --models naive,{tiny} --horizons 96 --input-size 96 "
        "--quick --max-epochs 1 --no-progress --out {out} --data-dir {data}"
    )
    first = ok(command, out=tmp_path, data=DATA_DIR)
    assert "skipped" not in first
    rows = printed_table(first)
    assert rows[tiny]["epochs"] == "1" and float(rows[tiny]["train_s"]) > 0
    assert rows["naive"]["epochs"] == "" and rows["naive"]["train_s"] == "0.0"
    assert float(rows[tiny]["paper_mse"]) > 0 and rows[tiny]["vs_rerun_%"] != ""
    assert all(rows["naive"][c] == "" for c in ("paper_mse", "paper_mae", "rerun_mse"))
    again = ok(command, out=tmp_path, data=DATA_DIR)
    assert f"skipped 2 cell(s) already in {tmp_path / 'results.csv'}" in again
    assert f"ETTh1 {tiny} horizon 96 input 96 seed 0" in again
    assert printed_table(again) == rows  # the same cells, read back


def printed_table(out: str) -> dict[str, dict[str, str]]:
    """The benchmark's printed table: model -> column -> the text printed (blank: empty).
    Columns are right-aligned under their names, so each ends where its name ends."""
    lines = out.splitlines()
    top = next(i for i, line in enumerate(lines) if line.lstrip().startswith("dataset "))
    header = lines[top]
    ends = [m.end() for m in re.finditer(r"\S+", header)]
    names = header.split()
    table = {}
    for line in lines[top + 1 :]:
        cells = [line[start:end].strip() for start, end in zip([0, *ends], ends)]
        row = dict(zip(names, cells))
        table[row["model"]] = row
    return table


def test_backtest_writes_frame_and_plot_and_prints_metrics(tmp_path, hourly_csv):
    out = ok(
        "backtest --csv {csv} --time-col date --h 24 --n-windows 2 "
        "--models naive,seasonal_naive:season_length=24 --plot {plot} --out {out}",
        csv=hourly_csv,
        plot=tmp_path / "plots" / "forecast.png",
        out=tmp_path / "new_dir" / "bt.csv",  # directories are created
    )
    frame = pd.read_csv(tmp_path / "new_dir" / "bt.csv")
    models = ["naive", "seasonal_naive"]  # each spec's model name (and attention)
    assert list(frame.columns) == ["unique_id", "ds", "cutoff", "y", *models]
    assert len(frame) == 2 * 2 * 24  # series x windows x h
    cycle = frame[frame["unique_id"] == "cycle"]
    assert np.allclose(cycle["seasonal_naive"], cycle["y"])
    assert_png(tmp_path / "plots" / "forecast.png")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["mae", "mse", "rmse", "smape"]


def test_fit_then_predict_from_the_saved_file(tmp_path, hourly_csv):
    model = tmp_path / "m.safetensors"
    out = ok(
        f"fit --csv {{csv}} --time-col date --model {TINY_PATCHTST} --h 12 --input-size 48 "
        "--save {model}",
        csv=hourly_csv,
        model=model,
    )
    assert model.stat().st_size > 0 and "saved" in out
    ok("predict --model-path {model} --out {out}", model=model, out=tmp_path / "f.csv")
    forecast = pd.read_csv(tmp_path / "f.csv", parse_dates=["ds"])
    assert list(forecast.columns) == ["unique_id", "ds", "patchtst:mlr"]  # name and attention
    assert forecast.groupby("unique_id").size().to_dict() == {"cycle": 12, "trend": 12}
    assert forecast["ds"].min() == pd.Timestamp("2024-01-11 00:00")  # the hour after the data


# ---------------------------------------------------------------------------- errors
ERRORS = {
    "unknown model": (
        "backtest --csv {csv} --time-col date --h 24 --models nope",
        "unknown model 'nope'",
    ),
    "missing csv": ("backtest --csv {tmp}/missing.csv --h 24", "missing.csv"),
    "unknown dataset": (
        "benchmark --dataset NoSuchData --models naive --out {tmp}",
        "unknown dataset 'NoSuchData'",
    ),
    "resume without a checkpoint directory": (
        "fit --csv {csv} --time-col date --h 12 --model naive --save {tmp}/m.safetensors --resume",
        "--resume needs --checkpoint-dir",
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_are_one_readable_line_with_exit_code_2(case, tmp_path, hourly_csv):
    command, message = ERRORS[case]
    done = tsattn(command, csv=hourly_csv, tmp=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("tsattn: error: ")
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert message in done.stderr
