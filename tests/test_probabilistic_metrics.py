"""Probabilistic metrics by hand and against gluonts; interval columns through evaluate,
backtest, the CLI and the plots (issue 14)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

from tests.test_cli import hourly_csv, ok, tsattn  # noqa: F401  (the fixture)
from tsattn.cli import _parser, main
from tsattn.evaluation import backtest, evaluate
from tsattn.evaluation.columns import forecast_columns
from tsattn.evaluation.plots import plot_backtest
from tsattn.evaluation.quantile_metrics import (
    coverage,
    crps,
    interval_width,
    mean_weighted_quantile_loss,
    msis,
    pinball_loss,
    scaled_quantile_loss,
)
from tsattn.models import Forecaster
from tsattn.models.baselines import Naive, SeasonalNaive
from tsattn.models.intervals import level_tails

Y = np.array([2.0, 4.0, 6.0])
LO = np.array([1.0, 5.0, 3.0])  # y=4 below, others inside
HI = np.array([3.0, 7.0, 5.0])  # y=6 above


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------------------- by hand


def test_pinball_by_hand():
    # q=0.2: y=2,f=1: 0.2*1; y=4,f=5: 0.8*1; y=6,f=3: 0.2*3 -> (0.2 + 0.8 + 0.6) / 3
    assert pinball_loss(Y, LO, 0.2) == pytest.approx(1.6 / 3, abs=1e-15)
    # q=0.5 is half the absolute error
    assert pinball_loss(Y, HI, 0.5) == pytest.approx(0.5 * np.mean(np.abs(Y - HI)))


def test_crps_wql_and_sql_by_hand():
    yq, q = np.stack([LO, HI], axis=1), np.array([0.2, 0.8])
    # q=0.8 on HI: y=2,f=3: 0.2*1; y=4,f=7: 0.2*3; y=6,f=5: 0.8*1 -> 1.6 in all
    sums = np.array([1.6, 1.6])
    assert crps(Y, yq, q) == pytest.approx(np.mean(2 * sums / 3))
    assert mean_weighted_quantile_loss(Y, yq, q) == pytest.approx(np.mean(2 * sums / 12))
    scale = np.array([1.0, 2.0, 4.0])
    by_hand = np.mean(
        [2 * np.mean(np.array(r) / scale) for r in ([0.2, 0.8, 0.6], [0.2, 0.6, 0.8])]
    )
    assert scaled_quantile_loss(Y, yq, q, scale=scale) == pytest.approx(by_hand)
    # with the median alone, sql is the MASE of the median
    assert scaled_quantile_loss(Y, LO[:, None], [0.5], scale=2.0) == pytest.approx(
        np.mean(np.abs(Y - LO)) / 2.0
    )


def test_coverage_width_and_msis_by_hand():
    assert coverage(Y, LO, HI) == pytest.approx(100 / 3)  # only y=2 inside
    assert coverage(Y, Y, Y) == 100.0  # the ends count as inside
    assert interval_width(Y, LO, HI) == pytest.approx(2.0)
    # level 80: a = 0.2, 2/a = 10: widths 2 each; y=4 is 1 below; y=6 is 1 above
    assert msis(Y, LO, HI, level=80, scale=1.0) == pytest.approx((2 + 12 + 12) / 3)
    assert msis(Y, LO, HI, level=80, scale=np.array([1.0, 2.0, 4.0])) == pytest.approx(
        (2 + 6 + 3) / 3
    )
    assert msis(Y, LO, HI, level=95, scale=2.0) == pytest.approx((2 + 42 + 42) / 3 / 2)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: crps(Y, np.ones((3, 2)), [0.5]), "shape"),
        (lambda: crps(Y, np.ones((3, 1)), [1.5]), "between 0 and 1"),
        (lambda: crps(Y, np.full((3, 1), np.nan), [0.5]), "NaN"),
        (lambda: mean_weighted_quantile_loss([0.0], [[1.0]], [0.5]), "every actual value is 0"),
        (lambda: scaled_quantile_loss(Y, Y[:, None], [0.5]), "scale="),
        (lambda: msis(Y, LO, HI, scale=0.0), "scale 0"),
        (lambda: msis(Y, LO, HI, level=100, scale=1.0), "between 0 and 100"),
        (lambda: coverage(Y, LO[:2], HI), "same shape"),
    ],
)
def test_probabilistic_metric_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------------------- gluonts


def _random_backtest(seed: int = 0):
    """3 series x 2 windows of 6 steps with quantile columns for level 80, 95 and q 0.5."""
    rng = np.random.default_rng(seed)
    history, rows = [], []
    for uid, level in (("a", 10.0), ("b", -3.0), ("c", 50.0)):
        y = level + np.cumsum(rng.normal(0, 1, 60))
        ds = pd.date_range("2024-01-01", periods=60, freq="D")
        history.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y}))
        for cut in (47, 53):
            point = y[cut] + rng.normal(0, 0.5, 6)
            spread = np.abs(rng.normal(1.5, 0.5, 6))
            row = {
                "unique_id": uid,
                "ds": ds[cut + 1 : cut + 7],
                "cutoff": ds[cut],
                "y": y[cut + 1 : cut + 7],
                "M": point,
                "M-q-0.5": point,
            }
            for lvl, z in ((80, 1.2816), (95, 1.96)):
                row[f"M-lo-{lvl}"] = point - z * spread
                row[f"M-hi-{lvl}"] = point + z * spread
            rows.append(pd.DataFrame(row))
    return pd.concat(rows, ignore_index=True), pd.concat(history, ignore_index=True)


def _gluonts_metrics(frame: pd.DataFrame, history: pd.DataFrame, season: int):
    """gluonts' Evaluator on the same forecasts: one item per (series, window)."""
    from gluonts.evaluation import Evaluator
    from gluonts.model.forecast import QuantileForecast

    columns = forecast_columns(frame.columns)["M"].quantiles  # probability -> column
    series, forecasts = [], []
    for (uid, _), window in frame.groupby(["unique_id", "cutoff"], sort=True):
        past = history[(history["unique_id"] == uid) & (history["ds"] <= window["ds"].max())]
        index = pd.PeriodIndex(past["ds"], freq="D")
        series.append(pd.Series(past["y"].to_numpy(), index=index))
        arrays = np.stack([window[c].to_numpy() for c in columns.values()])
        start = pd.Period(window["ds"].min(), freq="D")
        keys = [str(p) for p in columns]
        forecasts.append(QuantileForecast(arrays, start, keys, item_id=str(uid)))
    evaluator = Evaluator(quantiles=list(columns), seasonality=season, num_workers=None)
    totals, _ = evaluator(iter(series), iter(forecasts), num_series=len(series))
    return totals


