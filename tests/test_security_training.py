"""Forged, partial or misplaced training checkpoints and diverging training (issue 12, parts 3
and 5): every problem is a ``ValueError`` that names the file and the field, raised before
any training, and a run whose data or options changed is never silently continued."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tsattn.models import TrainingConfig
from tsattn.models.linear import DLinearConfig, DLinearNetwork
from tsattn.training.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from tsattn.training.engine import train_network

INPUT, HORIZON = 24, 6
#: the fields a checkpoint held before this issue (each was read without a check)
FIELDS = (
    "epoch", "steps", "stopped", "history", "network", "optimizer", "schedule", "best",
    "sampler", "rng", "world_size", "config",
)  # fmt: skip


def _network(kernel_size: int = 5) -> DLinearNetwork:
    torch.manual_seed(0)
    config = DLinearConfig(input_size=INPUT, horizon=HORIZON, n_channels=2, kernel_size=kernel_size)
    return DLinearNetwork(config)


def _data(rows: int = 200) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(rows)[:, None]
    series = np.sin(t / 4.0 + np.arange(2)).astype(np.float32)  # (T, C)
    return series[: rows - 40], series[rows - 40 - INPUT :]


def _config(folder: Path | None, **options: Any) -> TrainingConfig:
    options = {"max_epochs": 2, "lr": 1e-2, "batch_size": 32, "progress": False} | options
    return TrainingConfig(checkpoint_dir=None if folder is None else str(folder), **options)


def _train(folder: Path | None, resume: bool = False, network=None, data=None, **options):
    train, val = data or _data()
    network = network or _network()
    return train_network(network, train, val, INPUT, HORIZON, _config(folder, **options), resume)


@pytest.fixture
def checkpointed(tmp_path: Path) -> Path:
    """A folder holding the checkpoint of a finished 1-epoch run (resumable to 2 epochs)."""
    _train(tmp_path, max_epochs=1)
    return tmp_path


def _forge(folder: Path, edit: Callable[[dict], None]) -> None:
    """Rewrite the checkpoint with ``edit`` applied, as a forger would: a valid file (and a
    digest matching the forged contents)."""
    state = torch.load(folder / CHECKPOINT_NAME, weights_only=True)
    for envelope in ("format", "version", "digest"):
        state.pop(envelope, None)
    edit(state)
    save_checkpoint(folder, state)


def _no_training() -> tuple[DLinearNetwork, list[int]]:
    """A network that counts its training forward passes."""
    network, calls = _network(), []
    network.register_forward_pre_hook(
        lambda module, args: calls.append(1) if module.training else None
    )
    return network, calls


# ------------------------------------------------------------------ missing and bad fields
@pytest.mark.parametrize("field", [*FIELDS, "data", "network_options"])
def test_a_missing_checkpoint_field_is_a_value_error_naming_file_and_field(checkpointed, field):
    _forge(checkpointed, lambda state: state.pop(field))
    with pytest.raises(ValueError, match=rf"{CHECKPOINT_NAME}.*'{field}'.* is missing"):
        _train(checkpointed, resume=True)


def _set(path: tuple, value: Any) -> Callable[[dict], None]:
    def edit(state: dict) -> None:
        target = state
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value(target[path[-1]]) if callable(value) else value

    return edit


def _first_weight(value: Any) -> Callable[[dict], None]:
    """An edit setting the network's first weight tensor to ``value`` (or ``value(it)``)."""
    return lambda state: _set(("network", next(iter(state["network"]))), value)(state)


