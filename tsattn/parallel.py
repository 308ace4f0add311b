"""Units of work run one after another, in local processes (``n_jobs``) or on a Dask cluster
(``engine``), behind one call, with the same results in every mode.

A *unit* is a function and its arguments: a block of series for a local model, a
(model, series block, windows) cell of a backtest. :func:`run_units` returns the units' results
in the order of the units, whoever ran them, with one progress bar over all of them:

* ``n_jobs=1``: in this process, one after another (no start-up cost);
* ``n_jobs=k`` (``-1``: every core): in ``k`` local processes (joblib's loky);
* ``engine="dask"`` (or a ``dask.distributed.Client``): as tasks on the active Dask cluster.
  Arguments wrapped in :class:`Partition` are placed on the cluster once (scattered, and kept
  on two workers), and every unit that names them runs where they live: the data travels as
  partitions, not as one pickled frame per task. A unit whose worker dies is run again
  elsewhere (Dask's scheduler retries it; after ``distributed.scheduler.allowed-failures``
  deaths it is reported as ``KilledWorker``); its result is never lost silently.

Threads: each worker's BLAS and torch pools are limited so that workers x threads <= cores
(:func:`threads_per_worker`; one thread per Dask task, as Dask's nanny sets for its workers).

Why Dask rather than Ray: pure-Python wheels of a few MB on the pandas / NumPy stack tsattn
already has, a local cluster in two seconds for tests and laptops, the same ``Client`` on
SLURM, Kubernetes or YARN (dask-jobqueue, dask-kubernetes), and data placement (``scatter``)
and retries of lost tasks built in. Ray would bring a 100 MB runtime and its own object store
for the same units.

>>> run_units(pow, [(2, 3), (3, 2)], n_jobs=1, progress=False)
[8, 9]
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from tqdm.auto import tqdm

from tsattn.checks import check_n_jobs, short_repr

#: the engines ``engine=`` names (a ``dask.distributed.Client`` instance is accepted too)
ENGINES = ("dask",)
#: what installs an engine
INSTALL = {"dask": 'pip install "tsattn[dask]"  (or: pip install "dask[distributed]")'}
#: a progress bar left as None appears only when the work lasts longer than this (seconds)
PROGRESS_DELAY = 2.0
#: copies of every partition kept on the cluster, so that losing one worker loses no data
PARTITION_COPIES = 2


class Partition:
    """An argument of several units placed on the cluster once (an engine scatters it; local
    modes pass the value as it is). Units that share one ``Partition`` object share its copy.

    >>> Partition([1, 2]).value
    [1, 2]
    """

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


def check_engine(value: object) -> Any:
    """None, ``"dask"``, or a ``dask.distributed.Client``; anything else is a ValueError."""
    if value is None or value in ENGINES:
        return value
    if type(value).__name__ == "Client" and hasattr(value, "submit"):
        return value
    raise ValueError(
        f"engine must be None (local: n_jobs), 'dask' (the active dask.distributed Client) "
        f"or a dask.distributed.Client, got {short_repr(value)}"
    )


def check_progress(value: object, name: str = "progress") -> bool | None:
    """None (a bar when the work takes more than :data:`PROGRESS_DELAY` seconds), True or
    False."""
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"{name} must be None (automatic), True or False, got {short_repr(value)}")


def n_workers(n_jobs: int, n_units: int | None = None) -> int:
    """Local worker processes for ``n_jobs`` (joblib's convention: -1 every core, -2 all
    but one), never more than there are units.

    >>> n_workers(4, n_units=3), n_workers(1)
    (3, 1)
    """
    n_jobs = check_n_jobs(n_jobs)
    cores = os.cpu_count() or 1
    workers = n_jobs if n_jobs > 0 else max(1, cores + 1 + n_jobs)
    return max(1, min(workers, n_units)) if n_units is not None else workers


def threads_per_worker(workers: int) -> int:
    """BLAS / torch threads each of ``workers`` processes may use: cores // workers, >= 1."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


@contextlib.contextmanager
def limited_threads(threads: int) -> Iterator[None]:
    """BLAS / OpenMP pools (threadpoolctl) and torch's intra-op pool limited to ``threads``,
    restored afterwards. torch is only touched when it is already imported."""
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    try:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(limits=threads)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        limits = contextlib.nullcontext()
    with limits:
        if torch is not None and before != threads:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if torch is not None and before != threads:
                torch.set_num_threads(before)


def _call(fn: Callable, threads: int, args: tuple) -> Any:
    """``fn(*args)`` with the worker's threads limited (what every mode runs per unit)."""
    with limited_threads(threads):
        return fn(*(a.value if isinstance(a, Partition) else a for a in args))


def _indexed(fn: Callable, threads: int, index: int, args: tuple) -> tuple[int, Any]:
    return index, _call(fn, threads, args)


def progress_bar(total: int, desc: str, progress: bool | None, unit: str = "unit"):
    """tqdm over ``total`` units: shown (True), hidden (False), or shown once the work has
    lasted :data:`PROGRESS_DELAY` seconds (None)."""
    delay = PROGRESS_DELAY if progress is None else 0.0
    return tqdm(total=total, desc=desc, unit=unit, disable=progress is False, delay=delay)


