"""A Transformer encoder whose attention is any scorer from the registry.

Options follow the reference PatchTST encoder: BatchNorm (over the d_model axis, by
transposing) or LayerNorm, post-norm or pre-norm, and "residual attention" (each layer adds
the previous layer's raw pre-softmax scores to its own before the softmax).

>>> import torch
>>> config = EncoderConfig(d_model=16, n_heads=4, n_layers=2, attention="mlr")
>>> Encoder(config, seq_len=42)(torch.randn(3, 42, 16)).shape
torch.Size([3, 42, 16])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from tsattn.attention import ATTENTION, AttentionSpec, create_attention, saveable_attention
from tsattn.checks import check_choice, check_positive_int
from tsattn.nn.layers import FastDropout

NORMS = ("batch", "layer")
ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU}


@dataclass(frozen=True, kw_only=True)
class EncoderConfig:
    """Encoder hyperparameters (defaults: the reference PatchTST on ETTh1).

    Attributes:
        d_model, n_heads, n_layers, d_ff: widths and depth.
        dropout: dropout after attention, in the feed-forward block and on the input tokens.
        attention_dropout: dropout on the attention weights.
        projection_dropout: dropout on the attention's output, before the residual dropout
            (None: ``dropout``, as the reference PatchTST, whose attention ends in a dropout
            of its own; 0 for a single dropout as in ``nn.TransformerEncoderLayer``).
        norm: ``"batch"`` (BatchNorm over d_model, as the reference) or ``"layer"``.
        pre_norm: normalise before each sub-block instead of after the residual sum.
        residual_attention: add the previous layer's raw scores before the softmax.
        activation: ``"gelu"`` or ``"relu"``.
        attention: a registered name (see ``tsattn.list_attention()``), a scorer class or
            an instance.
        attention_options: scorer options, e.g. ``{"ranks": [2, 1, 1]}`` for ``"mlr"``.
    """

    d_model: int = 16
    n_heads: int = 4
    n_layers: int = 3
    d_ff: int = 128
    dropout: float = 0.3
    attention_dropout: float = 0.0
    projection_dropout: float | None = None
    norm: str = "batch"
    pre_norm: bool = False
    residual_attention: bool = True
    activation: str = "gelu"
    attention: AttentionSpec = "softmax"
    attention_options: dict[str, Any] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        for name in ("d_model", "n_heads", "n_layers", "d_ff"):
            check_positive_int(name, getattr(self, name))
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_heads")
        for name in ("dropout", "attention_dropout", "projection_dropout"):
            if getattr(self, name) is not None and not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        check_choice("norm", self.norm, NORMS)
        check_choice("activation", self.activation, tuple(ACTIVATIONS))
        if isinstance(self.attention_options, dict) and "dropout" in self.attention_options:
            raise ValueError(
                "attention_options may not set 'dropout': the attention weights' dropout is "
                "attention_dropout= (one option, so the two cannot disagree)"
            )
        if isinstance(self.attention, str):
            ATTENTION.get(self.attention)  # unknown names list the valid ones

    def check_attention(self, seq_len: int) -> None:
        """Build one attention layer for ``seq_len`` tokens, so bad ``attention_options``
        fail when the config is made rather than at training time. It is built under a forked
        RNG, so validating never moves the global random state (nor seeded initial weights)."""
        options = {"dropout": self.attention_dropout, **(self.attention_options or {})}
        with torch.random.fork_rng(devices=[]):
            create_attention(self.attention, self.d_model, self.n_heads, seq_len, **options)

    @classmethod
    def saveable_options(cls, params: dict[str, Any], strict: bool) -> dict[str, Any]:
        """``params`` with the attention as a model file can hold it (see
        :func:`tsattn.attention.saveable_attention`)."""
        if "attention" not in params:
            return params
        return {**params, "attention": saveable_attention(params["attention"], strict)}


class TokenBatchNorm(nn.BatchNorm1d):
    """BatchNorm over the feature axis of (N, T, D) tokens (statistics over N and T)."""

    def forward(self, x: Tensor) -> Tensor:
        # the reference's computation on its transposed view (N, D, T); a paired training
        # step measured it as fast as normalising flat (N*T, D) rows. Its output is laid out
        # (N, D, T): one copy back to (N, T, D) saves the copy each following linear layer
        # (and its backward) would make
        return super().forward(x.transpose(1, 2)).transpose(1, 2).contiguous()  # (N, T, D)


def make_norm(kind: str, d_model: int) -> nn.Module:
    """``"batch"`` -> :class:`TokenBatchNorm`, ``"layer"`` -> ``nn.LayerNorm``."""
    check_choice("norm", kind, NORMS)
    return TokenBatchNorm(d_model) if kind == "batch" else nn.LayerNorm(d_model)


@dataclass(frozen=True)
class LayerOutput:
    """An encoder layer's output tokens (N, T, D) and its pre-softmax scores (N, H, T, T)."""

    hidden: Tensor
    scores: Tensor


