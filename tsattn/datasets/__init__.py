"""Benchmark datasets (specs, loaders, literature splits) and users' own series.

>>> import tsattn.datasets as D
>>> "etth1" in D.DATASETS
True
"""

from tsattn.datasets.frames import read_series, to_gluonts, to_long, to_wide
from tsattn.datasets.loaders import list_datasets, load_dataset
from tsattn.datasets.specs import DATASETS, DatasetSpec, get_spec
from tsattn.datasets.splits import SPLIT_RULES, BenchmarkSplit, benchmark_split
from tsattn.datasets.store import cache_dir, search_dirs
from tsattn.datasets.validation import (
    ID_COL,
    TARGET_COL,
    TIME_COL,
    ValidatedFrame,
    check_input,
    infer_frequency,
    validate_long_frame,
)
from tsattn.datasets.windows import SlidingWindows, WindowView, n_windows, window_view

__all__ = [
    "DATASETS",
    "ID_COL",
    "SPLIT_RULES",
    "TARGET_COL",
    "TIME_COL",
    "BenchmarkSplit",
    "DatasetSpec",
    "SlidingWindows",
    "ValidatedFrame",
    "WindowView",
    "benchmark_split",
    "cache_dir",
    "check_input",
    "get_spec",
    "infer_frequency",
    "list_datasets",
    "load_dataset",
    "n_windows",
    "read_series",
    "search_dirs",
    "to_gluonts",
    "to_long",
    "to_wide",
    "validate_long_frame",
    "window_view",
]
