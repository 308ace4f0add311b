"""``evaluate`` refuses inputs that used to give garbage scores quietly (issue 12, part 7).

Each case once returned NaN/inf, scored a date as a number, dropped rows or reinterpreted an
argument without a word; now it is a ``ValueError`` naming the column or argument, or (for
scale-dependent metrics pooled over series of very different scales) a ``UserWarning``.
Tests marked "guard" pin behaviour that must not change (defaults, no false warnings).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tsattn.evaluation import evaluate, metrics_by_step
from tsattn.evaluation.metrics import mae, mase, mase_scale, rmse


def _frame(y=(1.0, 2.0, 3.0, 4.0, 5.0, 6.0), **columns) -> pd.DataFrame:
    """Two series ``a`` and ``b``, one window of h=3 each, forecast column ``M``."""
    frame = pd.DataFrame(
        {
            "unique_id": ["a"] * 3 + ["b"] * 3,
            "ds": list(pd.date_range("2024-01-01", periods=3, freq="D")) * 2,
            "cutoff": pd.Timestamp("2023-12-31"),
            "y": list(y),
            "M": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5],
        }
    )
    return frame.assign(**columns)


def _train() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], 4),
            "ds": np.tile(pd.date_range("2023-12-28", periods=4, freq="D"), 2),
            "y": [0.0, 1.0, 3.0, 4.0] * 2,
        }
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("column, role", [("y", "actuals"), ("M", "forecast")])
def test_nan_or_inf_in_actuals_or_forecasts_is_an_error(column, role, bad):
    frame = _frame()
    frame.loc[4, column] = bad  # series b, 2024-01-02
    with pytest.raises(ValueError, match=rf"{role} column '{column}' has 1 NaN or infinite.*b"):
        evaluate(frame, metrics=["mae"])


def test_missing_values_in_a_nullable_forecast_column_are_an_error():
    frame = _frame(M=pd.array([1.0, None, 3.0, 4.0, 5.0, 6.0], dtype="Float64"))
    with pytest.raises(ValueError, match="forecast column 'M' has 1 NaN"):
        evaluate(frame, metrics=["mae"])


@pytest.mark.parametrize("models", [["ds"], ["unique_id"], ["cutoff"], ["y"]])
def test_reserved_columns_are_not_forecasts(models):
    with pytest.raises(ValueError, match=rf"'{models[0]}' is a reserved.*forecast columns.*'M'"):
        evaluate(_frame(), metrics=["mae"], models=models)


def test_a_non_numeric_model_column_is_an_error():
    frame = _frame(when=pd.date_range("2024", periods=6, freq="D"), label=list("abcdef"))
    for column in ("when", "label"):
        with pytest.raises(ValueError, match=rf"forecast column '{column}' must hold real"):
            evaluate(frame, metrics=["mae"], models=[column])


def test_a_bool_column_is_not_picked_as_a_model():
    frame = _frame(is_holiday=[True, False] * 3)
    assert list(evaluate(frame, metrics=["mae"]).columns) == ["metric", "M"]


def test_a_datetime_y_is_an_error():
    frame = _frame(y=pd.date_range("2024-01-01", periods=6, freq="D"))
    with pytest.raises(ValueError, match="actuals column 'y' must hold real numbers.*datetime"):
        evaluate(frame, metrics=["mae"])


@pytest.mark.parametrize("metrics", ["mae", "rmse", mae])
def test_a_lone_metric_is_an_error_not_a_list_of_characters(metrics):
    with pytest.raises(ValueError, match=r"metrics must be a list.*metrics=\['(mae|rmse)'\]"):
        evaluate(_frame(), metrics=metrics)


def test_a_lone_model_name_is_an_error_not_a_list_of_characters():
    with pytest.raises(ValueError, match=r"models must be a list.*models=\['M'\]"):
        evaluate(_frame(), metrics=["mae"], models="M")


def test_empty_metrics_is_an_error():
    with pytest.raises(ValueError, match="metrics is empty"):
        evaluate(_frame(), metrics=[])


def test_season_length_zero_is_an_error_not_one():
    with pytest.raises(ValueError, match="season_length must be a positive integer, got 0"):
        evaluate(_frame(), metrics=["mase"], season_length=0, train_df=_train())


@pytest.mark.parametrize("season_length", [0, -2, 1.5, True])
def test_a_bad_season_length_is_an_error_even_without_mase(season_length):
    with pytest.raises(ValueError, match="season_length must be a positive integer"):
        evaluate(_frame(), metrics=["mae"], season_length=season_length)


def test_season_length_none_still_means_one():  # guard: the default is unchanged
    table = evaluate(_frame(), metrics=["mase"], train_df=_train())
    # scale: mean(|1-0|, |3-1|, |4-3|) = 4/3; every error is 0.5
    np.testing.assert_allclose(table["M"], [0.5 / (4 / 3)])


@pytest.mark.parametrize("by", ["unique_id", ["cutoff"], ["unique_id", "cutoff"]])
def test_rows_with_missing_group_keys_are_an_error_not_dropped(by):
    frame = _frame()
    frame["unique_id"] = frame["unique_id"].astype(object)
    frame.loc[1, "unique_id"] = None
    frame.loc[2, "cutoff"] = pd.NaT
    key = by if isinstance(by, str) else by[0]
    with pytest.raises(ValueError, match=rf"column '{key}' \(a by= column\) has 1 missing"):
        evaluate(frame, metrics=["mae"], by=by)


def test_missing_ids_are_an_error_for_the_step_and_the_mase_scale():
    frame = _frame()
    frame["unique_id"] = frame["unique_id"].astype(object)
    frame.loc[1, "unique_id"] = None
    with pytest.raises(ValueError, match="column 'unique_id' .*horizon step.* 1 missing"):
        metrics_by_step(frame, metrics=["mae"])
    with pytest.raises(ValueError, match="column 'unique_id' .*MASE scale.* 1 missing"):
        evaluate(frame, metrics=["mase"], train_df=_train())


def test_pooling_scale_dependent_metrics_over_very_different_scales_warns():
    frame = _frame(y=[1.0, 2.0, 3.0, 1000.0, 2000.0, 3000.0])
    with pytest.warns(UserWarning, match=r"mae, rmse pool 2 series.*by='unique_id'.*'mase'"):
        table = evaluate(frame, metrics=["mae", "rmse", "smape"])
    assert table["metric"].tolist() == ["mae", "rmse", "smape"]  # the result is unchanged
    with pytest.warns(UserWarning, match="pool 2 series"):
        metrics_by_step(frame, metrics=["mse"])


@pytest.mark.parametrize(
    "y, kwargs",
    [
        ((1.0, 2.0, 3.0, 1000.0, 2000.0, 3000.0), {"by": "unique_id"}),  # per series
        ((1.0, 2.0, 3.0, 1000.0, 2000.0, 3000.0), {"metrics": ["smape"]}),  # scale-free
        ((1.0, 2.0, 3.0, 5.0, 10.0, 15.0), {}),  # scales within 10x
    ],
)
def test_no_scale_warning_when_nothing_is_pooled_across_scales(y, kwargs):  # guard
    kwargs = {"metrics": ["mae"], **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate(_frame(y=y), **kwargs)


def test_metric_functions_refuse_non_finite_values():
    with pytest.raises(ValueError, match="y has 1 NaN or infinite"):
        mae([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="yhat has 1 NaN or infinite"):
        rmse([1.0, 2.0], [np.inf, 2.0])
    with pytest.raises(ValueError, match="MASE training series has 1 NaN"):
        mase_scale([1.0, np.nan, 3.0])
    with pytest.raises(ValueError, match="MASE scale has 1 NaN"):
        mase([1.0], [2.0], scale=np.nan)