@pytest.mark.filterwarnings("ignore:crps, pinball pool 3 series")
def test_mean_wql_crps_pinball_and_msis_equal_gluonts_evaluator():
    frame, history = _random_backtest()
    ours = evaluate(
        frame,
        metrics=["mean_wql", "crps", "pinball", "msis", "coverage"],
        train_df=history,
        season_length=7,
    ).set_index("metric")["M"]
    theirs = _gluonts_metrics(frame, history, season=7)
    assert ours["mean_wql"] == pytest.approx(theirs["mean_wQuantileLoss"], abs=1e-9, rel=0)
    n, total = len(frame), frame["y"].abs().sum()
    for p in (0.025, 0.1, 0.5, 0.9, 0.975):
        # gluonts: QuantileLoss = 2 sum pinball, wQuantileLoss = QuantileLoss / sum |y|
        assert 2 * n * ours[f"pinball-{p!r}"] == pytest.approx(
            theirs[f"QuantileLoss[{p}]"], abs=1e-9, rel=0
        )
        assert 2 * n * ours[f"pinball-{p!r}"] / total == pytest.approx(
            theirs[f"wQuantileLoss[{p}]"], abs=1e-9, rel=0
        )
    assert ours["crps"] == pytest.approx(theirs["mean_wQuantileLoss"] * total / n, abs=1e-9)
    assert ours["msis-95"] == pytest.approx(theirs["MSIS"], abs=1e-9, rel=0)  # alpha 0.05
    for level in (80, 95):  # continuous data, no ties: two-sided = difference of one-sided
        low, high = level_tails(level)
        expected = 100 * (theirs[f"Coverage[{high}]"] - theirs[f"Coverage[{low}]"])
        assert ours[f"coverage-{level}"] == pytest.approx(expected, abs=1e-9)


