"""Train one neural forecaster on a benchmark split and turn it into a window predictor.

The network sees the split's standardized arrays directly (the literature protocol: the
global train-only scaler is the only scaling outside the network).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from tsattn.benchmark.scoring import WindowPredictor
from tsattn.models.neural import NeuralForecaster
from tsattn.training.engine import train_network

if TYPE_CHECKING:
    from tsattn.benchmark.runner import RunSettings
    from tsattn.datasets import BenchmarkSplit


def train_neural_cell(
    model: NeuralForecaster, split: BenchmarkSplit, settings: RunSettings
) -> tuple[WindowPredictor, dict[str, Any]]:
    """Train ``model``'s network on ``split.train`` with early stopping on ``split.val``."""
    if not isinstance(model, NeuralForecaster):
        raise ValueError(
            f"{type(model).__name__} fits per series and cannot run in the benchmark runner; "
            f"use naive, seasonal_naive or a neural model here, and tsattn.backtest for others"
        )
    config = model.training_config
    if settings.quick:
        from tsattn.benchmark.runner import QUICK_WINDOWS_PER_EPOCH

        cap = min(config.windows_per_epoch or QUICK_WINDOWS_PER_EPOCH, QUICK_WINDOWS_PER_EPOCH)
        config = dataclasses.replace(config, windows_per_epoch=cap)
    n_channels = split.train.shape[1] if model.joint_channels else 1
    network = model.build_network(n_channels)
    result = train_network(network, split.train, split.val, split.input_size, split.horizon, config)
    facts = {
        "epochs": len(result.history),
        "best_epoch": result.best_epoch,
        "best_val_loss": min(
            (e.val_loss for e in result.history if e.val_loss is not None), default=None
        ),
        "parameters": sum(p.numel() for p in network.parameters()),
        "device": str(next(network.parameters()).device),
    }
    return _network_predictor(network), facts


def _network_predictor(network: torch.nn.Module) -> WindowPredictor:
    network.eval()
    device = next(network.parameters()).device

    @torch.no_grad()
    def predict(inputs: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(inputs, dtype=torch.float32, device=device)  # (B, L, C)
        return network(x).float().cpu().numpy()  # (B, H, C)

    return predict
