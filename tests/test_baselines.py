"""Baseline adapters' own behaviour (conformance of every registered model: test_models)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from sklearn.cluster import KMeans
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tests.conformance import check_forecaster, synthetic_long_frame
from tests.conftest import HAS_LIGHTNING, NO_LIGHTNING
from tsattn.models.baselines import (
    ARIMA,
    ETS,
    AutoARIMA,
    GluonTSForecaster,
    Naive,
    SeasonalNaive,
    SklearnForecaster,
)
from tsattn.models.baselines.gluonts_models import ESTIMATORS

H = 12


def frame(values, uid="a", freq="D") -> pd.DataFrame:
    ds = pd.date_range("2024-01-01", periods=len(values), freq=freq)
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.asarray(values, dtype=float)})


def test_naive_values_and_any_history():
    model = SeasonalNaive(season_length=3).fit(frame([1, 2, 3, 4, 5, 6, 7]))
    assert model.predict(h=5)["SeasonalNaive"].tolist() == [5, 6, 7, 5, 6]
    other = model.predict(df=frame([9, 8, 7], uid="new"))
    assert other["unique_id"].unique().tolist() == ["new"]
    assert Naive().fit(frame([1, 3])).predict(h=2)["Naive"].tolist() == [3, 3]


def test_local_models_run_in_parallel_with_the_same_result():
    df = synthetic_long_frame(n_series=3, length=96)
    one = ETS(h=4).fit(df).predict()
    with parallel_config(backend="threading"):  # the joblib path, without process start-up
        two = ETS(h=4, n_jobs=2).fit(df).predict()
    np.testing.assert_allclose(one["ETS"], two["ETS"])


def test_local_models_refuse_series_they_were_not_fitted_on():
    model = ARIMA(h=2).fit(synthetic_long_frame(n_series=1, length=60))
    with pytest.raises(ValueError, match="not fitted on series"):
        model.predict(df=frame(np.arange(30), uid="other"))


def test_auto_arima_differences_a_random_walk():
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(0, 1, 200)) + 50
    model = AutoARIMA(max_p=1, max_q=1, h=3).fit(frame(walk))
    assert model.orders()["a"][1] == 1


def test_ets_checks_its_season():
    with pytest.raises(ValueError, match="season_length > 1"):
        ETS(seasonal="add", season_length=1).fit(synthetic_long_frame(n_series=1))


def test_sklearn_forecaster_is_direct_and_loads_only_sklearn_classes(tmp_path):
    from sklearn.linear_model import LinearRegression

    model = SklearnForecaster(LinearRegression(), lags=3, h=2).fit(frame(np.arange(30)))
    np.testing.assert_allclose(model.predict()["SklearnForecaster"], [30.0, 31.0])
    with pytest.raises(ValueError, match="cannot forecast h=3"):
        model.predict(h=3)
    spec = model.get_params()["regressor"]
    assert spec["class"].startswith("sklearn.linear_model")
    with pytest.raises(ValueError, match="refusing"):  # refused at construction, unimported
        SklearnForecaster({"class": "os.system", "params": {}}, lags=3, h=2)


def test_sklearn_forecaster_chooses_its_lags_from_the_data(tmp_path):
    """``lags=None``: a season of the frequency or h (whichever is longer), at most half of
    what the shortest series leaves after h; a 40-point yearly series now fits (24 fixed lags
    needed 30 points) and the choice survives save/load."""
    from tsattn.models.persistence import load

    weekly = SklearnForecaster(h=8).fit(frame(np.sin(np.arange(300) / 5), freq="W"))
    assert weekly.lags is None and weekly.lags_ == 52
    yearly = SklearnForecaster(h=6).fit(frame(np.arange(20.0), freq="YS"))
    assert yearly.lags_ == 6  # max(season 1, h 6); (20 - 6) // 2 = 7 allows it
    short = SklearnForecaster(h=6).fit(frame(np.arange(16.0), freq="YS"))
    assert short.lags_ == 5  # (16 - 6) // 2
    yearly.save(tmp_path / "y.safetensors")
    loaded = load(tmp_path / "y.safetensors")
    assert loaded.lags is None and loaded.lags_ == 6
    np.testing.assert_allclose(
        loaded.predict()["SklearnForecaster"], yearly.predict()["SklearnForecaster"]
    )
    with pytest.raises(ValueError, match="lags"):
        SklearnForecaster(lags=0, h=2)


def test_sklearn_forecaster_refuses_to_save_non_sklearn_regressors(tmp_path):
    class Mean:
        def fit(self, x, y):
            self.mean = y.mean()
            return self

        def predict(self, x):
            return np.full(len(x), self.mean)

    model = SklearnForecaster(Mean(), lags=3, h=1)
    with pytest.raises(ValueError, match="only scikit-learn"):
        model.fit(frame(np.arange(30))).save(tmp_path / "m.safetensors")


class _NoPredict:
    def fit(self, x, y):
        return self


BAD_REGRESSORS = [
    ("ridge", ["not the string 'ridge'"]),
    ("sklearn.linear_model.Ridge", ["not the string 'sklearn.linear_model.Ridge'"]),
    (Ridge, ["not the class Ridge", "pass Ridge()"]),
    (object(), ["is not a regressor", "no fit or predict method"]),
    (_NoPredict(), ["_NoPredict", "no predict method"]),
    (StandardScaler(), ["StandardScaler()", "no predict method"]),
    (LogisticRegression(), ["LogisticRegression()", "classifier, not a regressor"]),
    (KMeans(), ["KMeans()", "clusterer, not a regressor"]),
    (42, ["regressor 42", "no fit or predict method"]),
    ({"klass": "sklearn.linear_model.Ridge"}, ["'klass'", "must be {'class'"]),
    ({"class": "sklearn.linear_model.Ridge", "params": [1]}, ["'params': [1]"]),
    ({"class": "sklearn.linear_model.Ridge", "params": {"evil": 1}}, ["Ridge", "'evil'"]),
    ({"class": "os.system"}, ["refusing to load regressor class 'os.system'"]),
]


BAD_REGRESSOR_IDS = [
    "name",
    "class-path",
    "class",
    "object",
    "no-predict",
    "transformer",
    "classifier",
    "clusterer",
    "int",
    "spec-key",
    "spec-params",
    "spec-bad-param",
    "spec-not-sklearn",
]


@pytest.mark.parametrize(("regressor", "patterns"), BAD_REGRESSORS, ids=BAD_REGRESSOR_IDS)
def test_sklearn_forecaster_refuses_bad_regressors_at_construction(regressor, patterns):
    with pytest.raises(ValueError) as err:
        SklearnForecaster(regressor, lags=3, h=2)
    message = str(err.value)
    for pattern in patterns:
        assert pattern in message, message
    if not isinstance(regressor, dict):
        assert "accepted: None (Ridge())" in message  # says what is accepted


def test_sklearn_forecaster_accepts_regressors_and_specs():
    for regressor in (
        None,
        Ridge(alpha=0.5),
        make_pipeline(StandardScaler(), Ridge()),
        RandomForestRegressor(n_estimators=2, random_state=0),
        {"class": "sklearn.linear_model.Ridge"},
        {"class": "sklearn.linear_model.Ridge", "params": {"alpha": 2.0}},
    ):
        model = SklearnForecaster(regressor, lags=3, h=2).fit(frame(np.arange(30)))
        assert len(model.predict()) == 2


def test_gluonts_without_lightning_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "lightning.pytorch", None)  # import fails as if missing
    with pytest.raises(ImportError, match=r'pip install "tsattn\[gluonts\]"'):
        GluonTSForecaster(h=H).fit(synthetic_long_frame())


def test_gluonts_rejects_unknown_estimators():
    if not HAS_LIGHTNING:
        pytest.skip("lightning is not installed (the gluonts extra); nothing to build")
    with pytest.raises(ValueError, match="deepar, patchtst, dlinear"):
        GluonTSForecaster("prophet", h=H).fit(synthetic_long_frame())


@pytest.mark.parametrize("estimator", sorted(ESTIMATORS))
def test_gluonts_estimators_conform(estimator, tmp_path):
    """Every gluonts estimator (the registered "gluonts" model's own options)."""
    if not HAS_LIGHTNING:
        pytest.skip(NO_LIGHTNING)
    options = {"num_batches_per_epoch": 10, "batch_size": 16, "context_length": 48}
    check_forecaster(
        lambda: GluonTSForecaster(estimator, h=H, max_epochs=1, estimator_kwargs=options),
        tmp_path,
        h=H,
    )
