"""Issue 12, parts 2 and 9: corrupt dataset files are refused by name; CLI errors are one line.

Corrupt files are generated in ``tmp_path``; the shipped data is only read. CLI cases run
in-process (``tsattn.cli.main``) except where a hang or a traceback must be seen from outside.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.data_dir import DATA_DIR, needs_data
from tsattn.cli import main, one_line
from tsattn.datasets import get_spec, load_dataset
from tsattn.datasets.loaders import read_csv_file
from tsattn.datasets.store import ENV_VAR, sha256_of

ROWS, CHANNELS = 48, 7


def csv_bytes(rows: int = ROWS) -> bytes:
    """A small file in the ETT format: ``date``, six channels, ``OT``."""
    values = np.random.default_rng(0).normal(size=(rows, CHANNELS)).round(3)
    frame = pd.DataFrame(values, columns=[f"c{i}" for i in range(CHANNELS - 1)] + ["OT"])
    frame.insert(0, "date", pd.date_range("2016-07-01", periods=rows, freq="h"))
    return frame.to_csv(index=False).encode()


def flip(data: bytes, position: int) -> bytes:
    damaged = bytearray(data)
    damaged[position] ^= 0xFF
    return bytes(damaged)


#: ways a .gz file gets damaged on disk: each made from the good compressed bytes
CORRUPTIONS = {
    "truncated": lambda gz: gz[: len(gz) // 2],
    "deflate byte flipped": lambda gz: flip(gz, len(gz) // 2),
    "crc flipped": lambda gz: flip(gz, len(gz) - 6),
    "header flipped": lambda gz: flip(gz, 3),  # FLG: bogus optional fields
    "not gzip": lambda gz: b"date,OT\n2016-07-01,1.0\n",
    "trailing garbage": lambda gz: gz + b"garbage!",
}


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty user cache and no $TSATTN_DATA_DIR, so only the test's files are found."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "tsattn"


def corrupt_gz(directory: Path, name: str, corruption: str) -> Path:
    path = directory / name
    path.write_bytes(CORRUPTIONS[corruption](gzip.compress(csv_bytes())))
    return path


def small(name: str, checksum: bool = True):
    """The spec of ``name`` for the small generated file, with or without its sha256."""
    sha = hashlib.sha256(csv_bytes()).hexdigest() if checksum else None
    return dataclasses.replace(get_spec(name), rows=ROWS, columns=CHANNELS + 1, sha256=sha)


# ------------------------------------------------------------- 2. corrupt .gz dataset files
@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_corrupt_gz_with_checksum_is_one_valueerror_naming_file_and_fix(
    corruption, tmp_path, cache
):
    path = corrupt_gz(tmp_path, "ETTh1.csv.gz", corruption)
    with pytest.raises(ValueError) as err:
        load_dataset(small("ETTh1"), tmp_path, download=False)
    message = str(err.value)
    assert str(path) in message
    assert "delete it" in message and "zhouhaoyi/ETDataset" in message


@pytest.mark.parametrize("verify", [True, False])
@pytest.mark.parametrize("corruption", ["truncated", "deflate byte flipped", "not gzip"])
def test_corrupt_gz_without_checksum_is_refused_naming_file(corruption, verify, tmp_path, cache):
    """Electricity has no recorded sha256, and verify=False skips it: reading must refuse."""
    path = corrupt_gz(tmp_path, "electricity.csv.gz", corruption)
    with pytest.raises(ValueError, match="truncated or corrupt") as err:
        load_dataset(small("electricity", checksum=False), tmp_path, verify=verify)
    assert str(path) in str(err.value) and "Autoformer" in str(err.value)


def test_sha256_of_a_corrupt_gz_is_a_valueerror_naming_it(tmp_path):
    path = corrupt_gz(tmp_path, "x.csv.gz", "truncated")
    with pytest.raises(ValueError, match="x.csv.gz does not decompress"):
        sha256_of(path)


def test_good_gz_still_loads_and_checksum_stays_of_uncompressed_bytes(tmp_path, cache):
    (tmp_path / "ETTh1.csv.gz").write_bytes(gzip.compress(csv_bytes()))
    assert load_dataset(small("ETTh1"), tmp_path).shape == (ROWS, CHANNELS + 1)


@needs_data
def test_shipped_files_still_verify():
    """The recorded sha256 values match the real files (the smallest one, to stay fast)."""
    frame = load_dataset("national_illness", DATA_DIR, download=False)
    assert frame.shape == (966, 8)


# ------------------------------------------------------------- reading a user's CSV file
def test_read_csv_file_refuses_bad_files_in_one_line(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "latin.csv").write_bytes("date,a\n2024-01-01,caf\xe9\n".encode("latin-1"))
    (tmp_path / "ragged.csv").write_text("date,a\n2024-01-01,1\n2024-01-02,1,2,3\n")
    cases = {
        "empty.csv": "is empty",
        "latin.csv": "not UTF-8",
        "ragged.csv": "Expected 2 fields in line 3, saw 4",
        ".": "is a directory",
    }
    for name, expected in cases.items():
        with pytest.raises(ValueError, match=expected) as err:
            read_csv_file(tmp_path / name)
        assert "\n" not in str(err.value)
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        read_csv_file(tmp_path / "missing.csv")


# ------------------------------------------------------------- 9. one-line CLI errors
@pytest.fixture
def hourly_csv(tmp_path) -> Path:
    t = np.arange(96)
    wide = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=len(t), freq="h")})
    wide["a"] = 10 + np.sin(2 * np.pi * t / 24)
    path = tmp_path / "hourly.csv"
    wide.to_csv(path, index=False)
    return path


def run_cli(capsys, command: str) -> str:
    """Run the CLI in-process; it must fail with exit 2 and one line on stderr. Returns it."""
    try:
        code = main(command.split())
    except SystemExit as exit_:  # argparse's usage errors
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("tsattn: error: ") and err.endswith("\n"), err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert len(err) < 1200
    return err


def test_corrupt_gz_as_csv(capsys, tmp_path):
    path = corrupt_gz(tmp_path, "bad.csv.gz", "truncated")
    err = run_cli(capsys, f"backtest --csv {path} --time-col date --h 4")
    assert str(path) in err and "truncated or corrupt" in err


def test_empty_csv(capsys, tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    err = run_cli(capsys, f"backtest --csv {tmp_path / 'empty.csv'} --h 4")
    assert "empty.csv is empty" in err and "No columns to parse" not in err


def test_directory_as_csv(capsys, tmp_path):
    assert "is a directory" in run_cli(capsys, f"backtest --csv {tmp_path} --h 4")


@pytest.mark.parametrize("value", ["", ",", "0", "-96", "x"])
def test_bad_horizons(capsys, tmp_path, value):
    command = f"benchmark --dataset ETTh1 --models naive --out {tmp_path} --horizons={value}"
    err = run_cli(capsys, command)
    assert "--horizons" in err and "No objects to concatenate" not in err


def test_empty_models_and_metrics(capsys, hourly_csv):
    backtest = f"backtest --csv {hourly_csv} --time-col date --h 4"
    assert "no model specs" in run_cli(capsys, f"{backtest} --models=")
    assert "--metrics is empty" in run_cli(capsys, f"{backtest} --models naive --metrics=")


def test_arima_order_of_two_names_the_spec_and_the_parameter(capsys, hourly_csv):
    err = run_cli(
        capsys, f"backtest --csv {hourly_csv} --time-col date --h 4 --models arima:order=[1,2]"
    )
    assert "arima:order=[1,2]" in err and "order" in err


def test_bad_spec_key_and_deep_nesting_are_one_short_line(capsys, hourly_csv):
    assert "not a parameter name" in run_cli(
        capsys, f"backtest --csv {hourly_csv} --time-col date --h 4 --models naive:a-b=1"
    )
    deep = "[" * 100_000
    err = run_cli(
        capsys, f"backtest --csv {hourly_csv} --time-col date --h 4 --models arima:order={deep}"
    )
    assert "characters)" in err


def test_usage_errors_are_one_line(capsys):
    assert "--dataset" in run_cli(capsys, "benchmark --models naive")
    assert "--h: expected an integer >= 1" in run_cli(capsys, "backtest --csv x.csv --h 0")


def test_missing_dataset_is_one_line(capsys, tmp_path, cache):
    err = run_cli(capsys, f"benchmark --dataset weather --models naive --data-dir {tmp_path}")
    assert "weather.csv" in err and ENV_VAR in err


def test_long_ids_are_not_echoed_whole(capsys, tmp_path):
    """A 100,000-character series name inside a validation error is shortened."""
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=48, freq="h")})
    frame["x" * 100_000] = np.where(np.arange(48) == 5, np.nan, 1.0)
    frame.to_csv(tmp_path / "long.csv", index=False)
    err = run_cli(capsys, f"backtest --csv {tmp_path / 'long.csv'} --time-col date --h 4")
    assert "x" * 100 not in err and "NaN" in err


def test_unexpected_exceptions_are_one_line_too(capsys, monkeypatch):
    def broken(args):
        raise TypeError("boom\nsecond line")

    monkeypatch.setattr("tsattn.commands.models", broken)
    err = run_cli(capsys, "models")
    assert "TypeError: boom second line" in err and "--debug" in err


def test_one_line_drops_numpy_scalar_reprs():
    assert one_line("flag np.False_, got np.float64(1.5) and np.int64(3)") == (
        "flag False, got 1.5 and 3"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_as_csv_is_refused_not_read_forever(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "tsattn.cli", "backtest", "--csv", str(fifo), "--h", "4"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "not a regular file" in done.stderr


@needs_data
def test_benchmark_on_a_corrupt_gz_dataset_exits_2_without_traceback(tmp_path):
    path = tmp_path / "ETTh1.csv.gz"
    path.write_bytes((DATA_DIR / "ETTh1.csv.gz").read_bytes()[:50_000])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tsattn.cli",
            "benchmark",
            "--dataset",
            "ETTh1",
            "--models",
            "naive",
            "--horizons",
            "96",
            "--data-dir",
            str(tmp_path),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert str(path) in done.stderr and "delete it" in done.stderr
