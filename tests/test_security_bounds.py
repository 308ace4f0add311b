"""Issue 22: loading an untrusted model file does work bounded by the file before any check.

A file of N bytes holds E <= N tensor elements; loading it never registers more real (non-meta)
parameter elements than 2 E (the network and the probe layer its config builds to validate
itself), and a header that describes anything larger is a ValueError naming
the file and the field, before any network is built.
"""

from __future__ import annotations

import json
import re
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

import tsattn
from tsattn.models.baselines import Naive
from tsattn.models.persistence import tensor_digest

TINY = dict(max_epochs=1, batch_size=32, progress=False, device="cpu")
NET = dict(d_model=8, n_heads=2, n_layers=1, d_ff=16)


def frame(n: int = 60) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], n),
            "ds": np.tile(pd.date_range("2024-01-01", periods=n, freq="D"), 2),
            "y": np.concatenate([np.sin(np.arange(n) / 3.0), np.cos(np.arange(n))]) + 2,
        }
    )


def read(path: Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    with safe_open(path, framework="pt") as fh:
        return dict(fh.metadata()), {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118


def forge(path: Path, out: Path, params=None, drop=(), **fields) -> Path:
    """A copy of ``path`` with params replaced or dropped, digest recomputed."""
    header, tensors = read(path)
    saved = {**json.loads(header["params"]), **(params or {})}
    header["params"] = json.dumps({k: v for k, v in saved.items() if k not in drop})
    header.update(fields)
    header["digest"] = tensor_digest(tensors)
    save_file(tensors, out, metadata=header)
    return out


@contextmanager
def real_parameter_elements():
    """Count the elements of parameters registered on a real (non-meta) device."""
    counted = [0]

    def count(module, name, tensor):
        if tensor is not None and tensor.device.type != "meta":
            counted[0] += tensor.numel()

    handle = nn.modules.module.register_module_parameter_registration_hook(count)
    try:
        yield counted
    finally:
        handle.remove()


@pytest.fixture(scope="module")
def patchtst_file(tmp_path_factory) -> Path:
    model = tsattn.PatchTST(h=2, input_size=16, patch_len=4, stride=4, **NET, **TINY)
    return model.fit(frame()).save(tmp_path_factory.mktemp("p") / "p.safetensors")


def file_elements(path: Path) -> int:
    return sum(t.numel() for t in read(path)[1].values())


FORGED_NETWORKS = {
    "n_layers 10**12": ({"n_layers": 10**12}, "n_layers"),
    "n_layers 50": ({"n_layers": 50}, "larger than the file"),
    "d_model 8192 d_ff 65536": ({"d_model": 8192, "d_ff": 65536}, "d_model"),
    "d_model 1000": ({"d_model": 1000, "n_heads": 8}, "larger than the file"),
    "d_ff 4000": ({"d_ff": 4000}, "larger than the file"),
    "stride 10**12": ({"stride": 10**12}, "stride"),
    "stride 2": ({"stride": 2}, r"network.position.weight has shape \(5, 8\)"),
    "attention option": ({"attention_options": {"window": 10**9}}, "attention_options"),
}


@pytest.mark.parametrize("params, message", FORGED_NETWORKS.values(), ids=FORGED_NETWORKS)
def test_a_forged_network_size_is_refused_before_any_network_is_built(
    tmp_path, patchtst_file, params, message
):
    forged = forge(patchtst_file, tmp_path / "f.safetensors", params=params)
    start = time.perf_counter()
    with real_parameter_elements() as built, pytest.raises(ValueError, match=message) as info:
        tsattn.load(forged)
    assert time.perf_counter() - start < 2.0
    assert "f.safetensors" in str(info.value)
    assert built[0] == 0  # nothing was allocated for a network


def test_loading_allocates_no_more_parameters_than_the_file_holds(patchtst_file):
    with real_parameter_elements() as built:
        loaded = tsattn.load(patchtst_file)
    assert 0 < built[0] <= 2 * file_elements(patchtst_file)  # the network and one probe layer
    assert np.isfinite(loaded.predict()["PatchTST"]).all()


@pytest.mark.parametrize(
    "make",
    [
        lambda: tsattn.DLinear(h=2, input_size=8, **TINY),
        lambda: tsattn.NLinear(h=2, **TINY),
        lambda: tsattn.Transformer(h=2, input_size=16, **NET, **TINY),
        lambda: tsattn.PatchTST(h=2, loss="quantile", **NET, **TINY),
    ],
    ids=["dlinear", "nlinear", "transformer", "patchtst_quantile"],
)
def test_every_network_loads_within_its_file(tmp_path, make):
    model = make().fit(frame())
    path = model.save(tmp_path / "m.safetensors")
    with real_parameter_elements() as built:
        loaded = tsattn.load(path)
    assert built[0] <= 2 * file_elements(path)
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


def test_a_forged_kernel_size_is_refused_at_load(tmp_path):
    path = tsattn.DLinear(h=2, input_size=8, **TINY).fit(frame()).save(tmp_path / "d.safetensors")
    with pytest.raises(ValueError, match="kernel_size=1000000000000 is larger"):
        tsattn.load(forge(path, tmp_path / "f.safetensors", params={"kernel_size": 10**12}))


def _peak_rss_kib() -> int:
    return int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))


def test_peak_memory_of_a_forged_load_stays_near_the_file_size(tmp_path, patchtst_file):
    """Measured (Linux): resetting the peak RSS, then loading forged 10 KB files."""
    clear = Path("/proc/self/clear_refs")
    try:
        tsattn.load(patchtst_file)  # imports done
        clear.write_text("5")
    except OSError:
        pytest.skip("peak RSS cannot be reset here")
    before = _peak_rss_kib()
    for params, _ in FORGED_NETWORKS.values():
        with pytest.raises(ValueError):
            tsattn.load(forge(patchtst_file, tmp_path / "f.safetensors", params=params))
    assert _peak_rss_kib() - before < 32 * 1024  # KiB: the forged sizes asked for gigabytes


# ---- every header field ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def naive_file(tmp_path_factory) -> Path:
    return Naive(h=3).fit(frame()).save(tmp_path_factory.mktemp("n") / "n.safetensors")


def test_a_missing_horizon_is_refused_not_defaulted(tmp_path, naive_file):
    with pytest.raises(ValueError, match="f.safetensors.*params has no h"):
        tsattn.load(forge(naive_file, tmp_path / "f.safetensors", drop=("h",)))


def test_a_missing_network_option_is_refused(tmp_path, patchtst_file):
    with pytest.raises(ValueError, match="params has no stride"):
        tsattn.load(forge(patchtst_file, tmp_path / "f.safetensors", drop=("stride",)))


def test_missing_training_options_and_intervals_take_their_defaults(tmp_path, patchtst_file):
    dropped = ("lr", "seed", "intervals", "conformal_windows")
    loaded = tsattn.load(forge(patchtst_file, tmp_path / "f.safetensors", drop=dropped))
    assert loaded.intervals is None


def test_unknown_header_fields_are_refused(tmp_path, naive_file):
    with pytest.raises(ValueError, match="f.safetensors.*unknown header field.*'extra'"):
        tsattn.load(forge(naive_file, tmp_path / "f.safetensors", extra="1"))


def test_unknown_history_fields_are_refused(tmp_path, naive_file):
    history = json.loads(read(naive_file)[0]["history"])
    forged = forge(naive_file, tmp_path / "f.safetensors", history=json.dumps({**history, "x": 1}))
    with pytest.raises(ValueError, match="unknown history field.*x"):
        tsattn.load(forged)
