"""``tsattn predict --out`` and ``tsattn backtest --out`` write their CSV atomically: a failure
(or a kill) mid-write leaves the previous file intact and no partial file beside it."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from tsattn.cli import main


@pytest.fixture
def hourly_csv(tmp_path):
    t = np.arange(120)
    wide = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=len(t), freq="h")})
    wide["cycle"] = 10 + np.sin(2 * np.pi * t / 24)
    path = tmp_path / "hourly.csv"
    wide.to_csv(path, index=False)
    return path


REAL_TO_CSV = pd.DataFrame.to_csv


def fail_mid_write(monkeypatch):
    """Make ``DataFrame.to_csv`` write half of its text (into the handle, or the path it is
    given), then fail."""

    def half_then_fail(frame, path_or_buf=None, **kwargs):
        half = REAL_TO_CSV(frame, None, **kwargs)[:40]
        if isinstance(path_or_buf, str | os.PathLike):
            with open(path_or_buf, "w") as file:
                file.write(half)
        else:
            path_or_buf.write(half.encode())
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_fail)


def only_file_is(directory, name):
    assert sorted(p.name for p in directory.iterdir()) == [name]  # no .<name>.*.tmp left


def test_backtest_out_is_replaced_whole_or_not_at_all(tmp_path, hourly_csv, monkeypatch):
    out_dir = tmp_path / "out"
    out = out_dir / "bt.csv"
    argv = ["backtest", "--csv", str(hourly_csv), "--time-col", "date", "--h", "12"]
    argv += ["--n-windows", "1", "--models", "naive", "--no-progress", "--out", str(out)]
    assert main(argv) == 0
    written = out.read_bytes()
    assert pd.read_csv(out).shape == (12, 5)

    out.write_text("previous content\n")
    fail_mid_write(monkeypatch)
    assert main(argv) == 2  # one-line error
    assert out.read_text() == "previous content\n"
    only_file_is(out_dir, "bt.csv")

    monkeypatch.setattr(pd.DataFrame, "to_csv", REAL_TO_CSV)
    assert main(argv) == 0
    assert out.read_bytes() == written


def test_predict_out_is_replaced_whole_or_not_at_all(tmp_path, hourly_csv, monkeypatch):
    model = tmp_path / "model" / "naive.safetensors"
    fit = ["fit", "--csv", str(hourly_csv), "--time-col", "date", "--model", "naive"]
    assert main([*fit, "--h", "6", "--no-progress", "--save", str(model)]) == 0
    out_dir = tmp_path / "out"
    out = out_dir / "f.csv"
    predict = ["predict", "--model-path", str(model), "--out", str(out)]
    assert main(predict) == 0
    assert pd.read_csv(out).shape == (6, 3)

    out.write_text("previous content\n")
    fail_mid_write(monkeypatch)
    assert main(predict) == 2
    assert out.read_text() == "previous content\n"
    only_file_is(out_dir, "f.csv")
