"""Where the benchmark CSVs are: TSATTN_DATA_DIR (set by CI), else the data dir beside this
checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA_DIR = Path(
    os.environ.get("TSATTN_DATA_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data"
)

needs_data = pytest.mark.skipif(
    not (DATA_DIR / "ETTh1.csv.gz").exists() and not (DATA_DIR / "ETTh1.csv").exists(),
    reason=f"benchmark data not found in {DATA_DIR} (set TSATTN_DATA_DIR)",
)
