"""Time axes users have (issue 22): long yearly spans, dates before 1677 (microseconds),
integer time steps, and time zones mixed in a CSV; plus the models package's import graph
(series data apart from the base class, so no module imports another back)."""

from __future__ import annotations

import ast
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import tsattn
from tsattn import cli
from tsattn.datasets import read_series, validate_long_frame
from tsattn.datasets.frequency import infer_frequency, season_length
from tsattn.datasets.grid import future_dates, regular_series
from tsattn.evaluation import backtest, evaluate
from tsattn.evaluation.plots import plot_backtest
from tsattn.models import load
from tsattn.models.baselines import Naive, SeasonalNaive

MODELS_DIR = Path(tsattn.__file__).parent / "models"


def series(ds, uid="a") -> pd.DataFrame:
    """One long series on the time axis ``ds``, values 0, 1, 2, ..."""
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.arange(len(ds), dtype=float)})


def yearly_from(year: int, n: int, unit: str = "s") -> pd.Series:
    """``n`` year starts from ``year`` in ``unit``."""
    return pd.Series(pd.date_range(f"{year}-01-01", periods=n, freq="YS", unit=unit))


def _model_imports(path: Path) -> set[str]:
    """The ``tsattn.models.<module>`` names a file imports (anywhere, type-only included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tsattn.models."):
            found.add(node.module.split(".")[2])
    return found


def test_base_intervals_and_persistence_import_no_module_back():
    names = ("base", "intervals", "persistence", "series_data", "catalog")
    graph = {name: _model_imports(MODELS_DIR / f"{name}.py") for name in names}
    for name, targets in graph.items():
        for target in targets & set(graph):
            assert name not in graph[target], f"models: {name} <-> {target}"


# ---- spans longer than a Timedelta (292 years) -----------------------------------------


def test_a_yearly_series_over_320_years_validates_fills_and_forecasts():
    # was: OutOfBoundsDatetime "Result is too large for pandas.Timedelta" (grid end - start)
    ds = yearly_from(1700, 320, unit="ns")
    assert validate_long_frame(series(ds)).freq == "YS-JAN"
    gappy = series(ds).drop(index=[100, 200])
    filled = read_series(gappy, fill="ffill")
    assert len(filled) == 320 and filled["y"].iloc[100] == 99.0
    forecast = Naive(h=2).fit(series(ds)).predict()
    assert forecast["ds"].dt.year.tolist() == [2020, 2021]


def test_a_fixed_step_over_300_years_fills_without_timedelta_overflow():
    ds = pd.Series(pd.date_range("1700-01-01", periods=320, freq="365D"))  # spans 320 years
    filled = read_series(series(ds).drop(index=[5]), fill="zero")
    assert len(filled) == 320 and filled["y"].iloc[5] == 0.0


def test_series_three_centuries_apart_share_future_dates_and_regularity():
    last = pd.DatetimeIndex(["1700-01-01", "2000-01-01"])
    got = future_dates(last, 2, "YS").year.tolist()
    assert got == [1701, 1702, 2001, 2002]
    times = pd.DatetimeIndex(["1700-01-01", "1701-01-01", "2000-01-01", "2002-01-01"])
    assert regular_series(times, np.array([0, 2, 4]), "YS").tolist() == [True, False]


# ---- dates outside nanoseconds (before 1677, after 2262) -------------------------------


def test_seconds_before_1677_read_in_microseconds_with_the_values_and_frequency():
    # was: "outside the range pandas can hold" although pandas holds datetime64[s] fine
    ds = yearly_from(1659, 30)
    checked = validate_long_frame(series(ds))
    assert checked.freq == "YS-JAN"
    assert checked.frame["ds"].dtype == "datetime64[us]"
    assert checked.frame["ds"].dt.year.tolist() == list(range(1659, 1689))


def test_a_csv_from_1659_parses_at_a_coarser_unit(tmp_path):
    path = tmp_path / "old.csv"
    series(yearly_from(1659, 12)).to_csv(path, index=False)
    frame = read_series(path)
    assert frame["ds"].dtype == "datetime64[us]"
    assert frame["ds"].iloc[0] == pd.Timestamp("1659-01-01")


def test_in_range_seconds_still_become_nanoseconds():
    frame = read_series(series(yearly_from(1959, 12)))
    assert frame["ds"].dtype == "datetime64[ns]"


def test_old_daily_and_yearly_series_forecast_the_next_dates():
    daily = series(pd.Series(pd.date_range("1600-03-01", periods=20, freq="D", unit="s")))
    forecast = Naive(h=3).fit(daily).predict()
    assert forecast["ds"].dt.strftime("%Y-%m-%d").tolist() == [
        "1600-03-21",
        "1600-03-22",
        "1600-03-23",
    ]
    yearly = SeasonalNaive(h=2, season_length=2).fit(series(yearly_from(1659, 30))).predict()
    assert yearly["ds"].dt.year.tolist() == [1689, 1690]
    assert yearly["SeasonalNaive"].tolist() == [28.0, 29.0]


def test_forecasts_past_2262_come_in_microseconds():
    # was: "go past the last date pandas can represent; forecast fewer steps"
    forecast = Naive(h=5).fit(series(yearly_from(2230, 30, unit="ns"))).predict()
    assert forecast["ds"].dt.year.tolist() == [2260, 2261, 2262, 2263, 2264]


def test_dates_beyond_microseconds_are_a_clear_error():
    ds = pd.Series(np.array(["-300000-01-01", "-299999-01-01"], dtype="datetime64[s]"))
    with pytest.raises(ValueError, match="column 'ds'.*outside the range tsattn handles"):
        read_series(series(ds))


def test_backtest_and_evaluate_on_a_series_from_1659():
    frame = backtest(Naive(), series(yearly_from(1659, 30)), h=2, n_windows=2)
    assert frame["cutoff"].dt.year.unique().tolist() == [1684, 1686]
    assert (frame["y"] - frame["Naive"]).tolist() == [1.0, 2.0, 1.0, 2.0]
    assert evaluate(frame, metrics=["mae"])["Naive"].iloc[0] == 1.5


def test_a_model_fitted_before_1677_keeps_its_last_date_through_save_and_load(tmp_path):
    model = Naive(h=2).fit(series(yearly_from(1659, 30)))
    loaded = load(model.save(tmp_path / "old.safetensors"))
    assert loaded._history.last_ds == [pd.Timestamp("1688-01-01")]
    assert loaded._history.last_ds[0].unit == "us"
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


# ---- integer time steps ------------------------------------------------------------------


def test_integer_steps_are_a_time_axis_of_frequency_one():
    checked = validate_long_frame(series(np.arange(10, 20)))
    assert checked.freq == "1" and checked.frame["ds"].dtype == np.int64
    assert checked.frame["ds"].tolist() == list(range(10, 20))
    assert infer_frequency(pd.Series([3, 4, 6])) == "1" and season_length("1") == 1
    nullable = series(pd.array(range(5), dtype="Int64"))
    assert read_series(nullable)["ds"].dtype == np.int64
    wide = pd.DataFrame({"step": np.arange(6), "a": np.arange(6.0), "b": np.ones(6)})
    assert read_series(wide, time_col="step")["ds"].tolist() == list(range(6)) * 2


def test_integer_steps_forecast_last_plus_one_to_last_plus_h_per_series():
    df = pd.concat([series(np.arange(0, 12), "a"), series(np.arange(100, 106), "b")])
    forecast = SeasonalNaive(h=3, season_length=3).fit(df).predict()
    assert forecast["ds"].tolist() == [12, 13, 14, 106, 107, 108]
    assert forecast["SeasonalNaive"].tolist() == [9.0, 10.0, 11.0, 3.0, 4.0, 5.0]
    no_season = SeasonalNaive(h=2).fit(df).predict()  # season from the frequency: 1
    assert no_season["SeasonalNaive"].tolist() == [11.0, 11.0, 5.0, 5.0]


@pytest.mark.parametrize(
    "steps, message",
    [
        ([0, 1, 2, 4, 5], "not regular at frequency '1': first offending timestamp 4 "),
        ([0, 1, 1, 2, 3], "duplicate timestamp 1"),
        ([0, 2, 1, 3, 4], "not in time order: 1 comes after"),
        ([0, 10, 20, 30, 40], r"advance by 10, not 1.*df\['ds'\] // 10"),
    ],
    ids=["gap", "duplicate", "unsorted", "step-10"],
)
def test_integer_gaps_duplicates_disorder_and_wide_steps_are_clear_errors(steps, message):
    with pytest.raises(ValueError, match=message):
        read_series(series(np.array(steps)))


def test_integer_gaps_fill_and_missing_steps_are_named():
    filled = read_series(series(np.array([0, 1, 3])), fill="interpolate")
    assert filled["ds"].tolist() == [0, 1, 2, 3] and filled["y"].tolist() == [0.0, 1.0, 1.5, 2.0]
    with pytest.raises(ValueError, match="column 'ds': 1 time step.*missing.*row 2"):
        read_series(series(pd.array([0, 1, None], dtype="Int64")))


def test_a_frequency_that_does_not_suit_the_axis_is_refused():
    with pytest.raises(ValueError, match="holds integer time steps.*freq='D'"):
        read_series(series(np.arange(5)), freq="D")
    with pytest.raises(ValueError, match="freq='1' is the step of integer time steps"):
        read_series(series(pd.date_range("2024", periods=5, freq="D")), freq="1")
    assert validate_long_frame(series(np.arange(5)), freq="1").freq == "1"


def test_floats_in_the_time_column_are_still_refused_with_the_integer_hint():
    with pytest.raises(ValueError, match=r"holds numbers.*astype\('int64'\)"):
        read_series(series(np.arange(5.0)))


def test_backtest_evaluate_and_plot_on_integer_steps():
    df = series(np.arange(50, 80))
    frame = backtest([Naive(), SeasonalNaive(season_length=4)], df, h=2, n_windows=3, step=1)
    assert frame["cutoff"].unique().tolist() == [75, 76, 77]
    assert frame["ds"].dtype == np.int64 and frame["ds"].tolist()[:2] == [76, 77]
    assert evaluate(frame, metrics=["mae"])["Naive"].iloc[0] == 1.5
    with pytest.raises(ValueError, match="integer time steps: start must be an int position"):
        backtest(Naive(), df, h=2, start="2024-01-01")
    assert backtest(Naive(), df, h=2, start=0.9)["cutoff"].tolist()[0] == 76
    matplotlib.use("Agg")
    figure = plot_backtest(frame, history=df)
    assert figure.axes[0].get_xlim()[1] > 75


def test_a_model_on_integer_steps_keeps_its_last_step_through_save_and_load(tmp_path):
    model = SeasonalNaive(h=3, season_length=2).fit(series(np.arange(-5, 7)))
    loaded = load(model.save(tmp_path / "steps.safetensors"))
    assert loaded._history.last_ds == [6] and loaded._history.freqs == ["1"]
    assert loaded.predict()["ds"].tolist() == [7, 8, 9]
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


def test_the_cli_fits_predicts_and_backtests_an_integer_time_column(tmp_path, capsys):
    path, saved = tmp_path / "steps.csv", tmp_path / "model.safetensors"
    pd.DataFrame({"step": np.arange(40), "sales": np.arange(40.0) % 5}).to_csv(path, index=False)
    common = ["--csv", str(path), "--time-col", "step"]
    assert cli.main(["backtest", *common, "--h", "2", "--models", "naive"]) == 0
    assert "mae" in capsys.readouterr().out
    assert cli.main(["fit", *common, "--model", "naive", "--h", "2", "--save", str(saved)]) == 0
    assert cli.main(["predict", "--model-path", str(saved)]) == 0
    out = capsys.readouterr().out
    assert " 40 " in out and " 41 " in out


# ---- time zones mixed in a CSV -------------------------------------------------------------


def test_a_csv_mixing_aware_and_naive_timestamps_names_the_rows(tmp_path):
    # was: TypeError "Cannot compare tz-naive and tz-aware timestamps"
    path = tmp_path / "mixed.csv"
    path.write_text("ds,y\n2024-01-01 00:00,1\n2024-01-02 00:00+01:00,2\n2024-01-03 00:00,3\n")
    with pytest.raises(ValueError) as err:
        read_series(path)
    message = str(err.value)
    assert "column 'ds' mixes timestamps with a time zone (row(s) 1 (1 in all)" in message
    assert "without one (row(s) 0, 2 (2 in all)" in message


def test_a_csv_across_daylight_saving_reads_in_utc(tmp_path):
    # was: AttributeError (two UTC offsets made pandas return objects)
    ds = pd.date_range("2024-03-30 22:00", periods=8, freq="h", tz="Europe/Paris")
    path = tmp_path / "dst.csv"
    series(ds).to_csv(path, index=False)
    frame = read_series(path)
    assert str(frame["ds"].dt.tz) == "UTC"
    assert frame["ds"].tolist() == list(ds.tz_convert("UTC"))


def test_gluonts_takes_dates_before_1677_and_refuses_integer_steps_clearly():
    pytest.importorskip("gluonts")
    from tsattn.models.baselines.gluonts_models import _dataset, period_frequency
    from tsattn.models.series_data import SeriesData

    last = pd.Timestamp("1688-01-01").as_unit("us")
    data = SeriesData(["a"], [np.arange(30.0)], [last], ["YS-JAN"])
    entry = next(iter(_dataset(data)))
    assert str(entry["start"]) == "1659"
    with pytest.raises(ValueError, match="GluonTSForecaster needs timestamps"):
        period_frequency("1")
