"""Save and load forecasters as one safetensors file.

The file holds the fitted tensors plus a JSON header (class name, constructor params, fitted
metadata, training history, and a sha256 digest of every tensor's bytes). Loading parses
JSON and raw tensors only: no pickle, so a file can never execute code; a flipped byte in
the tensor data fails the digest; every header field is checked before a model is built.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from pandas.tseries.frequencies import to_offset
from safetensors import SafetensorError, safe_open
from safetensors.torch import save

from tsattn.atomic import atomic_file
from tsattn.checks import state_frequency
from tsattn.datasets import check_input
from tsattn.datasets.axis import COARSE_UNIT, is_integer_freq
from tsattn.models.catalog import MODELS
from tsattn.models.covariate_files import history_covariate_tensors, with_history_covariates
from tsattn.models.covariates import fitted_spec
from tsattn.models.file_checks import (
    check_header_keys,
    check_network_sizes,
    check_param_names,
    check_param_sizes,
    construct,
    size_bound,
    with_legacy_values,
)
from tsattn.models.intervals import check_scores
from tsattn.models.series_data import SeriesData, to_json

#: format 2 added the tensor digest and stores fitted scikit-learn regressors (never refits)
FORMAT_NAME, FORMAT_VERSION = "tsattn-forecaster", 2

#: errors that rebuilding a model from a forged header or tensors can raise; each becomes a
#: ``ValueError`` naming the file
_REBUILD_ERRORS = (
    ArithmeticError,
    AttributeError,
    LookupError,
    MemoryError,
    OSError,
    RecursionError,
    RuntimeError,
    TypeError,
    ValueError,
)
#: the tensor that holds the conformity scores of a model with intervals="conformal"
CONFORMAL_TENSOR = "__conformal__"
#: the oldest format whose files carry a tensor digest
_FIRST_DIGEST_VERSION = 2

#: a fitted :class:`tsattn.models.base.Forecaster` (not imported: base imports this module)
Forecaster = Any


def save_forecaster(model: Forecaster, path: str | Path) -> Path:
    """Write ``model`` to ``path`` atomically (temporary file, then rename)."""
    fields, tensors = forecaster_parts(model)
    header = {"format": FORMAT_NAME, "version": str(FORMAT_VERSION), **fields}
    header["digest"] = tensor_digest(tensors)
    path = Path(path)
    with atomic_file(path) as handle:
        handle.write(save(tensors, metadata=header))
    return path


def forecaster_parts(model: Forecaster) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """A fitted model's header fields (``model``, ``params``, ``state``, ``history``: JSON
    strings) and tensors, as its file holds them (a model made of models nests these)."""
    if model._history is None:
        raise ValueError(f"{model.name} is not fitted: nothing to save")
    if not model.registry_name:
        raise ValueError(f"{type(model).__name__} is not a registered model and cannot be saved")
    meta, tensors = model._get_state()
    fields = {
        "model": model.registry_name,
        "params": to_json(model.get_params()),
        "state": to_json(meta),
        "history": to_json(_history_meta(model._history)),
    }
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    for i, values in enumerate(model._history.values):
        tensors[f"__history__.{i}"] = torch.from_numpy(values.copy())
    tensors.update(history_covariate_tensors(model._history))
    if model._conformal_scores is not None:
        tensors[CONFORMAL_TENSOR] = torch.from_numpy(model._conformal_scores.copy())
    return fields, tensors


def load(path: str | Path) -> Forecaster:
    """Load a forecaster written by ``Forecaster.save``.

    The file is untrusted input: it is parsed as safetensors (JSON header and raw tensors,
    never pickle), and the header is checked field by field before any model is built.

    Raises:
        ValueError: the file is missing, not a tsattn model file, from a newer format, or
            corrupt / forged (unknown model, unexpected parameters, missing tensors...).
    """
    check_input(path, "path", frame=False, path=True)
    path = Path(path)
    header, tensors = _read_file(path)
    cls = _check_header(header, tensors, path)
    try:
        return forecaster_from_parts(cls, header, tensors)
    except _REBUILD_ERRORS as err:
        detail = str(err) if isinstance(err, ValueError) else f"{type(err).__name__}: {err}"
        raise ValueError(f"{path} is a corrupt tsattn model file ({_cut(detail)})") from None


def forecaster_from_parts(
    cls: type, fields: dict[str, str], tensors: dict[str, torch.Tensor]
) -> Forecaster:
    """The model of class ``cls`` that header ``fields`` (``model``, ``params``, ``state``,
    ``history``: JSON strings) and ``tensors`` describe, every field checked; ``tensors``
    loses the history and conformal tensors it reads."""
    params = _json_dict(fields, "params")
    check_param_names(cls, params, fields["model"])
    params = with_legacy_values(cls, params)
    check_param_sizes(cls, params, size_bound(tensors))
    model = construct(cls, _loadable_here(params), tensors)  # networks: meta device
    history = _history_from(_json_dict(fields, "history"), tensors)
    model._history = with_history_covariates(history, tensors, fitted_spec(model, history.freqs[0]))
    if model._history.static is not None:
        model._static_known = dict(zip(model._history.ids, model._history.static))
    model._conformal_scores = _conformal_from(model, tensors)
    state = _json_dict(fields, "state")
    check_network_sizes(model, state, tensors)  # before any network is built
    model._set_state(state, tensors)
    return model


def _loadable_here(params: dict) -> dict:
    """``params`` with a training device this machine lacks replaced by ``"auto"``: the device
    only matters for training, and a model trained on a GPU must load on a CPU."""
    from tsattn.training.config import resolve_device

    device = params.get("device")
    if isinstance(device, str):
        try:
            resolve_device(device)
        except ValueError:
            return {**params, "device": "auto"}
    return params


def tensor_digest(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name]
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        flat = tensor.reshape(-1).clone(memory_format=torch.contiguous_format)  # stride 1
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _read_file(path: Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """Header and tensors of a safetensors file (a regular file only: never a FIFO)."""
    try:
        is_file = path.is_file()
    except OSError as err:  # e.g. a name longer than the file system allows
        reason = f"cannot open a model file at {_cut(str(path), 80)} ({err.strerror})"
        raise ValueError(reason) from None
    if not is_file:
        raise ValueError(f"no saved model at {_cut(str(path), 200)}")
    try:
        with safe_open(path, framework="pt") as fh:
            header = fh.metadata() or {}
            tensors = {key: fh.get_tensor(key) for key in fh.keys()}  # noqa: SIM118
    except (SafetensorError, ValueError, OSError, UnicodeDecodeError, MemoryError) as err:
        raise ValueError(f"{path} is not a tsattn model file ({_cut(str(err))})") from None
    return header, tensors


def _check_header(header: dict[str, str], tensors: dict[str, torch.Tensor], path: Path) -> type:
    """The model class a header names, after checking format, version, fields and digest."""
    if header.get("format") != FORMAT_NAME:
        raise ValueError(f"{path} is not a tsattn model file (no tsattn header)")
    version = header.get("version", "0")
    if not version.isdigit() or len(version) > 6:
        raise ValueError(f"{path} is a corrupt tsattn model file: bad version {_cut(version)!r}")
    if int(version) > FORMAT_VERSION:
        raise ValueError(f"{path} was written by a newer tsattn; upgrade to load it")
    try:
        check_header_keys(header)
    except ValueError as err:
        raise ValueError(f"{path} is a corrupt tsattn model file: {err}") from None
    missing = [key for key in ("model", "params", "state", "history") if key not in header]
    if int(version) >= _FIRST_DIGEST_VERSION and "digest" not in header:
        missing.append("digest")
    if missing:
        raise ValueError(f"{path} is a corrupt tsattn model file: no {', '.join(missing)}")
    if "digest" in header and header["digest"] != tensor_digest(tensors):
        raise ValueError(
            f"{path} is a corrupt tsattn model file: its tensor data does not match the stored "
            f"digest (the file was damaged or edited); save the model again"
        )
    try:
        return MODELS.get(header["model"])
    except ValueError as err:  # an unknown name: the message lists the valid ones
        raise ValueError(f"{path} is a corrupt tsattn model file: {_cut(str(err))}") from None


def _cut(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters, so forged fields never flood a message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_dict(header: dict[str, str], key: str) -> dict:
    """Header field ``key`` parsed as a JSON object (``ValueError`` naming the field)."""
    try:
        value = json.loads(header[key])
    except (json.JSONDecodeError, RecursionError) as err:
        raise ValueError(f"{key} is not JSON ({type(err).__name__})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{key} is not a JSON object")
    return value


def _history_meta(data: SeriesData) -> dict:
    """The history's ids, last timestamps (ISO strings, or ints for integer time steps) and
    frequencies; ``ds_unit`` keeps timestamps in microseconds (before 1677 or after 2262)."""
    meta = {
        "ids": data.ids,
        "last_ds": [int(t) if _is_step(t) else t.isoformat() for t in data.last_ds],
        "freqs": data.freqs,
    }
    if any(not _is_step(t) and t.unit != "ns" for t in data.last_ds):
        meta["ds_unit"] = COARSE_UNIT
    return meta


def _is_step(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _history_from(meta: dict, tensors: dict[str, torch.Tensor]) -> SeriesData:
    """The saved training history, each field checked (``ValueError`` naming it)."""
    unknown = sorted(map(str, set(meta) - {"ids", "last_ds", "freqs", "ds_unit"}))
    if unknown:
        raise ValueError(f"unknown history field(s) {_cut(', '.join(unknown), 80)}")
    ids, last_ds, freqs = (meta.get(key) for key in ("ids", "last_ds", "freqs"))
    if not all(isinstance(x, list) for x in (ids, last_ds, freqs)):
        raise ValueError("history ids, last_ds and freqs must be lists")
    if not ids or not len(ids) == len(last_ds) == len(freqs):
        raise ValueError("history ids, last_ds and freqs must be non-empty and equally long")
    if not all(isinstance(x, str | int) and not isinstance(x, bool) for x in ids):
        raise ValueError("history ids must be strings or integers")
    if not all(isinstance(x, str) for x in freqs):
        raise ValueError("history freqs must be strings")
    keys = [f"__history__.{i}" for i in range(len(ids))]
    absent = [key for key in keys if key not in tensors]
    if absent:
        raise ValueError(f"history tensor {absent[0]} is missing")
    values = [tensors.pop(key).numpy() for key in keys]
    if any(v.ndim != 1 or len(v) == 0 or v.dtype.kind != "f" for v in values):
        raise ValueError("history tensors must be non-empty 1-D float arrays")
    if not all(np.isfinite(v).all() for v in values):
        raise ValueError("history tensors hold NaN or infinite values")
    unit = meta.get("ds_unit", "ns")
    last = [_saved_last(t, freq, unit) for t, freq in zip(last_ds, freqs)]
    return SeriesData([str(u) for u in ids], values, last, freqs)


def _conformal_from(model: Forecaster, tensors: dict[str, torch.Tensor]) -> np.ndarray | None:
    """The saved conformal scores: present exactly when the model uses them, and checked."""
    scores = tensors.pop(CONFORMAL_TENSOR, None)
    if model.intervals != "conformal":
        if scores is not None:
            raise ValueError(f"{CONFORMAL_TENSOR} is saved but intervals={model.intervals!r}")
        return None
    if scores is None:
        raise ValueError(f"{CONFORMAL_TENSOR} is missing for intervals='conformal'")
    return check_scores(scores.numpy(), model.h)


def _saved_last(value: object, freq: str, unit: object) -> pd.Timestamp | int:
    """A saved last timestamp (an ISO string, read in ``unit``), or the last integer step of
    a series of integer time steps (``freq`` ``"1"``), checked."""
    if is_integer_freq(freq):
        if not _is_step(value) or not -(2**63) <= value < 2**63:
            raise ValueError("history last_ds of integer time steps must be int64 integers")
        return int(value)
    if not isinstance(value, str) or unit not in ("ns", COARSE_UNIT):
        raise ValueError(f"history last_ds must be ISO timestamps in ns or {COARSE_UNIT}")
    stamp = pd.Timestamp(value)  # ValueError (OutOfBounds too) if forged
    _check_step(stamp, freq)
    return stamp.as_unit(unit)


def _check_step(stamp: pd.Timestamp, freq: str) -> None:
    """``freq`` must be a pandas frequency that moves forward from ``stamp``."""
    if pd.isna(stamp):
        raise ValueError("history last_ds holds a missing date")
    state_frequency({"freq": freq}, "freq")  # a ValueError for a forged or zero step
    if not stamp + to_offset(freq) > stamp:
        raise ValueError(f"history frequency {_cut(freq, 40)!r} does not move time forward")