MALFORMED = {
    "string epoch": (_set(("epoch",), "1"), "'epoch'"),
    "negative epoch": (_set(("epoch",), -1), "'epoch'"),
    "bool steps": (_set(("steps",), True), "'steps'"),
    "string stopped": (_set(("stopped",), "no"), "'stopped'"),
    "zero world size": (_set(("world_size",), 0), "'world_size'"),
    "history too short": (_set(("history",), []), "'history'"),
    "history entry": (_set(("history", 0, "train_loss"), "0.5"), "'history'"),
    "config not a dict": (_set(("config",), [1]), "'config'"),
    "config tensor value": (_set(("config", "lr"), torch.ones(3)), "'config'"),
    "network shape": (_first_weight(torch.ones(3)), "'network'"),
    "network nan": (_first_weight(lambda t: t * math.nan), "NaN"),
    "network not a dict": (_set(("network",), 5), "'network'"),
    "optimizer lr": (_set(("optimizer", "param_groups", 0, "lr"), "fast"), "'optimizer'"),
    "optimizer params": (_set(("optimizer", "param_groups", 0, "params"), [7, 8, 9, 10]), "'optim"),
    "optimizer moments": (_set(("optimizer", "state", 0, "exp_avg"), torch.ones(1)), "'optimizer'"),
    "optimizer state index": (_set(("optimizer", "state", 99), {}), "'optimizer'"),
    "schedule": (_set(("schedule",), {"onecycle": {"total_steps": "x"}}), "'schedule'"),
    "sampler": (_set(("sampler",), torch.zeros(3, dtype=torch.uint8)), "'sampler'"),
    "rng empty": (_set(("rng",), []), "'rng'"),
    "rng python": (_set(("rng", 0, "python"), [3, torch.zeros(2, dtype=torch.long), None]), "'rng"),
    "rng numpy keys": (_set(("rng", 0, "numpy", 1), lambda t: t - 2**40), "'rng'"),
    "best loss nan": (_set(("best", "best_loss"), math.nan), "'best'"),
    "best weights": (_set(("best", "weights"), {"w": torch.ones(1)}), "'best'"),
    "best epoch": (_set(("best", "best_epoch"), 7), "'best'"),
}  # fmt: skip


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_checkpoint_field_is_a_value_error_naming_file_and_field(checkpointed, case):
    edit, field = MALFORMED[case]
    _forge(checkpointed, edit)
    network = _network()
    before = {k: v.clone() for k, v in network.state_dict().items()}
    with pytest.raises(ValueError, match=rf"{CHECKPOINT_NAME}.*{field}") as error:
        _train(checkpointed, resume=True, network=network)
    assert error.type is ValueError
    for name, tensor in network.state_dict().items():  # nothing restored from a bad file
        torch.testing.assert_close(tensor, before[name], rtol=0, atol=0)


def test_a_flipped_byte_in_tensor_data_is_refused(checkpointed):
    path = checkpointed / CHECKPOINT_NAME
    state = torch.load(path, weights_only=True)
    weights = next(iter(state["network"].values())).numpy().tobytes()
    raw = bytearray(path.read_bytes())
    at = raw.find(weights)
    assert at > 0
    raw[at + len(weights) // 2] ^= 0x10  # one bit of one weight
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=rf"{CHECKPOINT_NAME}.*'digest'.*corrupt"):
        _train(checkpointed, resume=True)


def test_a_tensor_where_the_version_should_be_is_a_value_error(tmp_path):
    forged = {"format": "tsattn-checkpoint", "version": torch.ones(2)}
    torch.save(forged, tmp_path / CHECKPOINT_NAME)
    with pytest.raises(ValueError, match="checkpoint version tensor"):
        load_checkpoint(tmp_path)


# ------------------------------------------------------------------ what sits at last.pt
def _within(seconds: float, call: Callable[[], Any], unblock: Callable[[], None]) -> Any:
    """``call()``'s exception (or None), failing if it is still running after ``seconds``."""
    outcome: list[Any] = []

    def target() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as err:  # noqa: BLE001 - handed to the test
            outcome.append(err)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        unblock()
        thread.join(5)
        pytest.fail(f"still running after {seconds}s: it hung")
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_at_last_pt_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / CHECKPOINT_NAME
    os.mkfifo(fifo)

    def unblock() -> None:  # a writer that closes at once: the blocked reader sees EOF
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    error = _within(10, lambda: _train(tmp_path, resume=True), unblock)
    assert isinstance(error, ValueError) and "not a regular file" in str(error)
    error = _within(10, lambda: load_checkpoint(tmp_path), unblock)
    assert isinstance(error, ValueError) and str(fifo) in str(error)


