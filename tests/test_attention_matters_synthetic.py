"""The synthetic 'where attention matters' benchmark (benchmarks/attention_matters_synthetic.py):
its data law, so that its figures mean what its section says."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "attention_matters_synthetic.py"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("attention_matters_synthetic", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_series_repeats_with_its_own_period_up_to_the_noise(bench):
    df, periods = bench.periodic_frame(n_series=12, length=400, seed=0)
    assert len(set(periods.tolist())) > 6 and periods.min() >= 24 and periods.max() < 160
    history, actual = bench.split_last(df, h=48)
    assert actual.shape == (12, 48) and len(history) == 12 * (400 - 48)
    # the oracle's error is the difference of two noise draws: variance 2 * NOISE**2
    oracle = bench.oracle_mse(history, actual, periods)
    assert oracle == pytest.approx(2 * bench.NOISE**2, rel=0.3)
    # a wrong period is far worse: the series really differ in period
    wrong = bench.oracle_mse(history, actual, np.roll(periods, 1))
    assert wrong > 20 * oracle


def test_the_ablation_is_attention_to_oneself_only(bench):
    assert bench.VARIANTS["no mixing"] == {
        "attention": "sliding",
        "attention_options": {"window": 0},
    }
