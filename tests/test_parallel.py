"""Many series at scale on one machine (issue 26): ``n_jobs`` on the local models and on
``backtest`` gives the frame of ``n_jobs=1``, one bar counts every unit, a failure names its
series, model and cutoff, and workers x threads never exceed the cores."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest

from tests.data_dir import DATA_DIR, needs_data
from tsattn.evaluation import backtest
from tsattn.evaluation.backtest import BacktestWarning
from tsattn.models.baselines import ARIMA, ETS, AutoARIMA, Naive, SklearnForecaster, Theta
from tsattn.models.baselines._local import series_blocks
from tsattn.parallel import (
    check_engine,
    check_progress,
    limited_threads,
    n_workers,
    run_units,
    threads_per_worker,
)


def panel(n_series: int = 6, n: int = 40, seed: int = 0) -> pd.DataFrame:
    """Short daily series of different levels, seasons and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    frames = [
        pd.DataFrame(
            {
                "unique_id": f"s{i}",
                "ds": pd.date_range("2024-01-01", periods=n, freq="D"),
                "y": 10.0 + i + np.sin(2 * np.pi * t / 7) * (1 + i % 3) + rng.normal(0, 0.3, n),
            }
        )
        for i in range(n_series)
    ]
    return pd.concat(frames, ignore_index=True)


def _threads_in_worker(_: int) -> tuple[int, int]:
    """(pid, BLAS threads) as a unit sees them."""
    from threadpoolctl import threadpool_info

    blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return os.getpid(), max(blas, default=1)


def _fails_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is not allowed")
    return x * 10


# --------------------------------------------------------------------------- run_units


def test_run_units_keeps_the_order_of_the_units_in_every_mode():
    units = [(i,) for i in range(9)]
    assert run_units(abs, units, n_jobs=1, progress=False) == list(range(9))
    assert run_units(abs, units, n_jobs=2, progress=False) == list(range(9))


def test_workers_times_threads_never_exceed_the_cores():
    cores = os.cpu_count() or 1
    for workers in (1, 2, cores, 4 * cores):
        assert workers * threads_per_worker(workers) <= max(cores, workers)
    seen = run_units(_threads_in_worker, [(i,) for i in range(6)], n_jobs=2, progress=False)
    pids = {pid for pid, _ in seen}
    assert len(pids) * max(t for _, t in seen) <= max(cores, len(pids))
    assert n_workers(-1) == cores and n_workers(8, n_units=3) == 3


def test_limited_threads_limit_torch_and_restore_it():
    import torch

    before = torch.get_num_threads()
    with limited_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="engine must be"):
        check_engine("spark")
    with pytest.raises(ValueError, match="progress must be"):
        check_progress("yes")
    with pytest.raises(ValueError, match="n_jobs"):
        backtest(Naive(), panel(2), h=2, n_jobs=0)
    with pytest.raises(ValueError, match="engine"):
        ETS(engine="ray")
    with pytest.raises(ValueError, match="progress"):
        Theta(progress=2)


def test_series_blocks_cover_every_series_once_in_order():
    for n, k in ((1, 4), (7, 3), (10, 10), (5, 8)):
        blocks = series_blocks(n, k)
        assert [i for b in blocks for i in b] == list(range(n))
        assert len(blocks) == min(n, k)


# --------------------------------------------------------------------------- local models


@pytest.mark.parametrize(
    "make",
    [
        lambda jobs: ETS(h=3, trend=None, seasonal=None, n_jobs=jobs),
        lambda jobs: ARIMA(h=3, order=(1, 0, 0), n_jobs=jobs),
        lambda jobs: AutoARIMA(h=3, max_p=1, max_q=1, season_length=1, n_jobs=jobs),
        lambda jobs: Theta(h=3, n_jobs=jobs),
    ],
    ids=["ets", "arima", "auto_arima", "theta"],
)
def test_local_models_with_two_jobs_equal_one_job(make):
    df = panel()
    one = make(1).fit(df)
    two = make(2).fit(df)
    pd.testing.assert_frame_equal(one.predict(), two.predict())
    pd.testing.assert_frame_equal(one.predict(level=[80]), two.predict(level=[80]))
    pd.testing.assert_frame_equal(one.predict(df=df), two.predict(df=df))


