"""Unit tests of the pandas-free network blocks (tsattn.nn)."""

from __future__ import annotations

import pytest
import torch

from tsattn.attention import list_attention
from tsattn.nn import (
    Encoder,
    EncoderConfig,
    FastDropout,
    FlattenHead,
    MovingAverage,
    Patching,
    RevIN,
    TokenBatchNorm,
    count_patches,
)


@pytest.mark.parametrize(("lookback", "expected"), [(336, 42), (512, 64)])
def test_patch_count_matches_the_reference(lookback, expected):
    assert count_patches(lookback, patch_len=16, stride=8) == expected
    patches = Patching(16, 8)(torch.randn(3, lookback))
    assert patches.shape == (3, expected, 16)


def test_end_padding_repeats_the_last_value():
    x = torch.arange(10.0)[None]  # (1, 10)
    patches = Patching(patch_len=4, stride=2)(x)  # pad to 12 -> 5 patches
    assert patches.shape == (1, 5, 4)
    assert patches[0, -1].tolist() == [8.0, 9.0, 9.0, 9.0]
    assert Patching(4, 2, pad_end=False)(x).shape == (1, 4, 4)


def test_patching_rejects_a_lookback_shorter_than_a_patch():
    with pytest.raises(ValueError, match="patch_len"):
        count_patches(8, patch_len=16, stride=8)


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("subtract_last", [False, True])
def test_revin_round_trip(affine, subtract_last):
    revin = RevIN(n_channels=3, affine=affine, subtract_last=subtract_last)
    if affine:
        with torch.no_grad():
            revin.weight.uniform_(0.5, 2.0)
            revin.bias.uniform_(-1.0, 1.0)
    x = torch.randn(4, 48, 3) * 10 + 5
    z, stats = revin.normalize(x)
    if not affine and not subtract_last:
        torch.testing.assert_close(z.mean(dim=1), torch.zeros(4, 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(revin.denormalize(z, stats), x, atol=1e-3, rtol=1e-4)


def test_revin_constant_series_stays_finite():
    revin = RevIN()
    x = torch.full((2, 24, 1), 7.0)
    z, stats = revin.normalize(x)
    assert torch.isfinite(z).all()
    out = revin.denormalize(torch.zeros(2, 6, 1), stats)
    torch.testing.assert_close(out, torch.full((2, 6, 1), 7.0))


def test_token_batchnorm_is_the_references_transposed_batchnorm():
    ours, reference = TokenBatchNorm(8), torch.nn.BatchNorm1d(8)
    x = torch.randn(5, 6, 8) * 3 + 1
    expected = reference(x.transpose(1, 2)).transpose(1, 2)  # the reference's Transpose(1, 2)
    torch.testing.assert_close(ours(x), expected)
    torch.testing.assert_close(ours.running_mean, reference.running_mean)


def test_flatten_head_flattens_feature_major():
    head = FlattenHead(seq_len=3, d_model=2, out_features=1)
    with torch.no_grad():
        head.linear.weight.zero_()
        head.linear.bias.zero_()
        head.linear.weight[0, 1] = 1.0  # index d * T + t = 0 * 3 + 1: feature 0, token 1
    x = torch.arange(6.0).reshape(1, 3, 2)  # (N, T, D)
    assert head(x).item() == x[0, 1, 0].item()


def test_flatten_head_equals_the_references_transposed_flatten():
    head = FlattenHead(seq_len=5, d_model=3, out_features=4)
    x = torch.randn(6, 5, 3, requires_grad=True)
    expected = head.linear(x.transpose(1, 2).reshape(6, -1))  # the reference's (N, D*T)
    torch.testing.assert_close(head(x), expected)
    grad = torch.autograd.grad(head(x).sum(), head.linear.weight)[0]
    torch.testing.assert_close(grad, torch.autograd.grad(expected.sum(), head.linear.weight)[0])


def test_moving_average_keeps_shape_and_constant_series():
    avg = MovingAverage(25)
    x = torch.full((2, 48, 3), 4.0)
    torch.testing.assert_close(avg(x), x)
    assert avg(torch.randn(2, 48, 3)).shape == (2, 48, 3)


class _Recorder:
    """Wraps a layer's attention to record the score bias it receives and the scores it makes."""

    def __init__(self, attention):
        self.attention, self.biases, self.scores, self.inputs = attention, [], [], []
        self._attend, self._forward = attention.attend, attention.forward
        attention.attend, attention.forward = self.attend, self.forward

    def attend(self, x, score_bias=None):
        self.biases.append(score_bias)
        self.inputs.append(x)
        out = self._attend(x, score_bias)
        self.scores.append(out.scores)
        return out

    def forward(self, x, score_bias=None):
        self.biases.append(score_bias)
        return self._forward(x, score_bias)


def test_residual_attention_passes_the_raw_scores_on():
    config = EncoderConfig(d_model=8, n_heads=2, n_layers=3, d_ff=16, dropout=0.0)
    encoder = Encoder(config, seq_len=6).eval()
    recorders = [_Recorder(layer.attention) for layer in encoder.layers]
    encoder(torch.randn(4, 6, 8))
    assert recorders[0].biases == [None]
    assert recorders[1].biases[0] is recorders[0].scores[0]
    assert recorders[2].biases[0] is recorders[1].scores[0]
    # the second layer's scores include the first layer's (accumulated, as the reference)
    own = encoder.layers[1].attention.scores(recorders[1].inputs[0])  # (B, H, T, T)
    torch.testing.assert_close(recorders[1].scores[0], own + recorders[0].scores[0])


def test_residual_attention_changes_the_output():
    torch.manual_seed(0)
    on = Encoder(EncoderConfig(d_model=8, n_heads=2, n_layers=2, dropout=0.0), seq_len=6).eval()
    off = Encoder(
        EncoderConfig(d_model=8, n_heads=2, n_layers=2, dropout=0.0, residual_attention=False),
        seq_len=6,
    ).eval()
    off.load_state_dict(on.state_dict())
    x = torch.randn(3, 6, 8)
    assert not torch.allclose(on(x), off(x))


def test_layer_fast_and_explicit_paths_agree():
    config = EncoderConfig(d_model=8, n_heads=2, n_layers=1, d_ff=16, dropout=0.0)
    layer = Encoder(config, seq_len=6).eval().layers[0]
    x, bias = torch.randn(4, 6, 8), torch.randn(4, 2, 6, 6)
    torch.testing.assert_close(layer(x, bias), layer.forward_with_scores(x, bias).hidden)


def test_dropout_keeps_the_mean_and_drops_the_share_p():
    torch.manual_seed(0)
    dropout = FastDropout(0.3)
    x = torch.ones(200_000)
    y = dropout(x)
    assert abs((y == 0).float().mean().item() - 0.3) < 0.01
    assert abs(y.mean().item() - 1.0) < 0.01
    assert torch.equal(dropout.eval()(x), x)


def test_dropout_add_to_is_the_residual_plus_the_same_dropout():
    dropout, residual, update = FastDropout(0.3), torch.randn(50, 40), torch.randn(50, 40)
    torch.manual_seed(1)
    expected = residual + dropout(update)
    torch.manual_seed(1)
    torch.testing.assert_close(dropout.add_to(residual, update), expected)  # same mask
    assert torch.equal(dropout.eval().add_to(residual, update), residual + update)


@pytest.mark.parametrize("attention", list_attention())
@pytest.mark.parametrize(("norm", "pre_norm"), [("batch", False), ("layer", True)])
def test_every_attention_trains_in_the_encoder(attention, norm, pre_norm):
    config = EncoderConfig(
        d_model=8, n_heads=2, n_layers=2, d_ff=16, norm=norm, pre_norm=pre_norm, attention=attention
    )
    encoder = Encoder(config, seq_len=6)
    out = encoder(torch.randn(4, 6, 8))
    assert out.shape == (4, 6, 8) and torch.isfinite(out).all()
    out.square().mean().backward()
    missing = [n for n, p in encoder.named_parameters() if p.grad is None]
    assert not missing, missing


def test_encoder_config_errors():
    with pytest.raises(ValueError, match="valid names"):
        EncoderConfig(attention="nope")
    with pytest.raises(ValueError, match="divisible"):
        EncoderConfig(d_model=10, n_heads=4)
    with pytest.raises(ValueError, match="norm"):
        EncoderConfig(norm="group")
