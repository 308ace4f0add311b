"""The literature benchmark: reference presets and published numbers, the runner (cells,
resume, claims, a locked results store) and streamed scoring of every test window.

It uses forecasters through their window-level entry points; users' own series are served by
:mod:`tsattn.evaluation` (backtest, evaluate, plots).
"""

from tsattn.benchmark.runner import format_table, run_benchmark

__all__ = ["format_table", "run_benchmark"]
