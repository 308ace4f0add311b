"""The Dask engine (issue 26): the units of ``n_jobs`` run as tasks of a local cluster started
inside the test (two worker processes on 127.0.0.1, a few seconds), with the same forecasts as
one process, the data placed on the cluster as partitions, and a worker killed mid-run losing
no result. (``tests/test_distributed.py`` is torchrun DDP, one network's training.)"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsattn.evaluation import backtest
from tsattn.models.baselines import ETS, Naive, Theta
from tsattn.parallel import Partition, dask_client, run_units

distributed = pytest.importorskip(
    "distributed", reason='the Dask engine needs the extra: pip install "tsattn[dask]"'
)


@pytest.fixture(scope="module")
def client():
    """A local cluster of two single-threaded worker processes, on localhost only."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=50,
    )
    with cluster, distributed.Client(cluster) as dask:
        yield dask


def panel(n_series: int = 5, n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    t = np.arange(n, dtype=float)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": pd.date_range("2024-01-01", periods=n, freq="D"),
                    "y": 20.0 + i + np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3, n),
                }
            )
            for i in range(n_series)
        ],
        ignore_index=True,
    )


def _size(block: pd.DataFrame) -> tuple[int, int]:
    return len(block), os.getpid()


def _dies_once(marker: str, x: int, block: pd.DataFrame) -> tuple[int, int]:
    """Kills its worker process the first time it runs (the marker file records that), then
    answers: the scheduler must run it again elsewhere, with the partition still there."""
    path = Path(marker)
    if x == 2 and not path.exists():
        path.write_text("killed once")
        os._exit(1)
    return x * x + len(block), os.getpid()


def test_local_models_on_the_engine_equal_one_process(client):
    df = panel()
    for make in (lambda **k: ETS(h=3, trend=None, seasonal=None, **k), lambda **k: Theta(h=3, **k)):
        one = make().fit(df)
        dask = make(engine="dask").fit(df)
        pd.testing.assert_frame_equal(one.predict(level=[80]), dask.predict(level=[80]))


def test_backtest_on_the_engine_equals_one_process(client):
    df = panel()
    models = [ETS(error="add", trend=None, seasonal=None), Theta(), Naive()]
    one = backtest(models, df, h=3, n_windows=2, refit=True)
    for engine in ("dask", client):
        on_dask = backtest(models, df, h=3, n_windows=2, refit=True, engine=engine)
        pd.testing.assert_frame_equal(one, on_dask)


def test_partitions_are_placed_once_and_units_run_where_they_live(client):
    blocks = [Partition(panel(k)) for k in (1, 2)]
    units = [(blocks[i % 2],) for i in range(6)]  # six tasks, two partitions
    sizes = run_units(_size, units, engine=client, progress=False)
    assert [s for s, _ in sizes] == [30, 60] * 3


def test_a_worker_killed_mid_run_loses_no_result(client, tmp_path):
    marker, block = str(tmp_path / "killed"), Partition(panel(1))  # 30 rows, on both workers
    units = [(marker, x, block) for x in range(5)]
    results = run_units(_dies_once, units, engine=client, progress=False)
    assert [r for r, _ in results] == [30, 31, 34, 39, 46]  # the killed unit ran again
    assert Path(marker).exists()
    client.wait_for_workers(2, timeout=30)  # the nanny restarted the killed worker


def test_engine_errors_say_what_to_do(monkeypatch):
    import tsattn.parallel as parallel

    monkeypatch.setattr(distributed, "get_client", _no_client)
    with pytest.raises(ValueError, match="there is none: start one first"):
        parallel.dask_client("dask")
    monkeypatch.setitem(__import__("sys").modules, "distributed", None)
    with pytest.raises(ImportError, match=r'pip install "tsattn\[dask\]"'):
        dask_client("dask")


def _no_client():
    raise ValueError("No clients found")


def _always_dies(x: int) -> int:
    if x == 1:
        os._exit(1)
    return x


def test_a_unit_that_kills_every_worker_it_runs_on_is_reported_by_its_label():
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=50,
        )
        with cluster, distributed.Client(cluster) as dask_client_:
            # the dead worker held both units (one thread, both queued): either may be reported
            lost = "unit (one|two) was lost by the Dask cluster"
            with pytest.raises(RuntimeError, match=lost):
                run_units(
                    _always_dies,
                    [(0,), (1,)],
                    engine=dask_client_,
                    progress=False,
                    desc="test",
                    labels=["unit one", "unit two"],
                )
