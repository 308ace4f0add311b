"""Loaders on generated files: Electricity/Traffic format, checksums, lookup, downloads.

No test touches the network: ``urllib.request.urlopen`` is always replaced.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.client
import io
import urllib.error
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsattn.datasets import benchmark_split, get_spec, list_datasets, load_dataset, search_dirs
from tsattn.datasets.specs import DatasetSpec
from tsattn.datasets.store import ENV_VAR

ROWS, CHANNELS = 200, 11


def wide_csv_bytes(rows: int = ROWS, channels: int = CHANNELS, seed: int = 0) -> bytes:
    """A file in the Electricity/Traffic format: ``date``, ``0`` … ``N-2``, ``OT``."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        rng.normal(size=(rows, channels)).round(4),
        columns=[str(i) for i in range(channels - 1)] + ["OT"],
    )
    frame.insert(0, "date", pd.date_range("2016-07-01", periods=rows, freq="h"))
    return frame.to_csv(index=False).encode()


def write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(content) if path.suffix == ".gz" else content)
    return path


def small(name: str, content: bytes | None = None, **changes) -> DatasetSpec:
    """The spec of ``name`` for a small generated file (with its sha256 when given)."""
    sha = None if content is None else hashlib.sha256(content).hexdigest()
    return dataclasses.replace(
        get_spec(name), rows=ROWS, columns=CHANNELS + 1, sha256=sha, **changes
    )


class FakeResponse(io.BytesIO):
    """A urlopen response that may fail after its first chunk."""

    def __init__(self, content: bytes, fail_with: BaseException | None = None):
        super().__init__(content)
        self.fail_with = fail_with

    def read(self, size: int = -1) -> bytes:
        if self.fail_with is not None and self.tell() > 0:
            raise self.fail_with
        return super().read(min(size, 64) if self.fail_with else size)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty user cache, no $TSATTN_DATA_DIR, and a network that always fails."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    return tmp_path / "xdg" / "tsattn"


def serve(monkeypatch, response: FakeResponse) -> list[str]:
    calls: list[str] = []

    def fake_urlopen(url, timeout=None):
        assert timeout is not None
        calls.append(url)
        return response

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
    return calls


@pytest.mark.parametrize("name", ["electricity", "traffic"])
@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_electricity_and_traffic_format(name, suffix, tmp_path, cache):
    content = wide_csv_bytes()
    write(tmp_path / f"{name}{suffix}", content)
    df = load_dataset(small(name, content), tmp_path)
    assert df.shape == (ROWS, CHANNELS + 1)
    assert list(df.columns) == ["date", *map(str, range(CHANNELS - 1)), "OT"]
    assert df["date"].iloc[1] - df["date"].iloc[0] == pd.Timedelta("1h")
    s = benchmark_split(df, input_size=24, horizon=12, split=get_spec(name).split)
    assert (len(s.train), len(s.val) - 24, len(s.test) - 24) == (140, 20, 40)


@pytest.mark.parametrize("name, shape", [("electricity", "26304"), ("traffic", "17544")])
def test_shape_mismatch_names_the_file_unless_verify_is_off(name, shape, tmp_path, cache):
    path = write(tmp_path / f"{name}.csv", wide_csv_bytes())
    with pytest.raises(ValueError, match=shape) as err:
        load_dataset(name.upper(), tmp_path)
    assert str(path) in str(err.value)
    assert load_dataset(name, tmp_path, verify=False).shape == (ROWS, CHANNELS + 1)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_corrupted_file_is_refused_naming_it(suffix, tmp_path, cache):
    path = write(tmp_path / f"ETTh1{suffix}", wide_csv_bytes())
    with pytest.raises(ValueError, match="checksum mismatch") as err:
        load_dataset("ETTh1", tmp_path)
    assert str(path) in str(err.value)


def test_checksum_is_of_uncompressed_bytes(tmp_path, cache):
    content = wide_csv_bytes()
    write(tmp_path / "weather.csv.gz", content)
    assert load_dataset(small("weather", content), tmp_path).shape == (ROWS, CHANNELS + 1)


