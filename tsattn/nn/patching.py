"""Cut univariate series into (optionally overlapping) patches, as PatchTST does.

With end padding the last value is repeated ``stride`` times and one more patch fits:
42 patches at lookback 336 and 64 at lookback 512 (patch 16, stride 8).

>>> import torch
>>> count_patches(336, patch_len=16, stride=8)
42
>>> Patching(16, 8)(torch.randn(5, 512)).shape
torch.Size([5, 64, 16])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def count_patches(input_size: int, patch_len: int, stride: int, pad_end: bool = True) -> int:
    """Number of patches cut from a series of ``input_size`` steps."""
    if input_size < patch_len:
        raise ValueError(f"input_size ({input_size}) must be at least patch_len ({patch_len})")
    return (input_size - patch_len) // stride + 1 + int(pad_end)


class Patching(nn.Module):
    """(N, L) series -> (N, P, patch_len) patches.

    Args:
        patch_len: steps per patch.
        stride: steps between the starts of consecutive patches.
        pad_end: repeat the last value ``stride`` times first (one extra patch).
    """

    def __init__(self, patch_len: int, stride: int, pad_end: bool = True):
        super().__init__()
        if patch_len <= 0 or stride <= 0:
            raise ValueError(f"patch_len and stride must be positive, got {patch_len}, {stride}")
        self.patch_len, self.stride, self.pad_end = patch_len, stride, pad_end

    def forward(self, x: Tensor) -> Tensor:
        if self.pad_end:
            last = x[:, -1:].expand(-1, self.stride)  # (N, stride)
            x = torch.cat([x, last], dim=-1)  # (N, L + stride)
        return x.unfold(-1, self.patch_len, self.stride)  # (N, P, patch_len)

    def extra_repr(self) -> str:
        return f"patch_len={self.patch_len}, stride={self.stride}, pad_end={self.pad_end}"
