"""Bad inputs to the neural forecasters raise ValueErrors that say what to fix."""

from __future__ import annotations

import pandas as pd
import pytest

import tsattn
from tests.conformance import synthetic_long_frame

TINY = {"h": 12, "input_size": 48, "max_epochs": 1, "progress": False}


def test_short_series():
    df = synthetic_long_frame(length=55)
    with pytest.raises(ValueError, match="at least 60"):
        tsattn.PatchTST(**TINY).fit(df)
    with pytest.raises(ValueError, match="at least 84"):
        tsattn.NLinear(**TINY).fit(synthetic_long_frame(length=80), val_size=24)


def test_short_history_at_predict():
    model = tsattn.NLinear(**TINY).fit(synthetic_long_frame())
    with pytest.raises(ValueError, match="at least 48"):
        model.predict(df=synthetic_long_frame(length=40))


@pytest.mark.parametrize("h", [0, -3, 2.5])
def test_bad_horizon(h):
    with pytest.raises(ValueError, match="horizon"):
        tsattn.PatchTST(h=h, input_size=48)


def test_bad_input_size():
    with pytest.raises(ValueError, match="input_size"):
        tsattn.NLinear(h=12, input_size=0)
    with pytest.raises(ValueError, match="patch_len"):
        tsattn.PatchTST(h=12, input_size=8)


def test_val_size_shorter_than_h():
    with pytest.raises(ValueError, match="val_size"):
        tsattn.NLinear(**TINY).fit(synthetic_long_frame(), val_size=5)


def test_unknown_attention_lists_the_valid_names():
    with pytest.raises(ValueError, match="softmax"):
        tsattn.PatchTST(h=12, input_size=48, attention="flash")
    with pytest.raises(ValueError, match="ranks"):
        tsattn.PatchTST(h=12, input_size=48, attention="mlr", attention_options={"rank": 2})


def test_unknown_keyword_lists_the_accepted_ones():
    with pytest.raises(ValueError, match=r"\['learning_rate'\].*accepted: .*\blr\b"):
        tsattn.PatchTST(h=12, input_size=48, learning_rate=1e-3)
    with pytest.raises(ValueError, match="kernel_size"):
        tsattn.NLinear(h=12, input_size=48, kernel_size=25)


def test_unknown_model_name():
    with pytest.raises(ValueError, match="patchtst"):
        tsattn.create_model("patchtsd", h=12)


def test_transformer_needs_aligned_series():
    df = synthetic_long_frame()
    unaligned = df[~((df.unique_id == "s1") & (df.ds < pd.Timestamp("2024-01-02")))]
    with pytest.raises(ValueError, match="aligned"):
        tsattn.Transformer(**TINY, d_model=8, n_heads=2, channel_independent=False).fit(unaligned)


def test_transformer_predicts_the_series_it_was_fitted_on():
    joint = tsattn.Transformer(**TINY, d_model=8, n_heads=2, n_layers=1, channel_independent=False)
    model = joint.fit(synthetic_long_frame())
    other = synthetic_long_frame(n_series=3)
    with pytest.raises(ValueError, match="same order"):
        model.predict(df=other)