def test_a_directory_at_last_pt_fails_before_training(tmp_path):
    (tmp_path / CHECKPOINT_NAME).mkdir()
    network, calls = _no_training()
    with pytest.raises(ValueError, match=rf"{CHECKPOINT_NAME} is not a regular file"):
        _train(tmp_path, network=network)
    assert not calls


# ------------------------------------------------------------------ the checkpoint folder
def test_a_checkpoint_dir_that_is_a_file_fails_before_training(tmp_path):
    file = tmp_path / "file"
    file.write_text("not a folder")
    for folder in (file, file / "below"):
        network, calls = _no_training()
        with pytest.raises(ValueError, match="checkpoint_dir"):
            _train(folder, network=network)
        assert not calls


def _unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write to: a read-only one, or /sys for root."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    for candidate in (folder, Path("/sys")):
        try:
            (candidate / ".tsattn-probe").mkdir()
        except OSError:
            return candidate
        (candidate / ".tsattn-probe").rmdir()
    pytest.skip("no folder this process cannot write to")


def test_an_unwritable_checkpoint_dir_fails_before_training(tmp_path):
    folder = _unwritable_folder(tmp_path)
    network, calls = _no_training()
    try:
        with pytest.raises(ValueError, match="cannot write checkpoints"):
            _train(folder / "checkpoints", network=network)
    finally:
        if folder.is_relative_to(tmp_path):
            folder.chmod(0o700)
    assert not calls


# ------------------------------------------------------------------ resuming another run
def test_resuming_with_different_data_is_refused(checkpointed):
    train, val = _data()
    changed = (train * 2.0, val)
    with pytest.raises(ValueError, match=r"the training data \(train\.sha256"):
        _train(checkpointed, resume=True, data=changed)
    shorter = (train[:-10], val)
    with pytest.raises(ValueError, match=r"train\.rows: 160 -> 150"):
        _train(checkpointed, resume=True, data=shorter)


def test_resuming_with_different_network_options_is_refused(checkpointed):
    # the same weight shapes, another moving-average window: load_state_dict alone accepts it
    with pytest.raises(ValueError, match=r"the network \(kernel_size: 5 -> 9\)"):
        _train(checkpointed, resume=True, network=_network(kernel_size=9))


def test_resuming_with_different_training_options_is_refused(checkpointed):
    with pytest.raises(ValueError, match=r"the training options \(lr: 0\.01 -> 0\.5\)"):
        _train(checkpointed, resume=True, lr=0.5)
    result = _train(checkpointed, resume=True, max_epochs=3)  # more epochs: allowed
    assert [e.epoch for e in result.history] == [0, 1, 2]


# ------------------------------------------------------------------ divergence
def test_diverging_training_stops_with_a_value_error():
    train, _ = _data()
    spiky = train * np.float32(1e20)  # finite data whose squared errors overflow float32
    with pytest.raises(ValueError, match=r"training diverged at epoch 0: the training loss.*lower"):
        _train(None, data=(spiky, None))
    with pytest.raises(ValueError, match=r"training diverged at epoch \d+.*learning rate"):
        _train(None, lr=1e30, max_epochs=5, data=(train, None))


def test_a_non_finite_validation_loss_stops_training():
    train, val = _data()
    with pytest.raises(ValueError, match=r"diverged at epoch 0: the validation loss is inf"):
        _train(None, data=(train, val * np.float32(1e30)))


def test_a_diverged_epoch_writes_no_checkpoint(tmp_path):
    train, _ = _data()
    with pytest.raises(ValueError, match="diverged"):
        _train(tmp_path, data=(train * np.float32(1e20), None))
    assert load_checkpoint(tmp_path) is None
