"""The Transformer decoder of the vanilla encoder-decoder forecaster (Time-Series-Library's
``Decoder`` / ``DecoderLayer``): causal self-attention, cross-attention to the encoder's
tokens, a position-wise feed-forward block, each followed by dropout, a residual sum and a
LayerNorm (post-norm).

The self-attention is any registered scorer, built causal: token i sees tokens j <= i only,
so a decoder token never reads the zero placeholders that follow it. The cross-attention is
standard softmax attention (queries from the decoder, keys and values from the encoder): the
scorer contract scores one sequence against itself, so structured scorers do not apply there.

>>> import torch
>>> layer = DecoderLayer(d_model=16, n_heads=4, d_ff=32, seq_len=30, attention="mlr")
>>> layer(torch.randn(2, 30, 16), torch.randn(2, 20, 16)).shape
torch.Size([2, 30, 16])
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from tsattn.attention import AttentionSpec, create_attention
from tsattn.nn.encoder import ACTIVATIONS
from tsattn.nn.layers import FastDropout


class CrossAttention(nn.Module):
    """Multi-head softmax attention of queries (B, T, D) over a memory (B, S, D).

    Query, key, value and output projections with bias (D -> D each), scale 1/sqrt(d),
    dropout on the attention weights.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.n_heads, self.dropout = n_heads, float(dropout)
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)

    def _heads(self, x: Tensor) -> Tensor:
        b, t, d = x.shape
        return x.view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2)  # (B, H, T, d)

    def forward(self, x: Tensor, memory: Tensor) -> Tensor:
        """``x`` (B, T, D) attends to ``memory`` (B, S, D) -> (B, T, D)."""
        q, k, v = (
            self._heads(self.query(x)),
            self._heads(self.key(memory)),
            self._heads(self.value(memory)),
        )
        dropout = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout)  # (B, H, T, d)
        return self.out(y.transpose(1, 2).reshape(x.shape))  # (B, T, D)


def feed_forward(d_model: int, d_ff: int, activation: str, dropout: float) -> nn.Sequential:
    """Position-wise D -> d_ff -> D block (the reference's kernel-1 convolutions)."""
    return nn.Sequential(
        nn.Linear(d_model, d_ff),
        ACTIVATIONS[activation](),
        FastDropout(dropout),
        nn.Linear(d_ff, d_model),
    )


class DecoderLayer(nn.Module):
    """Causal self-attention, cross-attention and feed-forward, each post-LayerNorm.

    Args:
        d_model, n_heads, d_ff: widths.
        seq_len: decoder tokens T (label_len + horizon), which the self-attention scorer is
            built for.
        dropout: residual and feed-forward dropout.
        attention_dropout: dropout on the attention weights (self and cross).
        activation: ``"gelu"`` or ``"relu"``.
        attention, attention_options: the self-attention scorer (name, class or instance,
            built with ``causal=True``) and its options.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        seq_len: int,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        activation: str = "gelu",
        attention: AttentionSpec = "softmax",
        attention_options: dict[str, Any] | None = None,
    ):
        super().__init__()
        options = {"dropout": attention_dropout, **(attention_options or {})}
        self.self_attention = create_attention(
            attention, d_model, n_heads, seq_len, causal=True, **options
        )
        self.cross_attention = CrossAttention(d_model, n_heads, attention_dropout)
        self.feed_forward = feed_forward(d_model, d_ff, activation, dropout)
        self.dropout = FastDropout(dropout)
        self.self_norm = nn.LayerNorm(d_model)
        self.cross_norm = nn.LayerNorm(d_model)
        self.feed_forward_norm = nn.LayerNorm(d_model)

    def forward(self, x: Tensor, memory: Tensor) -> Tensor:
        """``x`` (B, T, D) decoder tokens, ``memory`` (B, S, D) encoder tokens -> (B, T, D)."""
        x = self.self_norm(x + self.dropout(self.self_attention(x)))
        x = self.cross_norm(x + self.dropout(self.cross_attention(x, memory)))
        return self.feed_forward_norm(x + self.dropout(self.feed_forward(x)))


class Decoder(nn.Module):
    """A stack of :class:`DecoderLayer` followed by a final LayerNorm: (B, T, D) -> same."""

    def __init__(self, layers: list[DecoderLayer], d_model: int):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: Tensor, memory: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x, memory)
        return self.norm(x)
