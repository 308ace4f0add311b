"""Users' own series (issue 13): backtests that survive one failure, gluonts at every
frequency ``read_series`` accepts, and the CLI's progress, "wrote" lines, MASE and listings."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from tests.conftest import HAS_LIGHTNING, NO_LIGHTNING
from tsattn import cli
from tsattn.evaluation import backtest, evaluate
from tsattn.evaluation.backtest import BacktestError, BacktestWarning
from tsattn.models import MODELS, Forecaster
from tsattn.models.baselines import Naive, Theta
from tsattn.models.baselines._local import LocalModel, normal_quantiles

#: the training length of window 2 of 3 (h=2) on 20 daily points: that window's cutoff
FAIL_LENGTH, FAIL_CUTOFF = 16, "2024-01-16 00:00:00"


class Flaky(LocalModel):
    """A local model (naive forecasts) whose fit of series 'b' fails at window 2."""

    def _fit_one(self, y):
        if y[0] >= 100 and len(y) == FAIL_LENGTH:
            raise np.linalg.LinAlgError("Schur decomposition solver error")
        return {}, np.zeros(1)

    def _forecast_one(self, y, meta, params, h):
        return np.full(h, y[-1])

    def _quantiles_one(self, y, meta, params, h, probs):
        return normal_quantiles(np.full(h, y[-1]), np.ones(h), probs)


class GlobalFlaky(Forecaster):
    """A global model (one fit over all series) that diverges at window 2."""

    fail_length = FAIL_LENGTH

    def __init__(self, h: int = 1, **kwargs):
        super().__init__(h, **kwargs)

    def _fit(self, data, val_size):
        if min(len(v) for v in data.values) == self.fail_length:
            raise RuntimeError("loss is NaN")

    def _predict(self, data, h):
        return np.stack([np.full(h, v[-1]) for v in data.values])


class NeedsTwoArgs(Exception):
    def __init__(self, code, detail):
        super().__init__(code, detail)


def two_series() -> pd.DataFrame:
    ds = pd.date_range("2024-01-01", periods=20, freq="D")
    return pd.concat(
        [
            pd.DataFrame({"unique_id": "a", "ds": ds, "y": np.arange(20.0)}),
            pd.DataFrame({"unique_id": "b", "ds": ds, "y": 100 + np.arange(20.0)}),
        ],
        ignore_index=True,
    )


# ---------------------------------------------------------------------------- on_error
def test_raise_names_the_model_the_series_and_the_cutoff_keeping_the_error_type():
    pattern = rf"Flaky failed on series 'b' at cutoff {FAIL_CUTOFF} \(window 2 of 3\)"
    with pytest.raises(np.linalg.LinAlgError, match=pattern) as info:
        backtest([Naive(), Flaky()], two_series(), h=2, n_windows=3)
    assert "Schur decomposition" in str(info.value) and "on_error='warn'" in str(info.value)
    assert isinstance(info.value.__cause__, np.linalg.LinAlgError)


def test_raise_on_a_global_model_names_every_series_fitted_together():
    with pytest.raises(RuntimeError, match="GlobalFlaky failed on series 'a' at cutoff") as info:
        backtest(GlobalFlaky(), two_series(), h=2, n_windows=3)
    assert f"series 'b' at cutoff {FAIL_CUTOFF} (fitted together)" in str(info.value)
    assert "loss is NaN" in str(info.value)


def test_an_exception_type_without_a_message_becomes_a_backtest_error():
    class Odd(GlobalFlaky):
        def _fit(self, data, val_size):
            raise NeedsTwoArgs(7, "odd")

    with pytest.raises(BacktestError, match="Odd failed on series 'a'") as info:
        backtest(Odd(), two_series(), h=2, n_windows=1)
    assert isinstance(info.value.__cause__, NeedsTwoArgs)


def test_warn_leaves_only_the_failed_series_and_window_nan_and_carries_on():
    df = two_series()
    with pytest.warns(
        BacktestWarning, match=rf"Flaky failed on series 'b' at cutoff {FAIL_CUTOFF}"
    ):
        frame = backtest([Flaky(), Naive()], df, h=2, n_windows=3, on_error="warn")
    assert len(frame) == 2 * 3 * 2  # series x windows x h: nothing dropped
    failed = (frame["unique_id"] == "b") & (frame["cutoff"] == pd.Timestamp(FAIL_CUTOFF))
    assert frame.loc[failed, "Flaky"].isna().all() and frame["Flaky"].dtype == np.float64
    assert np.array_equal(frame.loc[~failed, "Flaky"], frame.loc[~failed, "Naive"])
    assert frame["Naive"].notna().all()  # the other model is untouched
    assert frame.attrs["failures"] == [
        {
            "model": "Flaky",
            "unique_id": "b",
            "cutoff": pd.Timestamp(FAIL_CUTOFF),
            "error": "LinAlgError: Schur decomposition solver error",
        }
    ]


def test_evaluate_says_which_failure_made_the_nan_and_scores_the_common_windows():
    with pytest.warns(BacktestWarning):
        frame = backtest([Flaky(), Naive()], two_series(), h=2, n_windows=3, on_error="warn")
    with pytest.raises(ValueError, match="Flaky failed in the backtest .*series 'b' at cutoff"):
        evaluate(frame, metrics=["mae"])
    table = evaluate(frame.dropna(subset=["Flaky", "Naive"]), metrics=["mae"])
    assert table.loc[0, "Flaky"] == table.loc[0, "Naive"] == pytest.approx(1.5)


def test_warn_on_a_global_model_nans_the_whole_window():
    with pytest.warns(BacktestWarning, match="fitted together") as caught:
        frame = backtest([GlobalFlaky(), Naive()], two_series(), h=2, n_windows=3, on_error="warn")
    assert len([w for w in caught if w.category is BacktestWarning]) == 1
    missing = frame.loc[frame["GlobalFlaky"].isna(), "cutoff"].unique()
    assert list(missing) == [pd.Timestamp(FAIL_CUTOFF)]
    assert frame["GlobalFlaky"].isna().sum() == 4  # both series, h=2
    assert len(frame.attrs["failures"]) == 2  # one per series of the window


def test_a_failed_fit_is_refit_at_the_next_window_even_without_refit():
    class FirstFails(GlobalFlaky):
        fail_length = FAIL_LENGTH - 2  # the first window

    with pytest.warns(BacktestWarning, match=r"\(window 1 of 3\)"):
        frame = backtest(FirstFails(), two_series(), h=2, n_windows=3, refit=False, on_error="warn")
    by_window = frame.groupby("cutoff")["FirstFails"].apply(lambda v: v.isna().all())
    assert by_window.tolist() == [True, False, False]


def test_warn_with_intervals_fills_the_interval_columns_with_nan_too():
    model = Flaky()  # native intervals
    with pytest.warns(BacktestWarning):
        frame = backtest([model], two_series(), h=2, n_windows=3, level=[80], on_error="warn")
    failed = frame["Flaky"].isna()
    assert failed.sum() == 2
    assert frame.loc[failed, ["Flaky-lo-80", "Flaky-hi-80"]].isna().all().all()
    assert frame.loc[~failed, ["Flaky-lo-80", "Flaky-hi-80"]].notna().all().all()


def test_no_failure_records_nothing_and_on_error_is_checked():
    with warnings.catch_warnings():
        warnings.simplefilter("error", BacktestWarning)
        frame = backtest(Naive(), two_series(), h=2, n_windows=2, on_error="warn")
    assert frame.attrs["failures"] == []
    with pytest.raises(ValueError, match="on_error must be one of raise, warn"):
        backtest(Naive(), two_series(), h=2, on_error="ignore")


# ---------------------------------------------------------------------------- gluonts
#: every frequency read_series accepts, as it infers them
FREQUENCIES = ["15min", "h", "D", "B", "W-SUN", "MS", "ME", "QS-JAN", "QE-DEC", "YS-JAN", "YE-DEC"]


def test_period_frequency_maps_calendar_offsets_and_refuses_what_has_no_period():
    from tsattn.models.baselines.gluonts_models import period_frequency

    expected = ["15min", "h", "D", "B", "W-SUN", "M", "M", "Q-DEC", "Q-DEC", "Y-DEC", "Y-DEC"]
    assert [period_frequency(f) for f in FREQUENCIES] == expected
    assert period_frequency("QS-OCT") == "Q-SEP" and period_frequency("YE-JUN") == "Y-JUN"
    assert period_frequency("2MS") == "2M" and period_frequency("BME") == "M"
    for freq in FREQUENCIES:  # each is a valid period alias gluonts can index by
        pd.Period("2001-01-01", freq=period_frequency(freq))
    with pytest.raises(ValueError, match="cannot model frequency 'SME'"):
        period_frequency("SME")


def _gluonts(estimator: str, h: int):
    from tsattn.models.baselines.gluonts_models import GluonTSForecaster

    options = {"num_batches_per_epoch": 1, "batch_size": 8, "context_length": 8}
    options.update({"patch_len": 4} if estimator == "patchtst" else {"num_layers": 1})
    return GluonTSForecaster(estimator, h=h, max_epochs=1, estimator_kwargs=options)


@pytest.mark.skipif(not HAS_LIGHTNING, reason=NO_LIGHTNING)
@pytest.mark.slow
@pytest.mark.parametrize("freq", FREQUENCIES)
def test_gluonts_fits_and_forecasts_every_frequency(freq):
    ds = pd.date_range("2001-01-01", periods=30, freq=freq)
    df = pd.DataFrame({"unique_id": "s", "ds": ds, "y": 5 + np.sin(np.arange(30.0))})
    forecast = _gluonts("patchtst", h=3).fit(df).predict()  # the frequency is inferred
    assert list(forecast["ds"]) == list(pd.date_range(ds[-1], periods=4, freq=freq)[1:])
    assert np.isfinite(forecast["GluonTSForecaster"]).all()


@pytest.mark.skipif(not HAS_LIGHTNING, reason=NO_LIGHTNING)
@pytest.mark.slow
@pytest.mark.parametrize("freq", ["MS", "QE-DEC", "YS-JAN"])
def test_gluonts_deepar_time_features_take_calendar_frequencies(freq):
    ds = pd.date_range("2001-01-01", periods=30, freq=freq)
    df = pd.DataFrame({"unique_id": "s", "ds": ds, "y": 5 + np.sin(np.arange(30.0))})
    frame = backtest(_gluonts("deepar", h=2), df, h=2, n_windows=1)
    assert np.isfinite(frame["GluonTSForecaster"]).all()


# ---------------------------------------------------------------------------- CLI
@pytest.fixture
def monthly_csv(tmp_path):
    ds = pd.date_range("2015-01-01", periods=60, freq="MS")
    y = 50 + 10 * np.sin(2 * np.pi * np.arange(60) / 12) + np.arange(60.0)
    path = tmp_path / "monthly.csv"
    pd.DataFrame({"ds": ds, "sales": y}).to_csv(path, index=False)
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_backtest_shows_each_model_and_window_on_stderr(capsys, monthly_csv):
    code, out, err = run(
        capsys, "backtest", "--csv", monthly_csv, "--h", 6, "--models", "naive,theta"
    )
    assert code == 0 and out.splitlines()[0].split() == ["metric", "naive", "theta"]
    for model in ("naive", "theta"):
        for window in (1, 2, 3):
            assert f"backtest {model} window {window}/3" in err
    assert "6/6" in err  # how far along: fits done of all
    code, out, err = run(capsys, "backtest", "--csv", monthly_csv, "--h", 6, "--no-progress")
    assert code == 0 and err == ""


def test_backtest_and_fit_and_predict_say_where_they_wrote(capsys, monthly_csv, tmp_path):
    frame_path, plot_path = tmp_path / "out" / "bt.csv", tmp_path / "out" / "bt.png"
    code, out, err = run(
        capsys, "backtest", "--csv", monthly_csv, "--h", 6, "--out", frame_path,
        "--plot", plot_path, "--no-progress",
    )  # fmt: skip
    assert code == 0
    assert err.splitlines() == [
        f"wrote the backtest (18 rows) to {frame_path}",  # 1 series x 3 windows x h=6
        f"wrote the plot to {plot_path}",
    ]
    assert frame_path.exists() and plot_path.exists()
    assert "wrote" not in out  # stdout holds the metrics table only
    model = tmp_path / "m.safetensors"
    code, out, err = run(
        capsys, "fit", "--csv", monthly_csv, "--h", 6, "--model", "naive", "--save", model
    )
    assert code == 0 and out.strip() == f"saved naive to {model}"
    assert err.strip() == "fitting naive on 1 series (60 observations)"
    forecast = tmp_path / "f.csv"
    code, out, err = run(capsys, "predict", "--model-path", model, "--out", forecast)
    assert code == 0 and out.strip() == f"wrote 6 rows to {forecast}"


def test_backtest_metrics_mase_uses_the_training_series_and_the_season(capsys, monthly_csv):
    from tsattn.datasets import read_series

    argv = ["backtest", "--csv", monthly_csv, "--h", 6, "--metrics", "mase,mae", "--no-progress"]
    out_path = monthly_csv.parent / "bt.csv"
    code, out, _ = run(capsys, *argv, "--out", out_path)
    assert code == 0
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in out.splitlines()[1:]}
    frame = pd.read_csv(out_path, parse_dates=["ds", "cutoff"])
    train = read_series(pd.read_csv(monthly_csv), time_col="ds")
    expected = evaluate(frame, metrics=["mase"], train_df=train, season_length=12)
    assert rows["mase"] == pytest.approx(expected.iloc[0, 1:].tolist(), rel=1e-5)
    code, out, _ = run(capsys, *argv, "--season-length", 1)
    assert code == 0 and float(out.splitlines()[1].split()[1]) != pytest.approx(rows["mase"][0])


def test_backtest_on_error_warn_reports_and_scores_the_common_windows(
    capsys, monthly_csv, monkeypatch
):
    real = Theta._fit_one

    def flaky(self, y):
        if len(y) == 48:  # the second of three windows (h=6, 60 points)
            raise np.linalg.LinAlgError("singular matrix")
        return real(self, y)

    monkeypatch.setattr(Theta, "_fit_one", flaky)
    argv = ["backtest", "--csv", monthly_csv, "--h", 6, "--models", "naive,theta", "--no-progress"]
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1
    assert "theta failed on series 'sales' at cutoff 2018-12-01" in err
    assert "--on-error warn" in err
    code, out, err = run(capsys, *argv, "--on-error", "warn")
    assert code == 0 and out.splitlines()[1].split()[0] == "mae"
    lines = err.splitlines()
    assert lines[0].startswith("tsattn: warning: theta failed on series 'sales' at cutoff")
    assert "LinAlgError: singular matrix" in lines[0]
    assert lines[1].startswith("scoring the 12 of 18 rows that every model forecast")


def test_models_prints_one_clean_sentence_per_model(capsys):
    code, out, _ = run(capsys, "models")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["name", "description"]
    assert [line.split()[0] for line in lines[1:]] == MODELS.names()
    for line in lines[1:]:
        description = line.split(maxsplit=1)[1]
        assert description.endswith("."), line
        assert not re.search(r"``|:class:|:func:|:meth:|`", description), line
        assert len(re.findall(r"\.\s+[A-Z]", description)) == 0, line  # one sentence
    # every description starts in the same column (left-aligned, not right-justified)
    column = lines[0].index("description")
    assert all(line[column - 2 : column] == "  " and line[column] != " " for line in lines[1:])
