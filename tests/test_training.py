"""The training engine: schedules, early stopping, windows, array-level train/predict."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tsattn.models import NLinearConfig, NLinearNetwork, TrainingConfig
from tsattn.training.engine import evaluate_loss, fit_network, predict_windows, train_network
from tsattn.training.schedules import LRSchedule, type3_lr
from tsattn.training.windows import WindowSet, series_windows, split_array_windows

QUIET = {"progress": False, "seed": 0}


def _sine(rows: int = 300, channels: int = 2) -> np.ndarray:
    t = np.arange(rows)[:, None]
    return np.sin(t / 4.0 + np.arange(channels)).astype(np.float32)  # (T, C)


def _network(input_size: int = 24, horizon: int = 6) -> NLinearNetwork:
    torch.manual_seed(0)
    return NLinearNetwork(NLinearConfig(input_size=input_size, horizon=horizon))


def test_type3_schedule_values():
    # the reference: lr for epochs 0-3, then x0.9 per epoch
    expected = [1e-4, 1e-4, 1e-4, 1e-4, 9e-5, 8.1e-5, 7.29e-5]
    np.testing.assert_allclose([type3_lr(1e-4, e) for e in range(7)], expected)
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = LRSchedule(optimizer, "type3", lr=1e-4, total_steps=10)
    schedule.start_epoch(5)
    assert schedule.current == pytest.approx(8.1e-5)


def test_onecycle_schedule_warms_up_then_anneals():
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = LRSchedule(optimizer, "onecycle", lr=1e-3, total_steps=10, pct_start=0.4)
    lrs = []
    for _ in range(10):
        lrs.append(schedule.current)  # the lr this batch trains with
        optimizer.step()
        schedule.after_batch()
    assert lrs[0] == pytest.approx(1e-3 / 25)  # OneCycleLR's default div_factor
    assert max(lrs) == pytest.approx(1e-3) and np.argmax(lrs) == 3
    assert lrs[-1] < 1e-4


def test_plateau_schedule_halves_the_lr_after_three_epochs_without_gain():
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = LRSchedule(optimizer, "plateau", lr=1e-3, total_steps=10)
    lrs = []
    for epoch, val_loss in enumerate([1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.8]):
        schedule.start_epoch(epoch)  # no effect: only validation moves it
        schedule.after_validation(val_loss)
        lrs.append(schedule.current)
    assert lrs == pytest.approx([1e-3] * 4 + [5e-4] * 3 + [2.5e-4] * 2)


def test_plateau_schedule_stays_constant_without_validation():
    config = TrainingConfig(max_epochs=4, lr=1e-2, lr_schedule="plateau", **QUIET)
    result = train_network(_network(), _sine(), None, 24, 6, config)
    assert [e.lr for e in result.history] == pytest.approx([1e-2] * 4)


def test_training_history_and_lr_per_epoch():
    config = TrainingConfig(max_epochs=5, lr=1e-2, batch_size=64, **QUIET)
    data = _sine()
    result = train_network(_network(), data[:200], data[176:], 24, 6, config)
    assert [e.epoch for e in result.history] == list(range(5))
    assert [e.lr for e in result.history] == pytest.approx([type3_lr(1e-2, e) for e in range(5)])
    assert result.history[-1].train_loss < result.history[0].train_loss
    assert all(e.val_loss is not None and e.seconds >= 0 for e in result.history)


def test_early_stopping_restores_the_best_weights():
    data = _sine() + np.random.default_rng(0).normal(0, 0.5, (300, 2)).astype(np.float32)
    config = TrainingConfig(max_epochs=30, lr=0.3, batch_size=16, patience=3, **QUIET)
    network = _network()
    result = train_network(network, data[:200], data[176:], 24, 6, config)
    val_losses = [e.val_loss for e in result.history]
    assert result.best_epoch == int(np.argmin(val_losses))
    assert len(result.history) <= result.best_epoch + 1 + 3  # stopped by patience
    assert val_losses[-1] > min(val_losses)  # the last epoch is not the best...
    val = WindowSet.from_array(data[176:], 24, 6)
    restored = evaluate_loss(network, val, config)
    assert restored == pytest.approx(min(val_losses), rel=1e-5)  # ...yet its weights are kept


def test_training_is_reproducible_with_a_seed():
    config = TrainingConfig(max_epochs=2, lr=1e-2, batch_size=32, **QUIET)
    data = _sine()
    first, second = _network(), _network()
    train_network(first, data, None, 24, 6, config)
    train_network(second, data, None, 24, 6, config)
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_max_steps_and_windows_per_epoch_limit_training():
    data = _sine()
    config = TrainingConfig(max_epochs=50, max_steps=7, batch_size=16, lr=1e-3, **QUIET)
    result = train_network(_network(), data, None, 24, 6, config)
    assert result.history[-1].steps == 7
    sampled = TrainingConfig(max_epochs=2, windows_per_epoch=32, batch_size=16, **QUIET)
    result = train_network(_network(), data, None, 24, 6, sampled)
    assert [e.steps for e in result.history] == [2, 4]


def test_windows_are_gathered_not_materialised():
    series = [np.arange(1000.0), np.arange(500.0)]
    train, val = series_windows(series, input_size=96, horizon=24, val_size=48)
    assert train.values.shape == (1500, 1)
    assert train.values.untyped_storage().nbytes() == 1500 * 4  # the series, nothing more
    assert val.values.data_ptr() == train.values.data_ptr()  # shared, not copied
    assert len(train) == (1000 - 48 - 120 + 1) + (500 - 48 - 120 + 1)
    assert len(val) == 2 * (48 - 24 + 1)
    x, y = val.gather(torch.tensor([0, len(val) - 1]))
    assert x.shape == (2, 96, 1) and y.shape == (2, 24, 1)
    assert y[0, 0, 0].item() == 1000 - 48  # first validation target: the first held-out step
    assert y[1, -1, 0].item() == 499  # last one ends at the series' end


def test_array_windows_split_train_and_validation():
    array = np.arange(200.0)[:, None].repeat(3, axis=1)
    train, val = split_array_windows(array, input_size=24, horizon=6, val_size=30)
    assert len(train) == 200 - 30 - 30 + 1 and len(val) == 30 - 6 + 1
    _, y = train.gather(torch.tensor([len(train) - 1]))
    assert y[0, -1, 0].item() == 169  # training targets end before the validation steps


def test_predict_windows_covers_every_window_and_legacy_drop_last():
    network = _network()
    data = _sine(rows=130)
    out = predict_windows(network, data, 24, 6, batch_size=32)
    assert out.shape == (130 - 30 + 1, 6, 2)
    with torch.no_grad():
        first = network(torch.as_tensor(data[None, :24])).numpy()
    np.testing.assert_allclose(out[0], first[0], rtol=1e-5, atol=1e-6)
    legacy = predict_windows(network, data, 24, 6, batch_size=32, legacy_drop_last=32)
    assert legacy.shape == (96, 6, 2)
    np.testing.assert_allclose(legacy, out[:96])


def test_fit_network_uses_channels_as_given():
    windows = WindowSet.from_array(_sine(channels=5), 24, 6)
    network = _network()
    fit_network(network, windows, None, TrainingConfig(max_epochs=1, **QUIET))
    assert not network.training  # left in eval mode


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"optimizer": "sgd"}, "optimizer"),
        ({"lr_schedule": "cosine"}, "lr_schedule"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr": -1.0}, "lr"),
        ({"device": "tpu:x"}, "device"),
        ({"patience": 0}, "patience"),
    ],
)
def test_training_config_errors(options, message):
    with pytest.raises(ValueError, match=message):
        TrainingConfig(**options)
