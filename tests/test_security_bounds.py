"""Issue 22: loading an untrusted model file does work bounded by the file before any check.

A file of N bytes holds E <= N tensor elements; loading it never registers more real (non-meta)
parameter elements than 2 E (the network and the probe layer its config builds to validate
itself), and a header that describes anything larger is a ValueError naming
the file and the field, before any network is built.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.ensemble import (
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.svm import SVR
from sklearn.tree import DecisionTreeRegressor
from torch import nn

import tsattn
from tsattn.models.baselines import (
    ARIMA,
    ETS,
    AutoARIMA,
    Naive,
    SeasonalNaive,
    SklearnForecaster,
    Theta,
)
from tsattn.models.baselines.sklearn_io import TRUSTED_TYPES
from tsattn.models.baselines.sklearn_lags import SKOPS_TENSOR
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


# ---- scikit-learn archives ------------------------------------------------------------------


def _sk_file(tmp_path: Path, regressor) -> Path:
    model = SklearnForecaster(regressor, lags=4, h=2)
    return model.fit(frame()).save(tmp_path / "sk.safetensors")


def _with_archive(path: Path, out: Path, archive: bytes) -> Path:
    header, tensors = read(path)
    tensors[SKOPS_TENSOR] = torch.frombuffer(bytearray(archive), dtype=torch.uint8)
    header["digest"] = tensor_digest(tensors)
    save_file(tensors, out, metadata=header)
    return out


def _regressors(path: Path) -> list:
    return sio.loads(read(path)[1][SKOPS_TENSOR].numpy().tobytes(), trusted=list(TRUSTED_TYPES))


def test_a_zip_bomb_archive_is_refused_before_it_is_inflated(tmp_path):
    path = _sk_file(tmp_path, Ridge())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("schema.json", b" " * 50_000_000)  # 50 MB from about 50 KB
    start = time.perf_counter()
    with pytest.raises(ValueError, match="sk2.safetensors.*would inflate to 50,000,000 bytes"):
        tsattn.load(_with_archive(path, tmp_path / "sk2.safetensors", buffer.getvalue()))
    assert time.perf_counter() - start < 2.0


def _forged_tree(tree, edit) -> None:
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    edit(nodes)
    tree.__setstate__({**state, "nodes": nodes})


TREE_FORGERIES = {
    "self loop": (lambda n: n["left_child"].__setitem__(0, 0), "child outside"),
    "cycle": (lambda n: n["right_child"].__setitem__(2, 1), "child outside"),
    "out of range": (lambda n: n["left_child"].__setitem__(0, 10**6), "child outside"),
    "feature": (lambda n: n["feature"].__setitem__(0, 99), "feature beyond"),
}


@pytest.mark.parametrize("edit, message", TREE_FORGERIES.values(), ids=TREE_FORGERIES)
@pytest.mark.parametrize("regressor", ["forest", "boosting", "tree"])
def test_forged_fitted_trees_are_refused_at_load(tmp_path, regressor, edit, message):
    make = {
        "forest": lambda: RandomForestRegressor(n_estimators=2, random_state=0),
        "boosting": lambda: GradientBoostingRegressor(n_estimators=2, random_state=0),
        "tree": lambda: DecisionTreeRegressor(random_state=0),
    }[regressor]
    path = _sk_file(tmp_path, make())
    fitted = _regressors(path)
    first = fitted[0]
    tree = {
        "forest": lambda: first.estimators_[0],
        "boosting": lambda: first.estimators_[0, 0],
        "tree": lambda: first,
    }[regressor]().tree_
    _forged_tree(tree, edit)
    forged = _with_archive(path, tmp_path / "f.safetensors", sio.dumps(fitted))
    with pytest.raises(ValueError, match=f"f.safetensors.*{message}"):
        tsattn.load(forged)


@pytest.mark.parametrize("field, value", [("left", 0), ("right", 10**6), ("feature_idx", 7)])
def test_forged_histogram_boosting_nodes_are_refused_at_load(tmp_path, field, value):
    path = _sk_file(tmp_path, HistGradientBoostingRegressor(max_iter=3))
    fitted = _regressors(path)
    nodes = fitted[0]._predictors[0][0].nodes
    nodes[field][0] = value
    forged = _with_archive(path, tmp_path / "f.safetensors", sio.dumps(fitted))
    with pytest.raises(ValueError, match="boosting tree"):
        tsattn.load(forged)


def test_a_forged_neighbour_tree_is_refused_at_load(tmp_path):
    path = _sk_file(tmp_path, KNeighborsRegressor(n_neighbors=3, algorithm="kd_tree"))
    fitted = _regressors(path)
    state = list(fitted[0]._tree.__getstate__())
    state[1] = state[1].copy()
    state[1][0] = 10**6  # an index beyond the points
    fitted[0]._tree.__setstate__(tuple(state))
    forged = _with_archive(path, tmp_path / "f.safetensors", sio.dumps(fitted))
    with pytest.raises(ValueError, match="not a permutation"):
        tsattn.load(forged)


def _spec_file(tmp_path: Path, spec: dict) -> Path:
    path = _sk_file(tmp_path, Ridge())
    return forge(path, tmp_path / "f.safetensors", params={"regressor": spec})


@pytest.mark.parametrize(
    "cls",
    [
        "sklearn.compose.TransformedTargetRegressor",
        "sklearn.tests.test_base.T",
        "sklearn.svm.SVR",
        "sklearn.linear_model._ridge.RidgeSubclass",
    ],
)
def test_regressor_classes_outside_the_allow_list_are_refused_unimported(tmp_path, cls):
    spec = {"class": cls, "params": {}}
    with pytest.raises(ValueError, match="not a regressor a model file can hold"):
        tsattn.load(_spec_file(tmp_path, spec))
    assert "sklearn.tests.test_base" not in sys.modules


def test_an_unlisted_regressor_is_refused_at_save(tmp_path):
    model = SklearnForecaster(SVR(), lags=4, h=2).fit(frame())
    with pytest.raises(ValueError, match="SAVEABLE_REGRESSORS"):
        model.save(tmp_path / "svr.safetensors")
    assert not list(tmp_path.iterdir())


def test_listed_regressors_are_the_saveable_ones():
    from tsattn.models.baselines.sklearn_io import SAVEABLE_REGRESSORS, saveable_class

    for name in SAVEABLE_REGRESSORS:
        assert saveable_class(name).__name__ == name.rpartition(".")[2]


def test_the_readme_lists_exactly_the_saveable_regressors():
    from tsattn.models.baselines.sklearn_io import SAVEABLE_REGRESSORS

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    listed = readme.split("restricted to exactly\nthese scikit-learn regressors:")[1]
    listed = listed.split("(`SAVEABLE_REGRESSORS`")[0]
    assert re.findall(r"`(\w+)`", listed) == [p.rpartition(".")[2] for p in SAVEABLE_REGRESSORS]


def test_a_huge_n_jobs_in_a_regressor_spec_is_refused(tmp_path):
    spec = {"class": "sklearn.ensemble.RandomForestRegressor", "params": {"n_jobs": 10**12}}
    with pytest.raises(ValueError, match="n_jobs must be a non-zero integer from -1024 to 1024"):
        tsattn.load(_spec_file(tmp_path, spec))


# ---- forged values that used to fail only at predict ----------------------------------------


@pytest.mark.parametrize(
    "make, params, message",
    [
        (lambda: SeasonalNaive(season_length=7, h=2), {"season_length": 2**63}, "season_length"),
        (lambda: ETS(season_length=7, h=2), {"season_length": 2**63}, "season_length"),
        (lambda: Theta(season_length=7, h=2), {"season_length": 10**7}, "season_length"),
        (lambda: ETS(h=2), {"n_jobs": 10**12}, "n_jobs"),
        (lambda: ARIMA(h=2), {"seasonal_order": [0, 0, 0, 2**40]}, "seasonal_order"),
    ],
    ids=["seasonal_naive", "ets_season", "theta_season", "ets_n_jobs", "arima_period"],
)
def test_forged_baseline_values_are_refused_at_load(tmp_path, make, params, message):
    path = make().fit(frame()).save(tmp_path / "b.safetensors")
    with pytest.raises(ValueError, match=f"f.safetensors.*{message}"):
        tsattn.load(forge(path, tmp_path / "f.safetensors", params=params))


@pytest.mark.parametrize(
    "make",
    [
        lambda: ETS(n_jobs=10**12),
        lambda: Theta(n_jobs=-(10**12)),
        lambda: SeasonalNaive(season_length=2**63),
        lambda: AutoARIMA(season_length=10**7),
    ],
)
def test_huge_constructor_sizes_are_a_value_error_not_an_overflow(make):
    with pytest.raises(ValueError, match="n_jobs|season_length"):
        make()


def test_a_forged_saved_season_is_refused(tmp_path):
    path = ETS(season_length=7, h=2).fit(frame()).save(tmp_path / "e.safetensors")
    header, tensors = read(path)
    state = json.loads(header["state"])
    state["season"] = 2**63
    save_file(tensors, tmp_path / "f.safetensors", metadata={**header, "state": json.dumps(state)})
    with pytest.raises(ValueError, match="season"):
        tsattn.load(tmp_path / "f.safetensors")


# ---- temporary files of killed saves --------------------------------------------------------


def test_the_next_save_removes_what_a_killed_save_left(tmp_path):
    model = Naive(h=2).fit(frame())
    target = tmp_path / "m.safetensors"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f".m.safetensors.{dead.pid}.abc123.tmp"  # a kill mid-write
    left.write_bytes(b"partial")
    old = tmp_path / ".m.safetensors.zz9.tmp"  # an older tsattn's name, an hour old
    old.write_bytes(b"partial")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    running = tmp_path / f".m.safetensors.{os.getppid()}.def456.tmp"  # a live writer's
    running.write_bytes(b"in progress")
    other = tmp_path / f".other.safetensors.{dead.pid}.abc.tmp"
    other.write_bytes(b"another target's")
    model.save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["m.safetensors", running.name, other.name]
    )