def test_missing_file_without_url_tells_where_to_put_it(tmp_path, cache):
    with pytest.raises(FileNotFoundError) as err:
        load_dataset("weather", tmp_path)
    message = str(err.value)
    for expected in (ENV_VAR, "weather.csv", str(tmp_path), str(cache), "Autoformer"):
        assert expected in message


def test_missing_file_with_no_network_gives_the_helpful_error(tmp_path, cache):
    with pytest.raises(FileNotFoundError) as err:
        load_dataset("ETTh1", tmp_path)
    message = str(err.value)
    assert "network disabled" in message and ENV_VAR in message
    assert "raw.githubusercontent.com/zhouhaoyi/ETDataset" in message
    assert not cache.exists() or not any(cache.iterdir())


def test_download_false_never_calls_the_network(tmp_path, cache, monkeypatch):
    calls = serve(monkeypatch, FakeResponse(b""))
    with pytest.raises(FileNotFoundError):
        load_dataset("ETTh1", tmp_path, download=False)
    assert calls == []


def test_download_is_checked_stored_in_cache_and_reused(tmp_path, cache, monkeypatch):
    content = wide_csv_bytes()
    spec = small("ETTh1", content)
    calls = serve(monkeypatch, FakeResponse(content))
    assert load_dataset(spec, tmp_path).shape == (ROWS, CHANNELS + 1)
    assert calls == [spec.url]
    assert [p.name for p in cache.iterdir()] == ["ETTh1.csv"]
    assert (cache / "ETTh1.csv").read_bytes() == content
    load_dataset(spec, tmp_path)
    assert len(calls) == 1


def test_download_with_wrong_checksum_leaves_nothing(tmp_path, cache, monkeypatch):
    serve(monkeypatch, FakeResponse(wide_csv_bytes()))
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_dataset("ETTh1", tmp_path)
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize(
    "failure",
    [ConnectionResetError("reset"), http.client.IncompleteRead(b"x"), KeyboardInterrupt()],
)
def test_interrupted_download_leaves_no_partial_or_temp_file(failure, tmp_path, cache, monkeypatch):
    content = wide_csv_bytes()
    serve(monkeypatch, FakeResponse(content, fail_with=failure))
    with pytest.raises((FileNotFoundError, KeyboardInterrupt)):
        load_dataset(small("ETTh1", content), tmp_path)
    assert list(cache.iterdir()) == []


def test_lookup_order_data_dir_then_env_then_cache(tmp_path, cache, monkeypatch):
    for where, rows in [("arg", 30), ("env", 40)]:
        write(tmp_path / where / "electricity.csv", wide_csv_bytes(rows=rows))
    write(cache / "electricity.csv.gz", wide_csv_bytes(rows=50))
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert search_dirs(tmp_path / "arg") == [tmp_path / "arg", tmp_path / "env", cache]
    assert len(load_dataset("electricity", tmp_path / "arg", verify=False)) == 30
    assert len(load_dataset("electricity", verify=False)) == 40
    monkeypatch.delenv(ENV_VAR)
    assert len(load_dataset("electricity", verify=False)) == 50


def test_list_datasets_marks_local_files(tmp_path, cache):
    write(tmp_path / "traffic.csv.gz", wide_csv_bytes())
    table = list_datasets(tmp_path).set_index("name")
    assert table.loc["traffic", "available"]
    assert table.loc["traffic", "path"] == str(tmp_path / "traffic.csv.gz")
    assert not table.loc["electricity", "available"]
    assert table.loc["electricity", ["rows", "columns"]].tolist() == [26304, 322]
    assert table.loc["ETTh1", "downloadable"] and not table.loc["weather", "downloadable"]


def test_unknown_name_lists_the_valid_ones(cache):
    with pytest.raises(ValueError, match="etth1.*weather"):
        load_dataset("ettx9")
