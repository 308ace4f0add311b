"""The benchmark results store: ``results.csv`` is the single source, ``results.json`` its copy.

One row per finished cell. Every change happens under one lock file (``.results.lock``) and
re-reads the CSV first, so processes sharing an ``out_dir`` never lose each other's rows. The
CSV is replaced atomically first; the JSON is then rebuilt *from the CSV*, so a kill between
the two leaves a JSON that :func:`repair_json` (run when a benchmark starts) brings back in
line, instead of one row short for good.

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> row = dict.fromkeys(CELL_KEYS, 0)
>>> with results_lock(out):
...     append_locked(out, {**row, "mse": 0.5})
>>> len(read_results(out)), has_cell(read_results(out), row)
(1, True)
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from filelock import FileLock

from tsattn.atomic import atomic_write_text

log = logging.getLogger(__name__)

#: the columns that identify one cell
CELL_KEYS = [
    "dataset",
    "model",
    "horizon",
    "input_size",
    "seed",
    "legacy_drop_last",
    "quick",
    "max_epochs",
]
RESULT_FILES = ("results.csv", "results.json")
LOCK_FILE = ".results.lock"


def results_lock(out: Path) -> FileLock:
    """The lock every reader-modifier of ``out``'s result files (and cell claims) holds.

    Not re-entrant across :class:`FileLock` objects: never run a cell while holding it.
    """
    out.mkdir(parents=True, exist_ok=True)
    return FileLock(out / LOCK_FILE)


def read_results(out: Path) -> pd.DataFrame:
    """The finished cells in ``out/results.csv`` (an empty frame when there is none yet)."""
    path = out / RESULT_FILES[0]
    if not path.exists():
        return pd.DataFrame(columns=CELL_KEYS)
    table = pd.read_csv(path)
    missing = [k for k in CELL_KEYS if k not in table.columns]
    if missing:
        raise ValueError(
            f"{path} lacks the columns {missing}: it was not written by this version of "
            f"run_benchmark; use another out_dir"
        )
    return table


def append_locked(out: Path, row: dict[str, Any]) -> None:
    """Add one row to the result files; the caller holds :func:`results_lock`."""
    old = read_results(out)  # it may lack columns added since (e.g. crps): left empty
    columns = list(dict.fromkeys([*old.columns, *row]))
    table = pd.DataFrame([*old.to_dict("records"), row], columns=columns)
    write_results(table, out)


def write_results(table: pd.DataFrame, out: Path) -> None:
    """Replace ``results.csv`` with ``table``, then rebuild ``results.json`` from that CSV."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / RESULT_FILES[0], table.to_csv(index=False))
    atomic_write_text(out / RESULT_FILES[1], _json_from_csv(out))


def _json_from_csv(out: Path) -> str:
    """``results.json`` as the CSV dictates it: one record per CSV row."""
    return pd.read_csv(out / RESULT_FILES[0]).to_json(orient="records", indent=1)


def repair_json(out: Path) -> bool:
    """Rebuild ``results.json`` from ``results.csv`` if they disagree (a kill between the two
    replacements, or a hand-edited CSV); return whether it was rewritten."""
    csv_path, json_path = (out / name for name in RESULT_FILES)
    if not csv_path.exists():
        return False
    with results_lock(out):
        expected = _json_from_csv(out)
        if _same_records(json_path, expected):
            return False
        log.warning("%s did not match %s: rebuilt it from the CSV", json_path, csv_path.name)
        atomic_write_text(json_path, expected)
        return True


def _same_records(json_path: Path, expected: str) -> bool:
    """Whether ``json_path`` holds the records of ``expected`` (compared parsed, so a file an
    older version wrote with other number formatting is not rewritten for nothing)."""
    try:
        return json.loads(json_path.read_text(encoding="utf-8")) == json.loads(expected)
    except (OSError, ValueError):  # missing, or cut short
        return False


def matches(table: pd.DataFrame, key: dict) -> np.ndarray:
    """A boolean mask of the rows of ``table`` that are the cell ``key``."""
    match = np.ones(len(table), dtype=bool)
    for column, value in key.items():
        match &= (table[column] == value).to_numpy()
    return match


def has_cell(table: pd.DataFrame, key: dict) -> bool:
    """Whether the cell ``key`` is finished (has a row in ``table``)."""
    return bool(matches(table, key).any())
