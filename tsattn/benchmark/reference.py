"""Published numbers (the PatchTST paper's and a full-test re-run of its code), as data.

``PUBLISHED`` maps (dataset, horizon) to the PatchTST paper's Table 3 figures and the
full-test-set re-run of the official code (every test window kept), so benchmark tables can
put ours beside them.
"""

from __future__ import annotations

from tsattn.models.recipes import (
    REFERENCE_HYPERPARAMETERS,
    ReferenceHyperparameters,
    reference_hyperparameters,
)

HORIZONS = (96, 192, 336, 720)

# dataset -> {column -> MSE/MAE per horizon 96/192/336/720}
_TABLE3 = {
    "ETTh1": {
        "patchtst64_mse": (0.370, 0.413, 0.422, 0.447),
        "patchtst64_mae": (0.400, 0.429, 0.440, 0.468),
        "patchtst42_mse": (0.375, 0.414, 0.431, 0.449),
        "patchtst42_mae": (0.399, 0.421, 0.436, 0.466),
        "dlinear_mse": (0.375, 0.405, 0.439, 0.472),
        "dlinear_mae": (0.399, 0.416, 0.443, 0.490),
        "rerun_mse": (0.385, 0.413, 0.440, 0.456),
        "nlinear_mse": (0.374, 0.408, 0.429, 0.440),
    },
    "ETTh2": {
        "patchtst64_mse": (0.274, 0.341, 0.329, 0.379),
        "patchtst64_mae": (0.337, 0.382, 0.384, 0.422),
        "patchtst42_mse": (0.274, 0.339, 0.331, 0.379),
        "patchtst42_mae": (0.336, 0.379, 0.380, 0.422),
        "dlinear_mse": (0.289, 0.383, 0.448, 0.605),
        "dlinear_mae": (0.353, 0.418, 0.465, 0.551),
        "rerun_mse": (0.274, 0.338, 0.367, 0.391),
        "nlinear_mse": (0.277, 0.344, 0.357, 0.394),
    },
    "ETTm1": {
        "patchtst64_mse": (0.293, 0.333, 0.369, 0.416),
        "patchtst64_mae": (0.346, 0.370, 0.392, 0.420),
        "patchtst42_mse": (0.290, 0.332, 0.366, 0.420),
        "patchtst42_mae": (0.342, 0.369, 0.392, 0.424),
        "dlinear_mse": (0.299, 0.335, 0.369, 0.425),
        "dlinear_mae": (0.343, 0.365, 0.386, 0.421),
        "rerun_mse": (0.292, 0.330, 0.365, 0.419),
    },
    "ETTm2": {
        "patchtst64_mse": (0.166, 0.223, 0.274, 0.362),
        "patchtst64_mae": (0.256, 0.296, 0.329, 0.385),
        "patchtst42_mse": (0.165, 0.220, 0.278, 0.367),
        "patchtst42_mae": (0.255, 0.292, 0.329, 0.385),
        "dlinear_mse": (0.167, 0.224, 0.281, 0.397),
        "dlinear_mae": (0.260, 0.303, 0.342, 0.421),
        "rerun_mse": (0.163, 0.219, 0.276, 0.368),
    },
    "weather": {
        "patchtst64_mse": (0.149, 0.194, 0.245, 0.314),
        "patchtst64_mae": (0.198, 0.241, 0.282, 0.334),
        "patchtst42_mse": (0.152, 0.197, 0.249, 0.320),
        "patchtst42_mae": (0.199, 0.243, 0.283, 0.335),
        "dlinear_mse": (0.176, 0.220, 0.265, 0.323),
        "dlinear_mae": (0.237, 0.282, 0.319, 0.362),
        "rerun_mse": (0.151, 0.195, 0.249, 0.321),
    },
    "electricity": {
        "patchtst64_mse": (0.129, 0.147, 0.163, 0.197),
        "patchtst64_mae": (0.222, 0.240, 0.259, 0.290),
        "patchtst42_mse": (0.130, 0.148, 0.167, 0.202),
        "patchtst42_mae": (0.222, 0.240, 0.261, 0.291),
        "dlinear_mse": (0.140, 0.153, 0.169, 0.203),
        "dlinear_mae": (0.237, 0.249, 0.267, 0.301),
        "rerun_mse": (0.129, 0.149, 0.166, 0.210),
    },
}


def published(dataset: str, horizon: int) -> dict[str, float]:
    """Published figures for one cell, e.g. ``{"patchtst42_mse": 0.375, ...}`` ({} if none)."""
    table = {k.lower(): v for k, v in _TABLE3.items()}.get(dataset.lower())
    if table is None or horizon not in HORIZONS:
        return {}
    i = HORIZONS.index(horizon)
    return {column: values[i] for column, values in table.items()}


__all__ = [
    "HORIZONS",
    "REFERENCE_HYPERPARAMETERS",
    "ReferenceHyperparameters",
    "published",
    "reference_hyperparameters",
]
