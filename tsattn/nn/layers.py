"""Small blocks shared by the forecasting networks: positional embedding, flatten head,
moving-average decomposition.

>>> import torch
>>> head = FlattenHead(seq_len=42, d_model=16, out_features=96)
>>> head(torch.randn(7, 42, 16)).shape
torch.Size([7, 96])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class FastDropout(nn.Dropout):
    """``nn.Dropout`` with a faster mask on CPU; CUDA and eval mode use ``nn.Dropout`` itself.

    On CPU the keep/drop decisions come from 16-bit slices of random 64-bit integers (four
    decisions per generator draw instead of one Bernoulli draw each): ``p`` is applied
    quantised to 1/65536, the rest is the same distribution. :meth:`add_to` fuses a residual
    sum with the dropout (one ``addcmul`` instead of a multiply and an add).
    """

    def forward(self, x: Tensor) -> Tensor:
        if not self._fast(x):
            return super().forward(x)
        return x * self._scaled_mask(x)

    def add_to(self, residual: Tensor, update: Tensor) -> Tensor:
        """``residual + self(update)``, in one fused op on the CPU fast path."""
        if not self._fast(update):
            return residual + super().forward(update)
        return torch.addcmul(residual, update, self._scaled_mask(update))

    def _fast(self, x: Tensor) -> bool:
        return self.training and self.p != 0.0 and x.device.type == "cpu"

    def _scaled_mask(self, x: Tensor) -> Tensor:
        n = x.numel()
        draws = torch.empty((n + 3) // 4, dtype=torch.int64, device=x.device)
        draws.random_(-(2**63), 2**63 - 1)  # uniform 64-bit integers
        slices = draws.view(torch.int16)[:n].view(x.shape)  # uniform in [-32768, 32768)
        keep = slices >= round(self.p * 65536) - 32768  # True with probability 1 - p
        # two passes, measured faster than one torch.where on CPU
        return keep.to(x.dtype).mul_(1.0 / (1.0 - self.p))  # 0 or 1 / (1 - p)


class LearnablePositionalEmbedding(nn.Module):
    """Adds a learned (T, D) table to (N, T, D) tokens; initialised U(-0.02, 0.02) as the
    reference PatchTST (``pe="zeros", learn_pe=True``)."""

    def __init__(self, seq_len: int, d_model: int, init_range: float = 0.02):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(seq_len, d_model).uniform_(-init_range, init_range))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.weight  # (N, T, D) + (T, D)


class FlattenHead(nn.Module):
    """(N, T, D) tokens -> (N, out_features): flatten, linear, dropout.

    Tokens are flattened feature-major (index ``d * T + t``), the reference's order.
    """

    def __init__(self, seq_len: int, d_model: int, out_features: int, dropout: float = 0.0):
        super().__init__()
        self.linear = nn.Linear(seq_len * d_model, out_features)
        self.dropout = FastDropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        n, t, d = x.shape
        flat = x.reshape(n, t * d)  # (N, T, D) -> (N, T*D), token-major: a view, no copy
        # the same sum as the reference's (N, D*T) activations times the feature-major weight:
        # permuting the small (out, D*T) weight to token-major is cheaper than the activations
        weight = self.linear.weight.view(-1, d, t).transpose(1, 2).reshape(-1, t * d)
        return self.dropout(F.linear(flat, weight, self.linear.bias))  # (N, out_features)


class MovingAverage(nn.Module):
    """Moving average over time of (B, L, C), ends padded by repeating the edge values, so
    the output has the input's shape (DLinear's trend)."""

    def __init__(self, kernel_size: int):
        super().__init__()
        if kernel_size <= 0:
            raise ValueError(f"kernel_size must be positive, got {kernel_size}")
        self.kernel_size = kernel_size
        self.pool = nn.AvgPool1d(kernel_size, stride=1)

    def forward(self, x: Tensor) -> Tensor:
        front = x[:, :1, :].expand(-1, (self.kernel_size - 1) // 2, -1)  # (B, k1, C)
        back = x[:, -1:, :].expand(-1, self.kernel_size // 2, -1)  # (B, k2, C)
        padded = torch.cat([front, x, back], dim=1)  # (B, L + k - 1, C)
        return self.pool(padded.transpose(1, 2)).transpose(1, 2)  # (B, L, C)
