"""Saved model files are untrusted input: loading never runs code from them.

A pickle payload (torch.save / pickle.dump) is refused and never executed; a safetensors
file with a forged header (unknown model, unexpected parameters, bad JSON, missing tensors,
a huge header length, truncated bytes) is a ``ValueError`` with a clear message; legitimate
files still load; SklearnForecaster only ever imports scikit-learn estimator classes.
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import tsattn
from tsattn.models import DLinear
from tsattn.models.baselines import Naive, SeasonalNaive, SklearnForecaster
from tsattn.models.baselines.sklearn_lags import build_regressor
from tsattn.models.persistence import tensor_digest

TINY = dict(max_epochs=1, batch_size=32, progress=False, device="cpu")


def frame(n: int = 40) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], n),
            "ds": np.tile(pd.date_range("2024-01-01", periods=n, freq="D"), 2),
            "y": np.concatenate([np.sin(np.arange(n) / 3.0), np.cos(np.arange(n) / 5.0)]) + 2,
        }
    )


class WritesMarker:
    """Unpickling this calls a builtin that writes ``path`` (the classic pickle exploit)."""

    def __init__(self, path: Path, via: str):
        self.path, self.via = str(path), via

    def __reduce__(self):
        if self.via == "os.system":
            return os.system, (f"touch '{self.path}'",)
        code = f"open({self.path!r}, 'w').write('pwned')"
        return builtins.exec, (code,)


def write_payload(path: Path, marker: Path, via: str, how: str) -> Path:
    payload = {"network.weight": WritesMarker(marker, via)}
    if how == "torch.save":
        torch.save(payload, path)
    elif how == "torch.save-legacy":
        torch.save(payload, path, _use_new_zipfile_serialization=False)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
    return path


@pytest.fixture
def saved(tmp_path) -> Path:
    return Naive(h=2).fit(frame()).save(tmp_path / "naive.safetensors")


def header_of(path: Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    with safe_open(path, framework="pt") as fh:
        return dict(fh.metadata()), {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118


def forge(path: Path, out: Path, tensors=None, **header: str | None) -> Path:
    """A copy of a saved model with header fields replaced (None: removed) and, like a
    deliberate forger would, the tensor digest recomputed for the tensors it holds."""
    meta, saved_tensors = header_of(path)
    tensors = saved_tensors if tensors is None else tensors
    meta["digest"] = tensor_digest(tensors)
    for key, value in header.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    save_file(tensors, out, metadata=meta)
    return out


# ---- pickle payloads ---------------------------------------------------------------------


@pytest.mark.parametrize("via", ["os.system", "exec"])
def test_the_payload_is_live_when_unpickled(tmp_path, via):
    """Control: the payloads below really would run if anything unpickled them."""
    marker = tmp_path / "control-marker"
    path = write_payload(tmp_path / "control.pt", marker, via, "pickle")
    pickle.loads(path.read_bytes())  # noqa: S301 - deliberately, on our own payload
    assert marker.exists()


@pytest.mark.parametrize("how", ["torch.save", "torch.save-legacy", "pickle"])
@pytest.mark.parametrize("via", ["os.system", "exec"])
@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_pickle_payload_is_refused_and_never_runs(tmp_path, how, via, suffix):
    marker = tmp_path / "marker"
    path = write_payload(tmp_path / f"model{suffix}", marker, via, how)
    with pytest.raises(ValueError, match="not a tsattn model file"):
        tsattn.load(path)
    assert not marker.exists(), "loading a model file executed code from it"


def test_pickle_payload_appended_to_a_valid_file_never_runs(tmp_path, saved):
    marker = tmp_path / "marker"
    payload = pickle.dumps(WritesMarker(marker, "exec"))
    path = tmp_path / "appended.safetensors"
    path.write_bytes(saved.read_bytes() + payload)
    try:
        tsattn.load(path)
    except ValueError as err:
        assert str(err)
    assert not marker.exists()


def test_pickle_payload_in_header_strings_is_only_text(tmp_path, saved):
    """Header fields are parsed as JSON, never unpickled or evaluated."""
    marker = tmp_path / "marker"
    blob = pickle.dumps(WritesMarker(marker, "exec"), protocol=0).decode("latin-1")
    for field in ("params", "state", "history", "model"):
        with pytest.raises(ValueError, match="corrupt tsattn model file"):
            tsattn.load(forge(saved, tmp_path / f"{field}.safetensors", **{field: blob}))
    assert not marker.exists()


def test_library_never_unpickles():
    """No tsattn module imports pickle, calls eval/exec, or torch.load without weights_only."""
    root = Path(tsattn.__file__).parent
    banned = {"pickle", "cPickle", "dill", "cloudpickle", "shelve", "marshal"}
    for source in root.rglob("*.py"):
        tree = ast.parse(source.read_text(), filename=str(source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not banned & {n.split(".")[0] for n in names}, (source, names)
            if isinstance(node, ast.Call):
                func = node.func
                where = (str(source), node.lineno)
                if isinstance(func, ast.Name):  # the builtins, not e.g. network.eval()
                    assert func.id not in {"eval", "exec", "__import__"}, where
                elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                    call = (func.value.id, func.attr)
                    assert call not in {("joblib", "load"), ("np", "load")}, where
                    if call == ("torch", "load"):  # only the restricted unpickler
                        assert _keyword_is_true(node, "weights_only"), where


def _keyword_is_true(call: ast.Call, name: str) -> bool:
    return any(
        k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in call.keywords
    )


def test_training_checkpoint_with_a_pickle_payload_never_runs(tmp_path):
    checkpoint = pytest.importorskip("tsattn.training.checkpoint")
    marker = tmp_path / "marker"
    for via in ("os.system", "exec"):
        write_payload(checkpoint.checkpoint_path(tmp_path), marker, via, "torch.save")
        with pytest.raises(ValueError):
            checkpoint.load_checkpoint(tmp_path)
        assert not marker.exists()


# ---- forged safetensors headers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"model": "os.system"}, "unknown model 'os.system'"),
        ({"model": "__import__"}, "unknown model"),
        ({"model": None}, "no model"),
        ({"params": None}, "no params"),
        ({"params": json.dumps({"h": 2, "evil": "os.system"})}, r"unexpected parameter.*evil"),
        ({"params": json.dumps({"h": 2, "__class__": "x"})}, "unexpected parameter"),
        ({"params": "{not json"}, "params is not JSON"),
        ({"params": json.dumps([1, 2])}, "params is not a JSON object"),
        ({"params": json.dumps({"h": -1})}, "h must be a positive integer|params has no alias"),
        ({"state": "[]"}, "state is not a JSON object"),
        ({"history": "{}"}, "corrupt tsattn model file"),
        ({"history": json.dumps({"ids": "a", "last_ds": [], "freqs": []})}, "must be lists"),
        (
            {"history": json.dumps({"ids": ["a"], "last_ds": ["x"], "freqs": ["D"]})},
            "corrupt tsattn model file",
        ),
        (
            {
                "history": json.dumps(
                    {"ids": ["a", "b"], "last_ds": ["2024"] * 2, "freqs": ["zz"] * 2}
                )
            },
            "Invalid frequency|not a frequency",
        ),
        ({"version": "1; rm -rf /"}, "bad version"),
        ({"version": "999"}, "newer tsattn"),
        ({"format": "something-else"}, "no tsattn header"),
    ],
)
def test_forged_header_is_a_clear_value_error(tmp_path, saved, fields, message):
    path = forge(saved, tmp_path / "forged.safetensors", **fields)
    with pytest.raises(ValueError, match=message):
        tsattn.load(path)


def test_missing_or_malformed_tensors_are_refused(tmp_path):
    model = DLinear(h=2, input_size=8, **TINY).fit(frame())
    path = model.save(tmp_path / "dlinear.safetensors")
    meta, tensors = header_of(path)
    no_history = {k: v for k, v in tensors.items() if not k.startswith("__history__")}
    with pytest.raises(ValueError, match="__history__"):
        tsattn.load(forge(path, tmp_path / "a.safetensors", tensors=no_history))
    wrong_shape = {
        k: (torch.zeros(3, 3) if k.startswith("network.") else v) for k, v in tensors.items()
    }
    with pytest.raises(ValueError, match="corrupt tsattn model file"):
        tsattn.load(forge(path, tmp_path / "b.safetensors", tensors=wrong_shape))
    matrix_history = {**tensors, "__history__.0": torch.zeros(2, 2, dtype=torch.float64)}
    with pytest.raises(ValueError, match="1-D float"):
        tsattn.load(forge(path, tmp_path / "c.safetensors", tensors=matrix_history))


def test_huge_header_length_truncated_and_empty_files(tmp_path, saved):
    huge = tmp_path / "huge.safetensors"
    huge.write_bytes(struct.pack("<Q", 2**62) + b'{"__metadata__": {}}')
    lying = tmp_path / "lying.safetensors"  # claims 1 MB of header, has 20 bytes
    lying.write_bytes(struct.pack("<Q", 2**20) + b'{"__metadata__": {}}')
    data = saved.read_bytes()
    cases = {
        huge: "not a tsattn model file",
        lying: "not a tsattn model file",
        tmp_path / "trunc.safetensors": "not a tsattn model file",
        tmp_path / "stub.safetensors": "not a tsattn model file",
        tmp_path / "empty.safetensors": "not a tsattn model file",
        tmp_path / "text.safetensors": "not a tsattn model file",
        tmp_path / "missing.safetensors": "no saved model",
        tmp_path: "no saved model",
    }
    (tmp_path / "trunc.safetensors").write_bytes(data[: len(data) - 9])
    (tmp_path / "stub.safetensors").write_bytes(data[:5])
    (tmp_path / "empty.safetensors").write_bytes(b"")
    (tmp_path / "text.safetensors").write_text("h,ds,y\n1,2,3\n")
    for path, message in cases.items():
        with pytest.raises(ValueError, match=message):
            tsattn.load(path)


def test_a_plain_safetensors_file_without_tsattn_header_is_refused(tmp_path):
    path = tmp_path / "weights.safetensors"
    save_file({"w": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="no tsattn header"):
        tsattn.load(path)


# ---- legitimate files still load ---------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: Naive(h=3),
        lambda: SeasonalNaive(season_length=4, h=3),
        lambda: DLinear(h=3, input_size=8, **TINY),
        lambda: SklearnForecaster(lags=4, h=3),
    ],
    ids=["naive", "seasonal_naive", "dlinear", "sklearn"],
)
def test_legitimate_models_round_trip(tmp_path, make):
    model = make().fit(frame())
    loaded = tsattn.load(model.save(tmp_path / "model.safetensors"))
    assert type(loaded) is type(model)
    np.testing.assert_allclose(loaded.predict()[model.name], model.predict()[model.name])


# ---- SklearnForecaster's class allow-list ------------------------------------------------

FORGED_CLASSES = [
    "os.system",
    "subprocess.Popen",
    "builtins.eval",
    "sklearn.os.system",  # a module reachable from sklearn's namespace
    "sklearn..base.BaseEstimator",
    "sklearn.utils.fixes.parse_version",  # a function, not an estimator class
    "sklearn.base.BaseEstimator.__init_subclass__",
    "sklearnx.linear_model.Ridge",  # a look-alike top-level package
]


@pytest.mark.parametrize("path", FORGED_CLASSES)
def test_sklearn_regressor_spec_only_imports_sklearn_estimators(path):
    with pytest.raises(ValueError, match="refusing to load|not a regressor a model file can hold"):
        build_regressor({"class": path, "params": {}})


@pytest.mark.parametrize("path", FORGED_CLASSES)
def test_forged_sklearn_class_in_a_saved_file_is_refused(tmp_path, path):
    model = SklearnForecaster(lags=4, h=2).fit(frame())
    saved = model.save(tmp_path / "sk.safetensors")
    params = {**model.get_params(), "regressor": {"class": path, "params": {}}}
    forged = forge(saved, tmp_path / "forged.safetensors", params=json.dumps(params))
    with pytest.raises(ValueError, match="refusing to load|not a regressor a model file can hold"):
        tsattn.load(forged)


def test_forged_sklearn_params_are_a_value_error(tmp_path):
    model = SklearnForecaster(lags=4, h=2).fit(frame())
    saved = model.save(tmp_path / "sk.safetensors")
    spec = {"class": "sklearn.linear_model.Ridge", "params": {"alpha": 1.0, "evil": "x"}}
    params = {**model.get_params(), "regressor": spec}
    forged = forge(saved, tmp_path / "forged.safetensors", params=json.dumps(params))
    with pytest.raises(ValueError, match="corrupt tsattn model file.*evil"):
        tsattn.load(forged)


def test_sklearn_saving_refuses_non_sklearn_regressors(tmp_path):
    class HomeMade:
        def fit(self, x, y):
            self.mean_ = float(np.mean(y))
            return self

        def predict(self, x):
            return np.full(len(x), self.mean_)

    model = SklearnForecaster(regressor=HomeMade(), lags=4, h=2).fit(frame())
    with pytest.raises(ValueError, match="only scikit-learn estimators can be saved"):
        model.save(tmp_path / "home.safetensors")