def test_metric_functions_equal_gluonts_metric_functions():
    from gluonts.evaluation import metrics as gm

    frame, _ = _random_backtest(seed=3)
    y, lo, hi = (frame[c].to_numpy() for c in ("y", "M-lo-95", "M-hi-95"))
    for q, column in ((0.025, "M-lo-95"), (0.975, "M-hi-95"), (0.5, "M-q-0.5")):
        forecast = frame[column].to_numpy()
        assert 2 * len(y) * pinball_loss(y, forecast, q) == pytest.approx(
            gm.quantile_loss(y, forecast, q), abs=1e-9, rel=0
        )
    assert msis(y, lo, hi, level=95, scale=1.7) == pytest.approx(
        gm.msis(y, lo, hi, seasonal_error=1.7, alpha=0.05), abs=1e-9, rel=0
    )


# ---------------------------------------------------------------------------- evaluate


def _hand_frame() -> pd.DataFrame:
    ds = pd.date_range("2024-01-02", periods=3, freq="D")
    return pd.DataFrame(
        {
            "unique_id": "a",
            "ds": ds,
            "cutoff": pd.Timestamp("2024-01-01"),
            "y": Y,
            "M": (LO + HI) / 2,
            "M-lo-80": LO,
            "M-hi-80": HI,
            "M-q-0.5": (LO + HI) / 2,
            "N": Y + 1.0,
        }
    )


def test_evaluate_scores_intervals_per_level_and_never_as_models():
    frame = _hand_frame()
    train = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2023-12-01", periods=32), "y": np.arange(32.0)}
    )  # naive (season 1) MAE 1
    table = evaluate(
        frame,
        metrics=["mae", "coverage", "width", "msis"],
        train_df=train,
        models=["M"],
        season_length=1,  # None would be daily data's 7
    )
    assert list(table.columns) == ["metric", "M"]
    assert table.set_index("metric")["M"].to_dict() == pytest.approx(
        {
            "mae": np.mean(np.abs(Y - (LO + HI) / 2)),
            "coverage-80": 100 / 3,
            "width-80": 2.0,
            "msis-80": 26 / 3,
        }
    )
    point = evaluate(frame, metrics=["mae"])
    assert list(point.columns) == ["metric", "M", "N"]  # no M-lo-80 / M-q-0.5 "models"
    per_q = evaluate(frame, metrics=["pinball"], models=["M"])
    assert per_q["metric"].tolist() == ["pinball-0.1", "pinball-0.5", "pinball-0.9"]
    assert per_q["M"].iloc[0] == pytest.approx(pinball_loss(Y, LO, 0.1))


def test_a_probabilistic_metric_of_a_model_without_intervals_names_it_and_level():
    with pytest.raises(
        ValueError, match=r"'coverage' needs prediction intervals of model 'N'.*level="
    ):
        evaluate(_hand_frame(), metrics=["coverage"])
    with pytest.raises(
        ValueError, match=r"'crps' needs quantile forecasts of model 'N'.*quantiles="
    ):
        evaluate(_hand_frame(), metrics=["crps"])
    with pytest.raises(
        ValueError, match="'M-lo-80' is an interval or quantile column of model 'M'"
    ):
        evaluate(_hand_frame(), metrics=["mae"], models=["M-lo-80"])


