"""Save and load forecasters as one safetensors file.

The file holds the fitted tensors plus a JSON header (class name, constructor params, fitted
metadata, training history). Loading parses JSON and raw tensors only: no pickle, so a
file can never execute code.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from tsattn.models.base import FORMAT_NAME, FORMAT_VERSION, MODELS, SeriesData, to_json

if TYPE_CHECKING:
    from tsattn.models.base import Forecaster


def save_forecaster(model: Forecaster, path: str | Path) -> Path:
    """Write ``model`` to ``path`` atomically (temporary file, then rename)."""
    if model._history is None:
        raise ValueError(f"{model.name} is not fitted: nothing to save")
    if not model.registry_name:
        raise ValueError(f"{type(model).__name__} is not a registered model and cannot be saved")
    meta, tensors = model._get_state()
    header = {
        "format": FORMAT_NAME,
        "version": str(FORMAT_VERSION),
        "model": model.registry_name,
        "params": to_json(model.get_params()),
        "state": to_json(meta),
        "history": to_json(_history_meta(model._history)),
    }
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    for i, values in enumerate(model._history.values):
        tensors[f"__history__.{i}"] = torch.from_numpy(values.copy())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=header)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def load(path: str | Path) -> Forecaster:
    """Load a forecaster written by ``Forecaster.save``.

    Raises:
        ValueError: the file is missing, not a tsattn model file, or from a newer format.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no saved model at {path}")
    try:
        with safe_open(path, framework="pt") as fh:
            header = fh.metadata() or {}
            tensors = {key: fh.get_tensor(key) for key in fh.keys()}  # noqa: SIM118
    except (SafetensorError, ValueError, OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not a tsattn model file ({err})") from None
    if header.get("format") != FORMAT_NAME:
        raise ValueError(f"{path} is not a tsattn model file (no tsattn header)")
    if int(header.get("version", 0)) > FORMAT_VERSION:
        raise ValueError(f"{path} was written by a newer tsattn; upgrade to load it")
    cls = MODELS.get(header["model"])
    model = cls(**json.loads(header["params"]))
    model._history = _history_from(json.loads(header["history"]), tensors)
    model._set_state(json.loads(header["state"]), tensors)
    return model


def _history_meta(data: SeriesData) -> dict:
    return {
        "ids": data.ids,
        "last_ds": [t.isoformat() for t in data.last_ds],
        "freqs": data.freqs,
    }


def _history_from(meta: dict, tensors: dict[str, torch.Tensor]) -> SeriesData:
    values = [tensors.pop(f"__history__.{i}").numpy() for i in range(len(meta["ids"]))]
    last = [pd.Timestamp(t) for t in meta["last_ds"]]
    return SeriesData(meta["ids"], values, last, meta["freqs"])
