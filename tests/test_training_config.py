"""TrainingConfig checks every field on construction, naming the field and the bad value."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pytest

import tsattn
from tsattn.models import TrainingConfig

NAN, INF = float("nan"), float("inf")

BAD_VALUES = [
    ("lr", NAN),
    ("lr", INF),
    ("lr", 0.0),
    ("lr", -1e-3),
    ("lr", True),
    ("lr", "1e-3"),
    ("lr", None),
    ("lr", 10**400),
    ("weight_decay", -0.1),
    ("weight_decay", NAN),
    ("weight_decay", INF),
    ("weight_decay", False),
    ("weight_decay", "0"),
    ("batch_size", 0),
    ("batch_size", -4),
    ("batch_size", 2.5),
    ("batch_size", 32.0),
    ("batch_size", True),
    ("batch_size", "32"),
    ("batch_size", None),
    ("max_epochs", 0),
    ("max_epochs", 2.5),
    ("max_epochs", False),
    ("patience", 0),
    ("patience", 1.5),
    ("patience", True),
    ("max_steps", 0),
    ("max_steps", 2.5),
    ("max_steps", "10"),
    ("windows_per_epoch", -1),
    ("windows_per_epoch", 2.5),
    ("windows_per_epoch", True),
    ("seed", -1),
    ("seed", 1.5),
    ("seed", 1.0),
    ("seed", True),
    ("seed", "0"),
    ("seed", None),
    ("grad_clip", 0.0),
    ("grad_clip", -1.0),
    ("grad_clip", NAN),
    ("grad_clip", INF),
    ("grad_clip", True),
    ("grad_clip", "1"),
    ("pct_start", 0.0),
    ("pct_start", 1.0),
    ("pct_start", 1.5),
    ("pct_start", NAN),
    ("pct_start", True),
    ("pct_start", "0.3"),
    ("bf16", 1),
    ("bf16", "yes"),
    ("bf16", None),
    ("compile", 0),
    ("compile", "False"),
    ("progress", 1),
    ("progress", None),
    ("optimizer", "sgd"),
    ("lr_schedule", "cosine"),
    ("loss", "huber"),
    ("device", "tpu:x"),
    ("checkpoint_dir", ""),
]


@pytest.mark.parametrize(("name", "value"), BAD_VALUES, ids=lambda v: repr(v)[:20])
def test_bad_values_name_the_field_and_the_value(name, value):
    with pytest.raises(ValueError) as err:
        TrainingConfig(**{name: value})
    message = str(err.value)
    assert name in message
    assert repr(value)[:20] in message


def test_defaults_construct():
    config = TrainingConfig()
    assert config.lr == 1e-4 and config.batch_size == 128 and config.seed == 0
    assert config.patience is None and config.grad_clip is None


def test_valid_non_defaults_construct_and_numpy_scalars_become_plain():
    config = TrainingConfig(
        optimizer="adamw",
        lr=np.float32(1e-3),
        weight_decay=0,
        batch_size=np.int64(16),
        max_epochs=3,
        max_steps=10,
        lr_schedule="onecycle",
        pct_start=0.25,
        patience=2,
        grad_clip=1,
        loss="mae",
        windows_per_epoch=64,
        seed=np.int32(7),
        device="cpu",
        bf16=np.bool_(True),
        compile=False,
        progress=False,
    )
    assert config.lr == pytest.approx(1e-3) and type(config.lr) is float
    assert type(config.batch_size) is int and config.batch_size == 16
    assert type(config.seed) is int and config.seed == 7
    assert config.weight_decay == 0.0 and config.grad_clip == 1.0
    assert config.bf16 is True
    json.dumps(dataclasses.asdict(config))  # saved parameters stay plain JSON
    assert TrainingConfig(lr=1, seed=0, grad_clip=None).lr == 1.0  # an int lr is a real


def test_error_messages_are_readable():
    with pytest.raises(ValueError, match=re.escape("lr must be a finite number > 0, got nan")):
        TrainingConfig(lr=NAN)
    with pytest.raises(ValueError, match=re.escape("batch_size must be a positive integer")):
        TrainingConfig(batch_size=2.5)
    with pytest.raises(ValueError, match=re.escape("seed must be an integer >= 0, got True")):
        TrainingConfig(seed=True)
    with pytest.raises(ValueError, match=re.escape("bf16 must be True or False, got 'yes'")):
        TrainingConfig(bf16="yes")


@pytest.mark.parametrize(
    ("name", "value"),
    [("lr", NAN), ("batch_size", 2.5), ("seed", -1), ("progress", "no")],
)
def test_flat_keyword_options_fail_at_construction(name, value):
    with pytest.raises(ValueError, match=name):
        tsattn.PatchTST(h=4, input_size=16, **{name: value})


def test_flat_keyword_lr_nan_is_refused():
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got nan"):
        tsattn.PatchTST(h=4, input_size=16, lr=float("nan"))
    assert math.isclose(tsattn.PatchTST(h=4, input_size=16, lr=1e-3).lr, 1e-3)