def run_units(
    fn: Callable,
    units: Sequence[tuple],
    *,
    n_jobs: int = 1,
    engine: Any = None,
    progress: bool | None = None,
    desc: str = "units",
    labels: Sequence[str] | None = None,
    threads: int | None = None,
) -> list:
    """``[fn(*unit) for unit in units]``, run by ``n_jobs`` local processes or an ``engine``.

    Args:
        fn: a module-level function (it is pickled by reference).
        units: one argument tuple per unit; :class:`Partition` arguments are placed on an
            engine's cluster once.
        n_jobs: local worker processes (1: this process; -1: every core). Ignored with an
            engine, whose workers decide.
        engine: None, ``"dask"`` (the active ``dask.distributed.Client``) or a Client.
        progress: one bar over all units (see :func:`progress_bar`).
        desc, labels: the bar's title, and a label per unit shown as each one finishes.
        threads: BLAS / torch threads per unit (default: cores // workers in local worker
            processes, 1 on an engine, and this process's threads left as they are).

    Raises:
        Exception: the first unit's exception to arrive, as the unit raised it (units name
            what failed in their own messages).
    """
    engine = check_engine(engine)
    workers = n_workers(n_jobs, len(units)) if engine is None else 0
    with progress_bar(len(units), desc, progress) as bar:
        if engine is not None:
            return _run_engine(fn, units, engine, bar, (desc, labels), threads or 1)
        if workers > 1:
            threads = threads or threads_per_worker(workers)
            return _run_local(fn, units, workers, bar, (desc, labels), threads)
        results = []
        # one process: the caller's threads as they are, unless asked; limited once, as
        # threadpoolctl's look-up costs a few milliseconds
        with limited_threads(threads) if threads else contextlib.nullcontext():
            for i, unit in enumerate(units):
                _name(bar, desc, labels, i)  # one process: the bar names the unit running
                results.append(fn(*(a.value if isinstance(a, Partition) else a for a in unit)))
                bar.update()
        return results


def _name(bar, desc: str, labels: Sequence[str] | None, i: int) -> None:
    if labels is not None:
        bar.set_description(f"{desc} {labels[i]}")


def _advance(bar, desc: str, labels: Sequence[str] | None, i: int) -> None:
    """A unit finished (workers: the bar names the last one to finish)."""
    _name(bar, desc, labels, i)
    bar.update()


def _run_local(fn, units, workers: int, bar, names: tuple, threads: int) -> list:
    from joblib import Parallel, delayed

    results: list = [None] * len(units)
    parallel = Parallel(n_jobs=workers, return_as="generator_unordered")
    for i, result in parallel(
        delayed(_indexed)(fn, threads, i, tuple(unit)) for i, unit in enumerate(units)
    ):
        results[i] = result
        _advance(bar, *names, i)
    return results


def dask_client(engine: Any):
    """The ``dask.distributed.Client`` that ``engine`` names; errors say what to install or
    start."""
    try:
        import distributed
    except ImportError as err:
        raise ImportError(
            f"engine='dask' needs dask.distributed, which is not installed: {INSTALL['dask']}"
        ) from err
    if engine != "dask":
        return engine
    try:
        return distributed.get_client()
    except ValueError as err:
        raise ValueError(
            "engine='dask' runs on the active dask.distributed Client, and there is none: "
            "start one first, e.g. `from dask.distributed import Client; client = Client()` "
            "(a local cluster) or `Client('tcp://<scheduler>:8786')` (a running cluster)"
        ) from err


def engine_slots(engine: Any) -> int:
    """The threads of every worker of the engine's cluster together (for block sizes)."""
    client = dask_client(engine)
    return max(1, sum(client.nthreads().values()))


def _place(client, units: Sequence[tuple]) -> list[tuple]:
    """The units with every :class:`Partition` replaced by its copy on the cluster, each
    scattered once and kept on :data:`PARTITION_COPIES` workers."""
    parts = {id(a): a for unit in units for a in unit if isinstance(a, Partition)}
    if not parts:
        return [tuple(u) for u in units]
    futures = client.scatter([p.value for p in parts.values()], hash=False)
    copies = min(PARTITION_COPIES, len(client.nthreads()))
    if copies > 1:
        client.replicate(futures, n=copies)
    placed = dict(zip(parts, futures))
    return [tuple(placed.get(id(a), a) for a in unit) for unit in units]


def _run_engine(fn, units, engine, bar, names: tuple, threads: int) -> list:
    from distributed import as_completed

    client = dask_client(engine)
    futures = [
        client.submit(_call, fn, threads, args, pure=False) for args in _place(client, units)
    ]
    index = {future.key: i for i, future in enumerate(futures)}
    results: list = [None] * len(units)
    try:
        for future in as_completed(futures):
            i = index[future.key]
            results[i] = _engine_result(future, names, i)
            _advance(bar, *names, i)
    finally:
        client.cancel(futures)  # after a failure: the rest stop, as joblib's do
    return results


def _engine_result(future, names: tuple, i: int) -> Any:
    """A task's result; a task the cluster lost (its workers died each time it ran:
    ``KilledWorker``, or cancelled) is reported by its unit's label, not lost silently."""
    try:
        return future.result()
    except Exception as exc:
        if type(exc).__name__ not in ("KilledWorker", "CancelledError", "FutureCancelledError"):
            raise  # the unit's own exception, as the unit raised it
        desc, labels = names
        unit = labels[i] if labels is not None else f"unit {i + 1}"
        raise RuntimeError(
            f"{desc}: {unit} was lost by the Dask cluster ({type(exc).__name__}: {exc}); every "
            f"worker that ran it died (distributed.scheduler.allowed-failures bounds the "
            f"retries): look for a unit that exhausts a worker's memory"
        ) from exc