def test_local_models_show_one_bar_over_their_series(capsys):
    ETS(h=2, trend="add", seasonal=None, error="add", progress=True).fit(panel(3)).predict()
    err = capsys.readouterr().err
    assert "ETS fit" in err and "3/3" in err and "ETS forecast" in err
    Theta(h=2, progress=False).fit(panel(3)).predict()
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- backtest


def models() -> list:
    return [
        ETS(error="add", trend=None, seasonal=None),
        Theta(),
        Naive(),
        SklearnForecaster(lags=7, h=3, intervals="conformal", conformal_windows=2),
    ]


@pytest.mark.parametrize("refit", [True, 2])
def test_backtest_with_two_jobs_equals_one_job(refit):
    df = panel(4, n=30)
    one = backtest(models(), df, h=3, n_windows=3, refit=refit, level=[80])
    two = backtest(models(), df, h=3, n_windows=3, refit=refit, level=[80], n_jobs=2)
    pd.testing.assert_frame_equal(one, two)


def test_backtest_bar_counts_every_unit_once(capsys):
    df = panel(18, n=20)
    backtest([Theta(), Naive()], df, h=3, n_windows=2, progress=True)
    err = capsys.readouterr().err
    # one process: Theta in 16 blocks of series per window (so the bar moves), Naive whole
    assert "34/34" in err and "Theta window 2/2 series block 16/16" in err
    backtest(Naive(), df, h=3, n_windows=2, progress=False, n_jobs=2)
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- benchmark runner


@needs_data
def test_runner_cells_in_two_processes_write_the_rows_of_one(tmp_path):
    from tsattn.benchmark.runner import run_benchmark

    cells = dict(models=["naive", "seasonal_naive"], horizons=[96], data_dir=DATA_DIR)
    one = run_benchmark("ETTh1", out_dir=tmp_path / "one", **cells)
    two = run_benchmark("ETTh1", out_dir=tmp_path / "two", n_jobs=2, **cells)
    pd.testing.assert_series_equal(one["mse"], two["mse"])
    assert sorted(two["model"]) == ["naive", "seasonal_naive"]


# --------------------------------------------------------------------------- failures
# last: a unit that raises stops joblib's workers, and the next n_jobs call starts new ones


def test_run_units_raise_the_units_own_exception():
    with pytest.raises(ValueError, match="three is not allowed"):
        run_units(_fails_on_three, [(i,) for i in range(5)], n_jobs=2, progress=False)


class Picky(ARIMA):
    """ARIMA that cannot fit a series starting at -1."""

    def _fit_one(self, y):
        if y[0] == -1.0:
            raise ValueError("cannot fit this one")
        return super()._fit_one(y)


def test_a_local_model_names_the_series_that_fails():
    df = panel(4)
    df.loc[df.index[df["unique_id"] == "s2"][0], "y"] = -1.0
    with pytest.raises(ValueError, match="Picky failed on series 's2': cannot fit this one"):
        Picky(h=2, n_jobs=2, progress=False).fit(df)


def test_backtest_failures_are_the_same_with_two_jobs_and_name_series_model_cutoff():
    df = panel(4)
    df.loc[df["unique_id"] == "s2", "y"] = 0.0  # multiplicative ETS needs a positive series
    model = ETS(error="mul", trend=None, seasonal=None, alias="ETS-M")
    runs = []
    for jobs in (1, 2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = backtest([model, Naive()], df, h=3, n_windows=2, on_error="warn", n_jobs=jobs)
        runs.append((frame, [str(w.message) for w in caught if w.category is BacktestWarning]))
    (one, warned_one), (two, warned_two) = runs
    pd.testing.assert_frame_equal(one, two)
    assert one.attrs["failures"] == two.attrs["failures"] and warned_one == warned_two
    assert len(warned_one) == 2 and "ETS-M failed on series 's2' at cutoff" in warned_one[0]
    assert one.loc[one["unique_id"] == "s2", "ETS-M"].isna().all()
    assert one.loc[one["unique_id"] != "s2", "ETS-M"].notna().all()
    with pytest.raises(
        ValueError, match=r"ETS-M failed on series 's2' at cutoff .* \(window [12] of 2"
    ):
        backtest(model, df, h=3, n_windows=2, n_jobs=2)