def test_a_level_missing_from_one_model_is_an_error():
    frame = _hand_frame().assign(**{"N-lo-95": Y - 1, "N-hi-95": Y + 1})
    with pytest.raises(ValueError, match=r"needs a 95% interval of model 'M'.*M-lo-95, M-hi-95"):
        evaluate(frame, metrics=["coverage"])


def test_nan_in_an_interval_column_is_an_error():
    frame = _hand_frame()
    frame.loc[1, "M-hi-80"] = np.nan
    with pytest.raises(ValueError, match="forecast column 'M-hi-80' has 1 NaN"):
        evaluate(frame, metrics=["coverage"], models=["M"])


# ---------------------------------------------------------------------------- backtest


class Spread(Forecaster):
    """Last value as the point forecast; quantile p at point + (p - 0.5) (a stub)."""

    supports_quantiles = True

    def __init__(self, h: int = 1, **kwargs):
        super().__init__(h, **kwargs)

    def _fit(self, data, val_size):
        pass

    def _predict(self, data, h):
        return np.stack([np.full(h, v[-1]) for v in data.values])

    def _predict_quantiles(self, data, h, probs):
        return self._predict(data, h)[:, :, None] + (probs - 0.5)[None, None, :]

    def min_train_length(self, val_size=0):
        return 1


