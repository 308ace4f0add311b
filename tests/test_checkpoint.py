"""Training checkpoints: atomic writes, safe loading, and resume after a kill.

Run as a script (``python tests/test_checkpoint.py DIR [--resume]``), this file is the
training job the kill test starts: a tiny PatchTST fitted through the Forecaster API with
``checkpoint_dir=DIR/checkpoints``. ``TSATTN_TEST_STEP_SLEEP`` (seconds; set by the test
only) slows every training step so that the test can kill the job in the middle of an epoch.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import tsattn
from tsattn.cli import main as cli_main
from tsattn.models import TrainingConfig, create_network
from tsattn.training.checkpoint import (
    CHECKPOINT_NAME,
    load_checkpoint,
    remove_stale_temp_files,
    save_checkpoint,
)
from tsattn.training.engine import train_network

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 5
MODEL = dict(
    h=8, input_size=32, d_model=8, n_heads=2, d_ff=16, n_layers=1, patch_len=8, stride=4,
    dropout=0.1, max_epochs=EPOCHS, batch_size=8, windows_per_epoch=64, lr=1e-3,
    lr_schedule="onecycle", progress=False,
)  # fmt: skip


def _frame() -> pd.DataFrame:
    """Two hourly sine series of 160 steps (long frame)."""
    ds = pd.date_range("2024-01-01", periods=160, freq="h")
    t = np.arange(160)
    return pd.concat(
        pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.sin(t / 6.0 + shift) + shift})
        for uid, shift in (("a", 0.0), ("b", 1.0))
    )


def _fit(checkpoint_dir: Path, resume: bool = False) -> tsattn.PatchTST:
    model = tsattn.PatchTST(**MODEL, checkpoint_dir=str(checkpoint_dir))
    return model.fit(_frame(), val_size=16, resume=resume)


def _fit_single_threaded(checkpoint_dir: Path) -> tsattn.PatchTST:
    """:func:`_fit` with one thread, as the jobs run: the float reductions' order matches."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _fit(checkpoint_dir)
    finally:
        torch.set_num_threads(threads)


