"""Issue 12, parts 1, 3 and 5: loading never runs code, refits or touches other paths; every
forged field is a ValueError naming the file; forecasts are finite or a ValueError says why.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.neighbors import KNeighborsRegressor
from sklearn.preprocessing import FunctionTransformer

import tsattn
from tsattn.models import DLinear
from tsattn.models.baselines import Naive, SklearnForecaster
from tsattn.models.baselines.sklearn_lags import SKOPS_TENSOR
from tsattn.models.persistence import tensor_digest

TINY = dict(max_epochs=1, batch_size=32, progress=False, device="cpu")


def frame(n: int = 60, scale: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], n),
            "ds": np.tile(pd.date_range("2024-01-01", periods=n, freq="D"), 2),
            "y": scale * (np.concatenate([np.sin(np.arange(n) / 3.0), np.cos(np.arange(n))]) + 2),
        }
    )


def read(path: Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    with safe_open(path, framework="pt") as fh:
        return dict(fh.metadata()), {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118


def forge(path: Path, out: Path, tensors=None, params=None, **fields) -> Path:
    """A copy of ``path`` with params / header fields / tensors replaced, digest recomputed
    as a deliberate forger would."""
    header, saved = read(path)
    tensors = saved if tensors is None else tensors
    if params is not None:
        header["params"] = json.dumps({**json.loads(header["params"]), **params})
    header.update(fields)
    header["digest"] = tensor_digest(tensors)
    save_file(tensors, out, metadata=header)
    return out


@pytest.fixture
def sk_file(tmp_path) -> Path:
    model = SklearnForecaster(RandomForestRegressor(n_estimators=3, random_state=0), lags=4, h=2)
    return model.fit(frame()).save(tmp_path / "rf.safetensors")


# ---- part 1: SklearnForecaster files --------------------------------------------------------


@pytest.mark.parametrize(
    "regressor",
    [
        RandomForestRegressor(n_estimators=4, random_state=0),
        HistGradientBoostingRegressor(max_iter=5),
        KNeighborsRegressor(n_neighbors=3),
    ],
    ids=["forest", "hist_gbm", "knn"],
)
def test_fitted_regressors_load_as_saved_without_refitting(tmp_path, monkeypatch, regressor):
    model = SklearnForecaster(regressor, lags=5, h=3).fit(frame())
    path = model.save(tmp_path / "m.safetensors")

    def no_fit(*args, **kwargs):
        raise AssertionError("load refitted the regressor")

    monkeypatch.setattr(type(regressor), "fit", no_fit)
    loaded = tsattn.load(path)
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


def test_a_cache_directory_in_the_header_is_refused_and_never_touched(tmp_path, sk_file):
    cache = tmp_path / "cache"
    spec = {"class": "sklearn.cluster.AgglomerativeClustering", "params": {"memory": str(cache)}}
    forged = forge(sk_file, tmp_path / "f.safetensors", params={"regressor": spec})
    with pytest.raises(ValueError, match="corrupt tsattn model file.*not a regressor a model"):
        tsattn.load(forged)
    assert not cache.exists()


def test_a_cache_directory_on_a_regressor_is_refused_at_construction(tmp_path):
    spec = {"class": "sklearn.linear_model.Ridge", "params": {"alpha": "1.0"}}
    with pytest.raises(ValueError, match="alpha"):  # documented types are checked
        SklearnForecaster(spec)
    with pytest.raises(ValueError, match="not a regressor"):
        SklearnForecaster({"class": "sklearn.cluster.KMeans", "params": {}})


def test_a_huge_estimator_in_the_header_does_not_hang_load(tmp_path, sk_file):
    spec = json.loads(read(sk_file)[0]["params"])["regressor"]
    spec["params"]["n_estimators"] = 10**8
    forged = forge(sk_file, tmp_path / "f.safetensors", params={"regressor": spec})
    start = time.perf_counter()
    with pytest.raises(ValueError, match="do not match the regressor class and parameters"):
        tsattn.load(forged)
    assert time.perf_counter() - start < 5.0


def test_a_non_json_parameter_in_the_header_is_refused(tmp_path, sk_file):
    spec = {"class": "sklearn.linear_model.Ridge", "params": {"alpha": {"nested": 1}}}
    forged = forge(sk_file, tmp_path / "f.safetensors", params={"regressor": spec})
    with pytest.raises(ValueError, match="only JSON numbers"):
        tsattn.load(forged)


def test_an_archive_with_untrusted_types_is_refused_unexecuted(tmp_path, sk_file):
    marker = tmp_path / "marker"
    evil = [FunctionTransformer(func=print), FunctionTransformer(func=Path.touch)]
    archive = sio.dumps(evil)
    _, tensors = read(sk_file)
    tensors[SKOPS_TENSOR] = torch.frombuffer(bytearray(archive), dtype=torch.uint8)
    forged = forge(sk_file, tmp_path / "f.safetensors", tensors=tensors)
    with pytest.raises(ValueError, match="cannot be loaded safely"):
        tsattn.load(forged)
    assert not marker.exists()


def test_an_archive_holding_a_non_regressor_is_refused(tmp_path, sk_file):
    from sklearn.cluster import KMeans

    fitted = KMeans(n_clusters=2, n_init=1).fit(np.random.default_rng(0).normal(size=(20, 4)))
    _, tensors = read(sk_file)
    archive = sio.dumps([fitted, fitted])
    tensors[SKOPS_TENSOR] = torch.frombuffer(bytearray(archive), dtype=torch.uint8)
    with pytest.raises(ValueError, match="is not a regressor"):
        tsattn.load(forge(sk_file, tmp_path / "f.safetensors", tensors=tensors))


def test_regressors_that_cannot_load_safely_are_refused_at_save_time(tmp_path):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = SklearnForecaster(make_pipeline(StandardScaler(), Ridge()), lags=4, h=2)
    with pytest.raises(ValueError, match="not JSON values"):
        model.fit(frame()).save(tmp_path / "p.safetensors")
    assert not (tmp_path / "p.safetensors").exists()


# ---- part 5: forged model files ------------------------------------------------------------


def test_a_flipped_byte_in_tensor_data_fails_the_digest(tmp_path):
    path = Naive(h=2).fit(frame()).save(tmp_path / "n.safetensors")
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01  # the last bytes are history values
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="does not match the stored digest"):
        tsattn.load(path)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"params": "[" * 100_000 + "]" * 100_000}, "params is not JSON"),
        ({"params": {"h": 10**13}}, "at most"),
        ({"params": {"h": 2, "alias": [1]}}, "alias must be a non-empty string"),
        ({"params": {"h": 2, "freq": 3}}, "freq must be"),
        (
            {"history": json.dumps({"ids": ["a"], "last_ds": ["2024-01-01"], "freqs": ["0h"]})},
            "not a frequency|does not move time forward",
        ),
        (
            {"history": json.dumps({"ids": [[1]], "last_ds": ["2024"], "freqs": ["D"]})},
            "ids must be strings or integers",
        ),
        ({"digest": None}, "no digest"),
    ],
)
def test_forged_fields_are_a_value_error_naming_the_file(tmp_path, fields, message):
    path = Naive(h=2).fit(frame().query("unique_id == 'a'")).save(tmp_path / "n.safetensors")
    header, tensors = read(path)
    if isinstance(fields.get("params"), dict):  # these params replace the saved ones
        fields = {
            **fields,
            "params": json.dumps({**json.loads(header["params"]), **fields["params"]}),
        }
    header.update({k: v for k, v in fields.items() if v is not None})
    for key in [k for k, v in fields.items() if v is None]:
        header.pop(key)
    save_file(tensors, tmp_path / "f.safetensors", metadata=header)
    with pytest.raises(ValueError, match=message) as info:
        tsattn.load(tmp_path / "f.safetensors")
    assert "f.safetensors" in str(info.value)


@pytest.mark.parametrize("bad", [None, 3, np.zeros(3), pd.DataFrame()])
def test_load_of_a_non_path_is_a_value_error(bad):
    with pytest.raises(ValueError, match="file path|no saved model"):
        tsattn.load(bad)


def test_predict_with_a_huge_horizon_is_a_value_error():
    model = Naive(h=2).fit(frame())
    with pytest.raises(ValueError, match="at most"):
        model.predict(h=10**12)


# ---- part 3: non-finite forecasts ----------------------------------------------------------


def test_nan_weights_in_a_forged_file_never_give_nan_forecasts(tmp_path):
    path = DLinear(h=2, input_size=8, **TINY).fit(frame()).save(tmp_path / "d.safetensors")
    _, tensors = read(path)
    tensors = {
        k: torch.full_like(v, float("nan")) if k.startswith("network.") else v
        for k, v in tensors.items()
    }
    forged = forge(path, tmp_path / "f.safetensors", tensors=tensors)
    with pytest.raises(ValueError, match="NaN or infinite|not finite"):
        tsattn.load(forged).predict()


def test_a_model_whose_state_went_non_finite_raises_instead_of_forecasting_nan():
    model = DLinear(h=2, input_size=8, **TINY).fit(frame())
    with torch.no_grad():
        for param in model.network_.parameters():
            param.fill_(float("inf"))
    with pytest.raises(ValueError, match="non-finite forecasts.*training diverged"):
        model.predict()


@pytest.mark.parametrize(
    "make",
    [
        lambda: DLinear(h=2, input_size=8, **TINY),
        lambda: SklearnForecaster(lags=4, h=2),
        lambda: Naive(h=2),
    ],
    ids=["dlinear", "sklearn", "naive"],
)
def test_extreme_inputs_give_finite_forecasts_or_a_value_error(make):
    rng = np.random.default_rng(0)
    df = frame()
    df["y"] = rng.choice([-1.79e308, 1.79e308], size=len(df))
    try:
        forecast = make().fit(df).predict()
    except ValueError as err:
        assert "|y|" in str(err)
    else:
        assert np.isfinite(forecast.iloc[:, -1]).all()


def test_a_model_trained_on_a_gpu_loads_on_a_machine_without_one(tmp_path):
    path = DLinear(h=2, input_size=8, **TINY).fit(frame()).save(tmp_path / "d.safetensors")
    forged = forge(path, tmp_path / "gpu.safetensors", params={"device": "cuda:7"})
    loaded = tsattn.load(forged)
    assert np.isfinite(loaded.predict()["DLinear"]).all()