class EncoderLayer(nn.Module):
    """Attention and feed-forward sub-blocks, each with dropout, a residual and a norm."""

    def __init__(self, config: EncoderConfig, seq_len: int):
        super().__init__()
        c = config
        options = {"dropout": c.attention_dropout, **(c.attention_options or {})}
        self.attention = create_attention(c.attention, c.d_model, c.n_heads, seq_len, **options)
        self.feed_forward = nn.Sequential(
            nn.Linear(c.d_model, c.d_ff),
            ACTIVATIONS[c.activation](),
            FastDropout(c.dropout),
            nn.Linear(c.d_ff, c.d_model),
        )
        projection = c.dropout if c.projection_dropout is None else c.projection_dropout
        self.projection_dropout = FastDropout(projection)
        self.attention_dropout = FastDropout(c.dropout)
        self.feed_forward_dropout = FastDropout(c.dropout)
        self.attention_norm = make_norm(c.norm, c.d_model)
        self.feed_forward_norm = make_norm(c.norm, c.d_model)
        self.pre_norm = c.pre_norm

    def forward(self, x: Tensor, score_bias: Tensor | None = None) -> Tensor:
        """(N, T, D) -> (N, T, D) by the attention's fast path."""
        attended = self.projection_dropout(
            self.attention(self._pre(self.attention_norm, x), score_bias)
        )
        hidden = self._add(x, attended, self.attention_dropout, self.attention_norm)
        return self._feed_forward(hidden)

    def forward_with_scores(self, x: Tensor, score_bias: Tensor | None = None) -> LayerOutput:
        """Like :meth:`forward`, by the explicit path, also returning the raw scores
        (``score_bias`` included) for the next layer's residual attention."""
        out = self.attention.attend(self._pre(self.attention_norm, x), score_bias)
        attended = self.projection_dropout(out.output)
        hidden = self._add(x, attended, self.attention_dropout, self.attention_norm)
        return LayerOutput(self._feed_forward(hidden), out.scores)

    def _feed_forward(self, x: Tensor) -> Tensor:
        update = self.feed_forward(self._pre(self.feed_forward_norm, x))
        return self._add(x, update, self.feed_forward_dropout, self.feed_forward_norm)

    def _pre(self, norm: nn.Module, x: Tensor) -> Tensor:
        return norm(x) if self.pre_norm else x

    def _add(self, x: Tensor, update: Tensor, dropout: FastDropout, norm: nn.Module) -> Tensor:
        summed = dropout.add_to(x, update)  # x + dropout(update): (N, T, D)
        return summed if self.pre_norm else norm(summed)


class Encoder(nn.Module):
    """A stack of :class:`EncoderLayer` (no final norm, as the reference), (N, T, D) -> same."""

    def __init__(self, config: EncoderConfig, seq_len: int):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(config, seq_len) for _ in range(config.n_layers))
        self.residual_attention = config.residual_attention

    def forward(self, x: Tensor) -> Tensor:
        if not self.residual_attention:
            for layer in self.layers:
                x = layer(x)
            return x
        scores = None
        for layer in self.layers:
            # the explicit path even in the last layer: with a score bias it beats SDPA on CPU
            out = layer.forward_with_scores(x, scores)
            x, scores = out.hidden, out.scores  # scores: (N, H, T, T), accumulated
        return x