def _job(out: Path, resume: bool) -> None:
    """The script: fit (slowed by TSATTN_TEST_STEP_SLEEP), save, print the epochs run."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sleep = float(os.environ.get("TSATTN_TEST_STEP_SLEEP", "0"))
    if sleep:
        from tsattn.models.patchtst import PatchTSTNetwork

        forward = PatchTSTNetwork.forward

        def slow_forward(self, x):
            if self.training:
                time.sleep(sleep)
            return forward(self, x)

        PatchTSTNetwork.forward = slow_forward
    model = _fit(out / "checkpoints", resume)
    model.save(out / "model.safetensors")
    print(json.dumps([e.epoch for e in model.train_result_.history]))


def _python(out: Path, *args: str) -> list[str]:
    return [sys.executable, __file__, str(out), *args]


def _env(sleep: float = 0.0) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env["TSATTN_TEST_STEP_SLEEP"] = str(sleep)
    return env


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"no {path} after {timeout}s"
        time.sleep(0.02)


def _weights(model) -> dict[str, torch.Tensor]:
    return model.network_.state_dict()


def test_killed_training_resumes_to_the_planned_epochs(tmp_path):
    folder = tmp_path / "checkpoints"
    job = subprocess.Popen(
        _python(tmp_path), env=_env(sleep=0.04), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _wait_for(folder / CHECKPOINT_NAME, job)
    time.sleep(0.15)  # into the next epoch (~0.4 s each), far from its checkpoint write
    job.send_signal(signal.SIGKILL)
    job.communicate()
    assert job.returncode == -signal.SIGKILL  # killed, not finished

    before = load_checkpoint(folder)  # the checkpoint written before the kill is whole
    assert 1 <= before["epoch"] < EPOCHS
    assert [e["epoch"] for e in before["history"]] == list(range(before["epoch"]))
    assert os.listdir(folder) == [CHECKPOINT_NAME]  # no temporary file left behind

    done = subprocess.run(
        _python(tmp_path, "--resume"), env=_env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"after {before['epoch']} of {EPOCHS} epochs" in done.stderr  # it did resume
    assert json.loads(done.stdout.splitlines()[-1]) == list(range(EPOCHS))  # each epoch once
    final = load_checkpoint(folder)
    assert final["epoch"] == EPOCHS and not final["stopped"]
    assert [e["epoch"] for e in final["history"]] == list(range(EPOCHS))
    assert os.listdir(folder) == [CHECKPOINT_NAME]

    straight = _fit_single_threaded(tmp_path / "straight")  # the same run, uninterrupted
    resumed = tsattn.load(tmp_path / "model.safetensors")
    for name, tensor in _weights(straight).items():
        torch.testing.assert_close(_weights(resumed)[name], tensor, rtol=0, atol=0)


def _network():
    torch.manual_seed(0)
    return create_network(
        "patchtst", 32, 8, 3, d_model=8, n_heads=2, d_ff=16, n_layers=1, dropout=0.2,
        patch_len=8, stride=4,
    )  # fmt: skip


def _arrays() -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(400)[:, None]
    data = np.sin(t / 5.0 + np.arange(3)).astype(np.float32)  # (T, C)
    return data[:300], data[268:]


class Interrupt(Exception):
    """Raised by a forward hook to simulate a crash in the middle of an epoch."""


def _crash_after(network: torch.nn.Module, calls: int) -> None:
    count = [0]

    def hook(module, args):
        if module.training:
            count[0] += 1
            if count[0] > calls:
                raise Interrupt

    network.register_forward_pre_hook(hook)


@pytest.mark.parametrize("schedule", ["onecycle", "plateau"])
def test_resumed_training_equals_uninterrupted_training(tmp_path, schedule):
    """FastDropout (RNG), the schedule (one-cycle's position, plateau's counter and lr), Adam
    (optimizer), shuffling (generator) and early stopping (best weights) all continue
    exactly: the weights are identical."""
    train, val = _arrays()
    options = dict(max_epochs=4, lr=1e-3, batch_size=32, lr_schedule=schedule, patience=3)
    config = TrainingConfig(**options, progress=False, checkpoint_dir=str(tmp_path), seed=1)
    straight = _network()
    expected = train_network(straight, train, val, 32, 8, config)

    (tmp_path / CHECKPOINT_NAME).unlink()
    crashed = _network()
    _crash_after(crashed, calls=12)  # 9 steps per epoch: dies in epoch 1
    with pytest.raises(Interrupt):
        train_network(crashed, train, val, 32, 8, config)
    assert load_checkpoint(tmp_path)["epoch"] == 1
    resumed = _network()
    result = train_network(resumed, train, val, 32, 8, config, resume=True)

    assert [vars(e) | {"seconds": 0} for e in result.history] == [
        vars(e) | {"seconds": 0} for e in expected.history
    ]
    assert result.best_epoch == expected.best_epoch
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(b, a, rtol=0, atol=0, msg=name)


def test_resume_after_the_last_epoch_trains_no_more(tmp_path):
    first = _fit(tmp_path)
    again = _fit(tmp_path, resume=True)
    assert [e.epoch for e in again.train_result_.history] == list(range(EPOCHS))
    for name, tensor in _weights(first).items():
        torch.testing.assert_close(_weights(again)[name], tensor, rtol=0, atol=0)


def test_resume_without_a_checkpoint_starts_afresh(tmp_path, caplog):
    train, val = _arrays()
    config = TrainingConfig(max_epochs=1, progress=False, checkpoint_dir=str(tmp_path / "new"))
    with caplog.at_level(logging.INFO, logger="tsattn"):
        result = train_network(_network(), train, val, 32, 8, config, resume=True)
    assert "no checkpoint" in caplog.text and len(result.history) == 1
    assert load_checkpoint(tmp_path / "new")["epoch"] == 1


def test_resume_needs_a_checkpoint_dir_and_a_neural_model():
    train, _ = _arrays()
    with pytest.raises(ValueError, match="checkpoint_dir"):
        train_network(_network(), train, None, 32, 8, TrainingConfig(max_epochs=1), resume=True)
    with pytest.raises(ValueError, match="resume"):
        tsattn.SeasonalNaive(h=4, season_length=24).fit(_frame(), resume=True)


def test_checkpoint_files_are_atomic_and_refuse_foreign_content(tmp_path):
    save_checkpoint(tmp_path, {"epoch": 1})
    stale = tmp_path / f".{CHECKPOINT_NAME}.abc.tmp"
    stale.write_bytes(b"half a checkpoint")  # what a writer killed mid-write leaves
    assert remove_stale_temp_files(tmp_path) == [stale]
    assert os.listdir(tmp_path) == [CHECKPOINT_NAME]
    torch.save({"epoch": 1}, tmp_path / CHECKPOINT_NAME)
    with pytest.raises(ValueError, match="not a tsattn training checkpoint"):
        load_checkpoint(tmp_path)
    (tmp_path / CHECKPOINT_NAME).write_bytes(b"truncated")
    with pytest.raises(ValueError, match="cannot read"):
        load_checkpoint(tmp_path)
    torch.save({"format": "tsattn-checkpoint", "code": Interrupt()}, tmp_path / CHECKPOINT_NAME)
    with pytest.raises(ValueError, match="cannot read"):  # weights_only: no objects
        load_checkpoint(tmp_path)


def test_cli_fit_writes_and_resumes_from_a_checkpoint(tmp_path, capsys):
    csv = tmp_path / "series.csv"
    _frame().to_csv(csv, index=False)
    args = [
        "fit", "--csv", str(csv), "--id-col", "unique_id", "--target-col", "y", "--model",
        "dlinear:max_epochs=2", "--h", "8", "--input-size", "32",
        "--save", str(tmp_path / "m.safetensors"), "--checkpoint-dir", str(tmp_path / "c"),
    ]  # fmt: skip
    assert cli_main(args) == 0
    assert cli_main([*args, "--resume"]) == 0
    assert load_checkpoint(tmp_path / "c")["epoch"] == 2
    assert cli_main(args[:-2] + ["--resume"]) == 2
    assert "--resume needs --checkpoint-dir" in capsys.readouterr().err


if __name__ == "__main__":
    _job(Path(sys.argv[1]), resume="--resume" in sys.argv[2:])
