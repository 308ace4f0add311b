"""The M4 Hourly benchmark script's metrics and checks (benchmarks/m4.py), on tiny arrays;
the seasonal naive check on the real files runs when the data dir holds them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .data_dir import DATA_DIR

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "m4.py"


@pytest.fixture(scope="module")
def m4():
    spec = importlib.util.spec_from_file_location("m4_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["m4_benchmark"] = module
    spec.loader.exec_module(module)
    return module


def test_smape_is_m4s_definition(m4):
    y = np.array([[100.0, 200.0], [1.0, 1.0]])
    f = np.array([[100.0, 100.0], [3.0, 1.0]])
    # 200 |y - f| / (|y| + |f|): series 1 -> (0 + 200 * 100 / 300) / 2, series 2 -> (100 + 0) / 2
    np.testing.assert_allclose(m4.smape(y, f), [100 / 3, 50.0])


def test_mase_uses_each_series_seasonal_in_sample_scale(m4):
    t = np.arange(48.0)
    train = [np.sin(2 * np.pi * t / 24) + t / 24, 5.0 + (t % 24 == 0)]
    scale = m4.mase_scale(train, m=24)
    np.testing.assert_allclose(scale[0], 1.0)  # y_t - y_{t-24} = 1 at every step
    np.testing.assert_allclose(scale[1], 0.0)  # a series that repeats exactly
    y, f = np.ones((1, 4)), np.full((1, 4), 3.0)
    np.testing.assert_allclose(m4.mase(y, f, np.array([4.0])), [0.5])


def test_msis_penalises_misses_by_two_over_alpha(m4):
    y = np.array([[0.0, 5.0, -3.0]])
    lo, hi = np.full((1, 3), -1.0), np.full((1, 3), 1.0)
    # width 2 everywhere; misses of 4 above and 2 below cost 2/0.05 times their size
    expected = (2 + (2 + 40 * 4) + (2 + 40 * 2)) / 3 / 2.0
    np.testing.assert_allclose(m4.msis(y, lo, hi, np.array([2.0])), [expected])


def test_owa_of_naive2_is_one_and_published_rows_agree(m4):
    assert m4.owa(18.383, 2.395) == pytest.approx(1.0)
    for _, s, m, o in m4.PUBLISHED:
        assert round(m4.owa(s, m), 3) == pytest.approx(o, abs=1.5e-3)


def test_seasonal_naive_check_accepts_m4s_row_and_refuses_others(m4, monkeypatch):
    rng = np.random.default_rng(0)
    day = 10 + np.sin(2 * np.pi * np.arange(24) / 24)
    train = [np.tile(day, 10) + rng.normal(0, 0.1, 240) for _ in range(3)]
    test = np.stack([np.tile(day, 2) for _ in range(3)])
    f = np.stack([v[-24:][np.arange(48) % 24] for v in train])
    row, per = m4.scores(test, f, m4.mase_scale(train))
    assert len(per) == 3 and row["owa"] == pytest.approx(m4.owa(row["smape"], row["mase"]))
    monkeypatch.setattr(m4, "SEASONAL_NAIVE", (round(row["smape"], 3), round(row["mase"], 3)))
    assert m4.check_seasonal_naive(train, test) == m4.SEASONAL_NAIVE
    monkeypatch.setattr(m4, "SEASONAL_NAIVE", (13.912, 1.193))
    with pytest.raises(AssertionError, match="published"):
        m4.check_seasonal_naive(train, test)


def test_rows_as_series_drops_the_padding(m4):
    table = pd.DataFrame({"V1": ["H1", "H2"], "V2": [1.0, 4.0], "V3": [2.0, np.nan]})
    out = m4.rows_as_series(table)
    assert list(out) == ["H1", "H2"] and out["H2"].tolist() == [4.0]
    frame = m4.long_frame(list(out), list(out.values()))
    assert frame.groupby("unique_id")["ds"].min().eq(pd.Timestamp(m4.START)).all()


def test_recipe_rules_follow_the_data(m4):
    long = m4.recipe_options(h=48, season=24, lengths=[700, 960], n_series=414)
    short = m4.recipe_options(h=48, season=24, lengths=[200], n_series=1)
    assert long["input_size"] >= 168 and short["input_size"] <= 200 - 2 * 48
    assert short["input_size"] >= 16


@pytest.mark.skipif(
    not (DATA_DIR / "M4-Hourly-train.csv.gz").is_file(),
    reason=f"M4 Hourly files not in the data dir {DATA_DIR} (set TSATTN_DATA_DIR)",
)
def test_seasonal_naive_reproduces_m4s_published_row(m4):
    ids, train, test = m4.load_m4(str(DATA_DIR))
    assert len(ids) == 414 and sorted({len(v) for v in train}) == [700, 960]
    assert m4.check_seasonal_naive(train, test) == (13.912, 1.193)


def test_log_seasonal_difference_round_trip_gives_the_seasonal_naive(m4):
    ids = ["a", "b"]
    series = [10 + np.arange(72.0) % 24, 50 + 2 * (np.arange(60.0) % 24)]
    frame = m4.long_frame(ids, series)
    seen, undo = m4.transformed(frame, ids, {"scale": "log", "diff": 24})
    assert len(seen) == 72 + 60 - 2 * 24  # the first season of each series has no difference
    zero = undo(np.zeros((2, 48)))
    naive = np.stack([v[-24:][np.arange(48) % 24] for v in series])
    np.testing.assert_allclose(zero, naive)