def _daily(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = 10 + np.sin(2 * np.pi * np.arange(n) / 7) + rng.normal(0, 0.3, n)
    return pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024", periods=n), "y": y})


def test_backtest_carries_interval_and_quantile_columns_with_the_cutoff():
    frame = backtest(Spread(h=3), _daily(), h=3, n_windows=2, level=[80, 95], quantiles=[0.5])
    assert list(frame.columns) == [
        "unique_id",
        "ds",
        "cutoff",
        "y",
        "Spread",
        "Spread-lo-80",
        "Spread-hi-80",
        "Spread-lo-95",
        "Spread-hi-95",
        "Spread-q-0.5",
    ]
    assert np.allclose(frame["Spread-lo-80"], frame["Spread"] - 0.4)
    assert np.allclose(frame["Spread-hi-95"], frame["Spread"] + 0.475)
    assert np.allclose(frame["Spread-q-0.5"], frame["Spread"])
    assert frame["cutoff"].nunique() == 2
    refit_once = backtest(Spread(h=3), _daily(), h=3, n_windows=2, refit=False, level=[80])
    assert np.allclose(refit_once["Spread-hi-80"], frame["Spread-hi-80"])


def test_backtest_errors_on_bad_levels_and_models_without_intervals():
    with pytest.raises(ValueError, match="level values must lie strictly between"):
        backtest(Spread(h=3), _daily(), h=3, level=[100])
    from tsattn.models.baselines import SklearnForecaster

    with pytest.raises(ValueError, match="no native intervals"):
        backtest(SklearnForecaster(h=3, lags=7), _daily(), h=3, level=[80])


def test_end_to_end_seasonal_naive_and_conformal_intervals_cover():
    df = pd.concat([_daily(200, seed=s).assign(unique_id=str(s)) for s in range(4)])
    models = [
        SeasonalNaive(season_length=7, h=7),
        Naive(h=7, alias="conformal", intervals="conformal", conformal_windows=8),
    ]
    frame = backtest(models, df, h=7, n_windows=8, level=[80, 95])
    table = evaluate(
        frame, metrics=["coverage", "width", "msis", "mean_wql"], train_df=df, season_length=7
    ).set_index("metric")
    assert table.loc["coverage-80", "SeasonalNaive"] == pytest.approx(80, abs=12)
    assert table.loc["coverage-95", "SeasonalNaive"] == pytest.approx(95, abs=8)
    assert (table.loc["width-95"] > table.loc["width-80"]).all()
    assert (table.loc["mean_wql"] > 0).all()


# ---------------------------------------------------------------------------- CLI


def test_level_option_parses_percentages():
    args = _parser().parse_args(["backtest", "--csv", "x.csv", "--h", "3", "--level", "80,95,99.5"])
    assert args.level == [80, 95, 99.5]
    args = _parser().parse_args(["predict", "--model-path", "m", "--level", "90"])
    assert args.level == [90]
    assert _parser().parse_args(["predict", "--model-path", "m"]).level is None


@pytest.mark.parametrize(
    "level, message",
    [
        ("80,abc", "expected levels in percent"),
        ("100", "strictly between 0 and 100"),
        ("0", "strictly between"),
        (",", "at least one level"),
        ("80,80", "distinct"),
        ("nan", "strictly between"),
    ],
)
def test_bad_levels_are_one_line_with_exit_code_2(level, message, tmp_path, hourly_csv):  # noqa: F811
    done = tsattn(f"backtest --csv {{csv}} --time-col date --h 24 --level {level}", csv=hourly_csv)
    assert done.returncode == 2
    assert done.stderr.startswith("tsattn: error: argument --level: ")
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert message in done.stderr


def test_cli_backtest_with_level_prints_coverage_and_msis_and_plots_bands(tmp_path, hourly_csv):  # noqa: F811
    out = ok(
        "backtest --csv {csv} --time-col date --h 24 --n-windows 2 --season-length 24 "
        "--models naive,seasonal_naive:season_length=24 --level 80,95 --out {out} --plot {plot}",
        csv=hourly_csv,
        out=tmp_path / "bt.csv",
        plot=tmp_path / "bt.png",
    )
    names = [line.split()[0] for line in out.splitlines()[1:]]
    assert names == [
        "mae",
        "mse",
        "rmse",
        "smape",
        "coverage-80",
        "coverage-95",
        "msis-80",
        "msis-95",
    ]
    frame = pd.read_csv(tmp_path / "bt.csv")
    assert "naive-lo-95" in frame.columns and "seasonal_naive-hi-80" in frame
    assert (tmp_path / "bt.png").stat().st_size > 1000


def test_cli_predict_with_level_and_a_model_without_intervals(tmp_path, hourly_csv, capsys):  # noqa: F811
    """In process (main), as the subprocess tests above already cover the entry point."""
    model, sk, out = tmp_path / "naive.safetensors", tmp_path / "sk.safetensors", tmp_path / "f.csv"
    fit = ["fit", "--csv", str(hourly_csv), "--time-col", "date", "--h", "6", "--save"]
    assert main([*fit, str(model), "--model", "naive"]) == 0
    assert main(["predict", "--model-path", str(model), "--level", "80", "--out", str(out)]) == 0
    forecast = pd.read_csv(out)
    assert list(forecast.columns) == ["unique_id", "ds", "naive", "naive-lo-80", "naive-hi-80"]
    assert (forecast["naive-lo-80"] < forecast["naive"]).all()
    assert main([*fit, str(sk), "--model", "sklearn:lags=24"]) == 0
    capsys.readouterr()
    assert main(["predict", "--model-path", str(sk), "--level", "80"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tsattn: error: ") and err.strip().count("\n") == 0
    assert "no native intervals" in err and "conformal" in err


# ---------------------------------------------------------------------------- plots


def test_plot_backtest_draws_interval_bands_lighter_for_the_wider_level():
    frame = backtest(Spread(h=3), _daily(), h=3, n_windows=2, level=[80, 95])
    fig = plot_backtest(frame)
    bands = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2 * 2  # 2 windows x 2 levels
    by_label = {b.get_label(): b.get_alpha() for b in bands if not b.get_label().startswith("_")}
    assert by_label["Spread 95%"] < by_label["Spread 80%"]
    lines = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "Spread-lo-80" not in lines and "Spread" in lines


def test_plot_backtest_without_intervals_draws_no_bands():
    frame = backtest(Spread(h=3), _daily(), h=3, n_windows=2)
    fig = plot_backtest(frame)
    assert not [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
