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
from pandas.tseries.frequencies import to_offset
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

    The file is untrusted input: it is parsed as safetensors (JSON header and raw tensors,
    never pickle), and the header is checked field by field before any model is built.

    Raises:
        ValueError: the file is missing, not a tsattn model file, from a newer format, or
            corrupt / forged (unknown model, unexpected parameters, missing tensors...).
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
    version = header.get("version", "0")
    if not version.isdigit():
        raise ValueError(f"{path} is a corrupt tsattn model file: bad version {version!r}")
    if int(version) > FORMAT_VERSION:
        raise ValueError(f"{path} was written by a newer tsattn; upgrade to load it")
    missing = [key for key in ("model", "params", "state", "history") if key not in header]
    if missing:
        raise ValueError(f"{path} is a corrupt tsattn model file: no {', '.join(missing)}")
    try:
        cls = MODELS.get(header["model"])
    except ValueError as err:  # an unknown name: the message lists the valid ones
        raise ValueError(f"{path} is a corrupt tsattn model file: {err}") from None
    params = _json_dict(header, "params", path)
    unexpected = sorted(set(params) - set(cls.param_names()))
    if unexpected:
        raise ValueError(
            f"{path} is a corrupt tsattn model file: unexpected parameter(s) {unexpected} "
            f"for model {header['model']!r}"
        )
    try:
        model = cls(**params)
        model._history = _history_from(_json_dict(header, "history", path), tensors)
        model._set_state(_json_dict(header, "state", path), tensors)
    except (KeyError, TypeError, IndexError, AttributeError, RuntimeError, ValueError) as err:
        detail = f"{type(err).__name__}: {err}"
        raise ValueError(f"{path} is a corrupt tsattn model file ({detail})") from None
    return model


def _json_dict(header: dict[str, str], key: str, path: Path) -> dict:
    try:
        value = json.loads(header[key])
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{path} is a corrupt tsattn model file: {key} is not JSON ({err})"
        ) from None
    if not isinstance(value, dict):
        raise ValueError(f"{path} is a corrupt tsattn model file: {key} is not a JSON object")
    return value


def _history_meta(data: SeriesData) -> dict:
    return {
        "ids": data.ids,
        "last_ds": [t.isoformat() for t in data.last_ds],
        "freqs": data.freqs,
    }


def _history_from(meta: dict, tensors: dict[str, torch.Tensor]) -> SeriesData:
    ids, last_ds, freqs = meta["ids"], meta["last_ds"], meta["freqs"]
    if not all(isinstance(x, list) for x in (ids, last_ds, freqs)):
        raise ValueError("history ids, last_ds and freqs must be lists")
    if not ids or not len(ids) == len(last_ds) == len(freqs):
        raise ValueError("history ids, last_ds and freqs must be non-empty and equally long")
    values = [tensors.pop(f"__history__.{i}").numpy() for i in range(len(ids))]
    if any(v.ndim != 1 or len(v) == 0 or not v.dtype.kind == "f" for v in values):
        raise ValueError("history tensors must be non-empty 1-D float arrays")
    last = [pd.Timestamp(t) for t in last_ds]
    for freq in freqs:
        to_offset(freq)  # ValueError for a forged frequency
    return SeriesData([str(u) for u in ids], values, last, [str(f) for f in freqs])
