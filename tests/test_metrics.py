"""Metrics on hand-computed examples, MASE scales, and the fixed layout of evaluate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsattn.evaluation import evaluate, get_metric, list_metrics, metrics_by_step
from tsattn.evaluation.metrics import mae, mape, mase, mase_scale, mse, rmse, smape

Y, YHAT = np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 2.0])


def test_metrics_on_hand_computed_values():
    assert mae(Y, YHAT) == pytest.approx(1.0)  # (1 + 0 + 2) / 3
    assert mse(Y, YHAT) == pytest.approx(5 / 3)  # (1 + 0 + 4) / 3
    assert rmse(Y, YHAT) == pytest.approx(np.sqrt(5 / 3))
    assert mape(Y, YHAT) == pytest.approx(50.0)  # 100 * (1/1 + 0 + 2/4) / 3
    assert smape(Y, YHAT) == pytest.approx(200 * (1 / 3 + 0 + 2 / 6) / 3)


def test_metrics_accept_lists_and_2d_arrays():
    assert mae([[1, 2], [3, 4]], [[1, 2], [3, 8]]) == pytest.approx(1.0)


def test_mase_uses_the_seasonal_naive_scale():
    train = [1.0, 3.0, 2.0, 5.0, 3.0, 7.0]
    assert mase_scale(train, season_length=2) == pytest.approx(1.5)  # |2-1|,|5-3|,|3-2|,|7-5|
    assert mase_scale(train) == pytest.approx((2 + 1 + 3 + 2 + 4) / 5)
    assert mase([4.0, 4.0], [1.0, 7.0], y_train=train, season_length=2) == pytest.approx(2.0)
    assert mase([4.0, 4.0], [1.0, 7.0], scale=np.array([1.0, 3.0])) == pytest.approx(2.0)


def test_smape_counts_zero_over_zero_as_zero():
    assert smape([0.0, 1.0], [0.0, 1.0]) == 0.0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mae([1, 2], [1]), "same shape"),
        (lambda: mse([], []), "empty"),
        (lambda: mape([0.0, 1.0], [1.0, 1.0]), "zeros"),
        (lambda: mase([1.0], [2.0], y_train=[3.0, 3.0, 3.0]), "scale 0"),
        (lambda: mase([1.0], [2.0]), "y_train"),
        (lambda: mase_scale([1.0, 2.0], season_length=2), "more than season_length"),
        (lambda: mase_scale([1.0, 2.0], season_length=0), "positive integer"),
    ],
)
def test_metric_errors_are_clear(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_registry_by_name():
    point = ["mae", "mape", "mase", "mse", "rmse", "smape"]
    probabilistic = ["coverage", "crps", "mean_wql", "msis", "pinball", "sql", "width"]
    assert list_metrics() == sorted(point + probabilistic)
    assert get_metric("MAE") is mae
    with pytest.raises(ValueError, match="valid names: coverage, crps, mae"):
        get_metric("wape")


def _frame() -> pd.DataFrame:
    """Two series, two windows of h=2 each; model A is off by 1, model B by 2 then 0."""
    rows = []
    for uid in ("a", "b"):
        for cutoff in ("2024-01-02", "2024-01-04"):
            ds = pd.date_range(pd.Timestamp(cutoff) + pd.Timedelta(days=1), periods=2, freq="D")
            y = np.array([10.0, 20.0])
            rows.append(
                pd.DataFrame(
                    {
                        "unique_id": uid,
                        "ds": ds,
                        "cutoff": pd.Timestamp(cutoff),
                        "y": y,
                        "A": y + 1,
                        "B": y + np.array([2.0, 0.0]),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def test_evaluate_layout_overall_and_grouped():
    frame = _frame()
    overall = evaluate(frame, metrics=["mae", "mse"])
    assert list(overall.columns) == ["metric", "A", "B"]
    assert overall["metric"].tolist() == ["mae", "mse"]
    np.testing.assert_allclose(overall["A"], [1.0, 1.0])
    np.testing.assert_allclose(overall["B"], [1.0, 2.0])

    per_series = evaluate(frame, metrics=["mae"], by="unique_id")
    assert list(per_series.columns) == ["unique_id", "metric", "A", "B"]
    assert per_series["unique_id"].tolist() == ["a", "b"]

    per_window = evaluate(frame, metrics=["rmse", "mae"], by=["unique_id", "cutoff"])
    assert list(per_window.columns) == ["unique_id", "cutoff", "metric", "A", "B"]
    assert len(per_window) == 2 * 2 * 2


def test_metrics_by_step_and_custom_metrics():
    frame = _frame()
    by_step = metrics_by_step(frame, metrics=["mae"])
    assert list(by_step.columns) == ["step", "metric", "A", "B"]
    assert by_step["step"].tolist() == [1, 2]
    np.testing.assert_allclose(by_step["B"], [2.0, 0.0])

    def max_error(y, yhat):
        return float(np.max(np.abs(y - yhat)))

    table = evaluate(frame, metrics=[max_error], models=["B"])
    assert table.to_dict("list") == {"metric": ["max_error"], "B": [2.0]}


def test_evaluate_mase_scales_each_window_by_its_training_data():
    frame = _frame()
    # training series: a rises by 1 per day until 2024-01-02, then by 3 per day
    y = np.array([0.0, 1.0, 2.0, 5.0, 8.0])
    train = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], 5),
            "ds": np.tile(pd.date_range("2023-12-31", periods=5, freq="D"), 2),
            "y": np.concatenate([y, 2 * y]),
        }
    )
    table = evaluate(frame, metrics=["mase"], by=["unique_id", "cutoff"], train_df=train)
    # scales: a, first cutoff: diffs 1,1 -> 1; second: 1,1,3,3 -> 2; b doubles them
    np.testing.assert_allclose(table["A"], [1.0, 0.5, 0.5, 0.25])
    with pytest.raises(ValueError, match="train_df"):
        evaluate(frame, metrics=["mase"])


def test_evaluate_errors():
    frame = _frame()
    with pytest.raises(ValueError, match="missing column"):
        evaluate(frame.drop(columns="y"))
    with pytest.raises(ValueError, match="no model columns"):
        evaluate(frame[["unique_id", "ds", "cutoff", "y"]])
