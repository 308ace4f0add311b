"""The benchmark runner under concurrent processes and kills (issue 12, part 8).

* processes sharing one ``out_dir`` claim a cell before running it, so each cell runs once;
* ``results.csv`` is the single source: a JSON left short by a kill is rebuilt on the next start;
* plots are written atomically: a kill mid-write leaves the old file, never a truncated one.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from tests.data_dir import DATA_DIR, needs_data
from tsattn.benchmark.runner import run_benchmark

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: one benchmark process: says it is ready, waits for the go file (so all start together), then
#: runs its models;
#: each cell sleeps first, which widens the window in which another process could start it too
WORKER = textwrap.dedent(
    """
    import logging, os, sys, time
    from pathlib import Path
    from tsattn.benchmark import runner

    out, data_dir, go, models = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    original = runner._run_cell

    def slow_cell(*args):
        time.sleep(0.5)
        return original(*args)

    runner._run_cell = slow_cell
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    (go.parent / f"ready-{os.getpid()}").touch()
    while not go.exists():
        time.sleep(0.01)
    runner.run_benchmark(
        "ETTh1", models.split(","), horizons=[24, 48], out_dir=out, data_dir=data_dir,
        progress=False,
    )
    """
)

#: writes a plot, then writes it again and is SIGKILLed while the image bytes are going out
PLOT_KILLED_MID_WRITE = textwrap.dedent(
    """
    import os, signal, sys
    import matplotlib
    matplotlib.use("Agg")
    import pandas as pd
    from PIL import Image
    from tsattn.evaluation.plots import plot_benchmark

    path = sys.argv[1]
    results = pd.DataFrame(
        {"dataset": "ETTh1", "model": ["a", "b"], "horizon": [96, 96], "mse": [0.4, 0.5]}
    )
    plot_benchmark(results, path=path)
    with open(path + ".first", "wb") as copy, open(path, "rb") as first:
        copy.write(first.read())

    def killed_while_writing(image, fp, filename):
        fp.write(b"\\x89PNG")
        fp.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    Image.SAVE["PNG"] = killed_while_writing
    plot_benchmark(results, metric="mse", path=path)
    """
)


def _cells(table: pd.DataFrame) -> list[tuple]:
    return sorted(zip(table["model"], table["horizon"], table["seed"]))


def _write_claim(out: Path, model: str, *, pid: int, host: str, age_s: float = 0.0) -> Path:
    """A claim file on ETTh1/<model>/H=96 as another process would have written it."""
    from tsattn.benchmark.claims import claim_path

    key = {
        "dataset": "ETTh1",
        "model": model,
        "horizon": 96,
        "input_size": 336,
        "seed": 0,
        "legacy_drop_last": 0,
        "quick": False,
        "max_epochs": 0,
    }
    path = claim_path(out, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"pid": pid, "host": host, "token": "theirs", "started": time.time() - age_s}
    path.write_text(json.dumps({**record, "cell": key}))
    return path


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@needs_data
def test_processes_sharing_an_out_dir_run_each_cell_once(tmp_path):
    """Three processes, overlapping model lists, 4 cells: 4 rows (was 8-10 rows, cells run
    two or three times)."""
    out, go = tmp_path / "out", tmp_path / "go"
    model_lists = ["naive,seasonal_naive", "seasonal_naive,naive", "naive,seasonal_naive"]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(out), str(DATA_DIR), str(go), models],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for models in model_lists
    ]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("ready-*"))) < len(workers) and time.monotonic() < deadline:
        time.sleep(0.05)  # every worker has finished its imports and waits at the go file
    go.touch()
    logs = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0], logs
    saved = pd.read_csv(out / "results.csv")
    expected = sorted((m, h, 0) for m in ("naive", "seasonal_naive") for h in (24, 48))
    assert _cells(saved) == expected, f"{len(saved)} rows for {len(expected)} cells"
    assert len(json.loads((out / "results.json").read_text())) == len(saved)
    assert not list((out / ".claims").glob("*.claim"))  # every claim released


@needs_data
def test_a_cell_claimed_by_a_live_process_is_skipped_and_logged(tmp_path, caplog):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        claim = _write_claim(tmp_path, "naive", pid=sleeper.pid, host=socket.gethostname())
        with caplog.at_level(logging.INFO, logger="tsattn.benchmark.runner"):
            result = run_benchmark(
                "ETTh1",
                ["naive", "seasonal_naive"],
                horizons=[96],
                out_dir=tmp_path,
                data_dir=DATA_DIR,
            )
    finally:
        sleeper.kill()
        sleeper.wait()
    assert result["model"].tolist() == ["seasonal_naive"]
    assert pd.read_csv(tmp_path / "results.csv")["model"].tolist() == ["seasonal_naive"]
    assert claim.exists()  # still theirs
    assert f"claimed by pid {sleeper.pid}" in caplog.text


@needs_data
def test_a_claim_of_a_dead_process_on_this_host_is_taken_over(tmp_path):
    claim = _write_claim(tmp_path, "naive", pid=_dead_pid(), host=socket.gethostname())
    result = run_benchmark("ETTh1", ["naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR)
    assert result["model"].tolist() == ["naive"]
    assert not claim.exists()


@needs_data
def test_a_claim_from_another_host_holds_until_it_is_older_than_the_limit(tmp_path):
    from tsattn.benchmark.claims import CLAIM_MAX_AGE_S

    fresh = _write_claim(tmp_path, "naive", pid=1, host="another-host")
    skipped = run_benchmark("ETTh1", ["naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR)
    assert skipped.empty and fresh.exists()
    _write_claim(tmp_path, "naive", pid=1, host="another-host", age_s=CLAIM_MAX_AGE_S + 60)
    taken = run_benchmark("ETTh1", ["naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR)
    assert taken["model"].tolist() == ["naive"]


@needs_data
def test_a_failing_cell_releases_its_claim(tmp_path, monkeypatch):
    from tsattn.benchmark import runner

    def failing_cell(*args):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(runner, "_run_cell", failing_cell)
    with pytest.raises(RuntimeError):
        run_benchmark("ETTh1", ["naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR)
    assert not list((tmp_path / ".claims").glob("*.claim"))
    monkeypatch.undo()
    result = run_benchmark("ETTh1", ["naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR)
    assert result["model"].tolist() == ["naive"]


@needs_data
def test_a_kill_between_the_csv_and_json_writes_is_repaired_on_the_next_start(
    tmp_path, monkeypatch
):
    """The JSON was one row short for good when no later cell ran (was: 1 record, 2 rows)."""
    run_benchmark("ETTh1", ["naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR)
    real_replace = os.replace

    def killed_before_the_json(src, dst, *args, **kwargs):
        if str(dst).endswith("results.json"):
            raise SystemExit("killed")  # the process dies right after the CSV is replaced
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", killed_before_the_json)
    with pytest.raises(SystemExit):
        run_benchmark(
            "ETTh1", ["seasonal_naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR
        )
    monkeypatch.undo()
    assert len(json.loads((tmp_path / "results.json").read_text())) == 1  # the kill's damage
    run_benchmark(  # every cell is finished: nothing new is written but the repair
        "ETTh1", ["naive", "seasonal_naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR
    )
    records = pd.DataFrame(json.loads((tmp_path / "results.json").read_text()))
    assert _cells(records) == _cells(pd.read_csv(tmp_path / "results.csv"))
    assert len(records) == 2


@needs_data
def test_a_json_cut_short_is_rebuilt_from_the_csv(tmp_path):
    run_benchmark("ETTh1", ["naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR)
    (tmp_path / "results.json").write_text('[{"dataset":"ET')
    run_benchmark("ETTh1", ["naive"], horizons=[96], out_dir=tmp_path, data_dir=DATA_DIR)
    records = json.loads((tmp_path / "results.json").read_text())
    assert [r["model"] for r in records] == ["naive"]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_plot_killed_mid_write_leaves_the_previous_file(tmp_path):
    """benchmark_mse.png was written in place: a kill mid-write left a truncated file (was:
    5 bytes; now: the previous, complete PNG)."""
    path = tmp_path / "benchmark_mse.png"
    run = subprocess.run(
        [sys.executable, "-c", PLOT_KILLED_MID_WRITE, str(path)], capture_output=True, text=True
    )
    assert run.returncode == -signal.SIGKILL, run.stderr
    first = (tmp_path / "benchmark_mse.png.first").read_bytes()
    assert first.startswith(PNG_SIGNATURE) and len(first) > 1000
    assert path.read_bytes() == first


def test_plots_keep_their_format_and_leave_no_temporary_file(tmp_path):
    from tsattn.evaluation.plots import plot_benchmark

    results = pd.DataFrame(
        {"dataset": "ETTh1", "model": ["a", "b"], "horizon": [96, 96], "mse": [0.4, 0.5]}
    )
    for name in ("plot.png", "plot.svg", "plot.pdf", "sub/plot.png"):
        plot_benchmark(results, path=tmp_path / name)
        plt.close("all")
    assert (tmp_path / "plot.png").read_bytes().startswith(PNG_SIGNATURE)
    assert b"<svg" in (tmp_path / "plot.svg").read_bytes()
    assert (tmp_path / "plot.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "sub" / "plot.png").read_bytes().startswith(PNG_SIGNATURE)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "plot.pdf",
        "plot.png",
        "plot.png",
        "plot.svg",
    ]
