"""Loading the long-horizon benchmark datasets as wide frames.

>>> import tsattn
>>> df = tsattn.load_dataset("ETTh1")  # doctest: +SKIP
>>> list(df.columns)  # doctest: +SKIP
['date', 'HUFL', 'HULL', 'MUFL', 'MULL', 'LUFL', 'LULL', 'OT']
>>> tsattn.list_datasets()[["name", "rows", "available"]]  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pandas as pd

from tsattn.datasets.specs import SPECS, DatasetSpec, get_spec
from tsattn.datasets.store import (
    DECOMPRESSION_ERRORS,
    corrupt_file_message,
    find_file,
    locate,
    restore_hint,
    verify_checksum,
)


def load_dataset(
    name: str | DatasetSpec,
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    verify: bool = True,
) -> pd.DataFrame:
    """Load a benchmark dataset as its wide frame: ``date`` (datetime) then the value columns.

    Columns keep the file order, so the target (``OT``) is last. The file is looked up in
    ``data_dir``, then ``$TSATTN_DATA_DIR``, then the user cache, as ``NAME.csv`` or
    ``NAME.csv.gz``; when missing it is downloaded into the cache if a stable URL exists
    (``download=False`` forbids this). The sha256 of the uncompressed bytes (where known) and
    the shape are checked; a mismatch is a ``ValueError`` naming the file. ``verify=False``
    skips both checks, for a file known to differ (e.g. a sample of a large dataset); to
    check a file of another shape, pass a spec instead, e.g.
    ``dataclasses.replace(get_spec("electricity"), rows=100, columns=12)``.

    >>> df = load_dataset("etth1")  # doctest: +SKIP
    >>> df.shape  # doctest: +SKIP
    (17420, 8)
    """
    spec = get_spec(name)
    path = locate(spec, data_dir, download_missing=download)
    if verify:
        verify_checksum(spec, path)
    try:
        frame = read_csv_file(path)
    except ValueError as err:
        raise ValueError(f"{err}; {restore_hint(spec)}.") from None
    if verify:
        _check_shape(spec, frame, path)
    return _parse(spec, frame, path)


def read_csv_file(path: str | os.PathLike) -> pd.DataFrame:
    """Read the CSV file at ``path`` (compressed ones by their suffix, e.g. ``.csv.gz``).

    Whatever is wrong with the file is one line naming it: a ``FileNotFoundError`` when it does
    not exist, else a ``ValueError`` for something that is not a regular file (a directory, or
    a FIFO that would block the read forever), a file that does not decompress, an empty file,
    a file that is not UTF-8 text, or rows that do not parse as CSV.

    >>> read_csv_file("no/such.csv")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no/such.csv: no such file
    """
    path = Path(path)
    _check_regular_file(path)
    try:
        return pd.read_csv(path)
    except DECOMPRESSION_ERRORS as err:
        raise ValueError(corrupt_file_message(path, err)) from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty: expected a CSV file with a header row") from None
    except pd.errors.ParserError as err:
        raise ValueError(f"{path} is not a valid CSV file: {_parser_reason(err)}") from None
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path} is not UTF-8 text (byte {err.object[err.start]:#04x} at offset "
            f"{err.start}); save it as a UTF-8 CSV file"
        ) from None
    except OSError as err:  # e.g. permission denied, or a bz2 stream that does not decompress
        raise ValueError(f"cannot read {path}: {err.strerror or err}") from None


def _check_regular_file(path: Path) -> None:
    """Refuse a missing path, and anything that is not a regular file, before opening it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except OSError as err:
        raise ValueError(f"cannot read {path}: {err.strerror or err}") from None
    if stat.S_ISDIR(mode):
        raise ValueError(f"{path} is a directory; pass the path of a CSV file")
    if not stat.S_ISREG(mode):
        raise ValueError(f"{path} is not a regular file (a FIFO, socket or device); pass a CSV")


def _parser_reason(err: pd.errors.ParserError) -> str:
    """The useful part of a pandas parser error, e.g. 'Expected 2 fields in line 3, saw 3'."""
    message = str(err).strip().splitlines()[0] if str(err).strip() else "unreadable rows"
    return re.sub(r"^Error tokenizing data\. C error: ", "", message)


def _check_shape(spec: DatasetSpec, frame: pd.DataFrame, path: os.PathLike) -> None:
    expected = (spec.rows, spec.columns)
    if frame.shape != expected:
        raise ValueError(
            f"{path} has {frame.shape[0]} rows x {frame.shape[1]} columns, expected "
            f"{expected[0]} x {expected[1]} for {spec.name} (rows exclude the header, columns "
            f"include {spec.time_col!r}). The file is truncated or a different version."
        )


def _parse(spec: DatasetSpec, frame: pd.DataFrame, path: os.PathLike) -> pd.DataFrame:
    columns = list(frame.columns)
    if not columns or columns[0] != spec.time_col or columns[-1] != spec.target:
        raise ValueError(
            f"{path}: expected {spec.time_col!r} as the first column and {spec.target!r} as "
            f"the last, got {columns[:1]} ... {columns[-1:]}"
        )
    values = columns[1:]
    non_numeric = [c for c in values if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        raise ValueError(f"{path}: non-numeric values in columns {non_numeric}")
    try:
        frame[spec.time_col] = pd.to_datetime(frame[spec.time_col])
    except (ValueError, TypeError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{path}: column {spec.time_col!r} is not dates ({reason})") from None
    integers = [c for c in values if frame[c].dtype != "float64"]  # e.g. counts in illness
    if integers:
        frame[integers] = frame[integers].astype("float64")
    return frame


def list_datasets(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """One row of metadata per benchmark dataset, with whether and where it is available.

    Availability is a look-up only: nothing is downloaded or hashed.

    >>> list_datasets()["name"].tolist()[:2]
    ['ETTh1', 'ETTh2']
    """
    rows = []
    for spec in SPECS:
        path = find_file(spec, data_dir)
        rows.append(
            {
                "name": spec.name,
                "file": spec.file,
                "rows": spec.rows,
                "columns": spec.columns,
                "freq": spec.freq,
                "target": spec.target,
                "split": spec.split,
                "sha256": spec.sha256,
                "url": spec.url,
                "downloadable": spec.url is not None,
                "available": path is not None,
                "path": None if path is None else str(path),
            }
        )
    return pd.DataFrame(rows)
