"""Benchmark loaders and splits on the real files (the data dir: $TSATTN_DATA_DIR)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import StandardScaler

from tsattn.datasets import benchmark_split, get_spec, list_datasets, load_dataset
from tsattn.datasets.specs import SPECS
from tsattn.datasets.store import find_file, sha256_of

DATA_DIR = Path(
    os.environ.get("TSATTN_DATA_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
if not DATA_DIR.is_dir():
    reason = f"benchmark data not found: set TSATTN_DATA_DIR (looked in {DATA_DIR})"
    print(reason)
    pytest.skip(reason, allow_module_level=True)

# name -> (first date, last date), from the data README
DATE_RANGES = {
    "ETTh1": ("2016-07-01 00:00:00", "2018-06-26 19:00:00"),
    "ETTh2": ("2016-07-01 00:00:00", "2018-06-26 19:00:00"),
    "ETTm1": ("2016-07-01 00:00:00", "2018-06-26 19:45:00"),
    "ETTm2": ("2016-07-01 00:00:00", "2018-06-26 19:45:00"),
    "weather": ("2020-01-01 00:10:00", "2021-01-01 00:00:00"),
    "exchange_rate": ("1990-01-01", "2010-10-10"),
    "national_illness": ("2002-01-01", "2020-06-30"),
}
AVAILABLE = [s.name for s in SPECS if find_file(s, DATA_DIR) is not None]
# split sizes (train rows, val rows, test rows) from the data README
RATIO_SPLITS = {
    "weather": (36887, 5270, 10539),
    "exchange_rate": (5311, 760, 1517),
    "national_illness": (676, 97, 193),
}


def need(name: str) -> None:
    if name not in AVAILABLE:
        pytest.skip(f"{name} not in {DATA_DIR}")


@functools.cache
def frame(name: str) -> pd.DataFrame:
    """Each file is loaded (and hashed) once for the whole module."""
    return load_dataset(name, DATA_DIR, download=False)


def split(name: str, input_size: int, horizon: int):
    return benchmark_split(frame(name), input_size, horizon, split=get_spec(name).split)


@pytest.mark.parametrize("name", AVAILABLE)
def test_shape_columns_and_dates(name):
    spec, df = get_spec(name), frame(name)
    assert df.shape == (spec.rows, spec.columns)
    assert df.columns[0] == "date" and df.columns[-1] == "OT"
    assert pd.api.types.is_datetime64_any_dtype(df["date"])
    assert (df.dtypes.iloc[1:] == np.float64).all()
    assert not df.iloc[:, 1:].isna().any().any()
    if name in DATE_RANGES:
        first, last = map(pd.Timestamp, DATE_RANGES[name])
        assert (df["date"].iloc[0], df["date"].iloc[-1]) == (first, last)


@pytest.mark.parametrize("name", AVAILABLE)
def test_checksum_of_uncompressed_bytes(name):
    spec = get_spec(name)
    if spec.sha256 is None:
        pytest.skip(f"no reference checksum for {name}")
    assert sha256_of(find_file(spec, DATA_DIR)) == spec.sha256


def test_names_are_case_insensitive():
    need("ETTh1")
    assert load_dataset("etth1", DATA_DIR, download=False).equals(frame("ETTh1"))


def test_list_datasets_reports_local_files():
    table = list_datasets(DATA_DIR).set_index("name")
    assert len(table) == 9
    assert {"file", "rows", "columns", "freq", "target", "split", "available"} <= set(table)
    for name in AVAILABLE:
        assert table.loc[name, "available"]
        assert Path(table.loc[name, "path"]).parent == DATA_DIR


@pytest.mark.parametrize("input_size", [96, 336, 512])
def test_etth1_test_windows_do_not_depend_on_lookback(input_size):
    need("ETTh1")
    s = split("ETTh1", input_size, 96)
    assert s.n_windows == {"train": 8640 - input_size - 95, "val": 2785, "test": 2785}
    assert s.borders == {
        "train": (0, 8640),
        "val": (8640 - input_size, 11520),
        "test": (11520 - input_size, 14400),
    }


def test_split_by_name_matches_split_of_frame():
    need("ETTh1")
    by_name = benchmark_split("ETTh1", 336, 96, data_dir=DATA_DIR)
    np.testing.assert_array_equal(by_name.test, split("ETTh1", 336, 96).test)


@pytest.mark.parametrize("name", ["ETTm1", "ETTm2"])
def test_ett_minute_borders(name):
    need(name)
    s = split(name, 336, 96)
    assert s.borders["test"] == (46080 - 336, 57600)
    assert s.n_windows["test"] == 11520 - 96 + 1


@pytest.mark.parametrize("name", sorted(RATIO_SPLITS))
def test_ratio_split_rows(name):
    need(name)
    input_size = 36 if name == "national_illness" else 96
    s = split(name, input_size, 24)
    rows = (len(s.train), len(s.val) - input_size, len(s.test) - input_size)
    assert rows == RATIO_SPLITS[name]


@pytest.mark.parametrize("name", AVAILABLE)
def test_window_counts_do_not_depend_on_input_size(name):
    horizon = 24
    short, long = (split(name, size, horizon) for size in (24, 104))
    assert short.n_windows["val"] == long.n_windows["val"]
    assert short.n_windows["test"] == long.n_windows["test"]


@pytest.mark.parametrize("name", ["ETTh1", "weather"])
def test_scaler_is_fitted_on_train_rows_only(name):
    need(name)
    s = split(name, 336, 96)
    values = frame(name).iloc[:, 1:].to_numpy()
    reference = StandardScaler().fit(values[: s.borders["train"][1]])
    np.testing.assert_allclose(s.scaler.mean_, reference.mean_)
    np.testing.assert_allclose(s.scaler.scale_, reference.scale_)
    start, end = s.borders["test"]
    expected = reference.transform(values[start:end]).astype(np.float32)
    np.testing.assert_array_equal(s.test, expected)
    assert s.test.dtype == np.float32 and s.columns == list(frame(name).columns[1:])
