"""Covariates on the command line: --future-covariates, --past-covariates, --static-csv,
--calendar, --holidays, --ignore-covariates on fit and backtest, --futr-csv on predict, and
their errors in one line that names the flag to use. Tiny models (nlinear, 5 steps), run in
process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsattn import cli

H = 12
NLINEAR = "nlinear:max_steps=5"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("tsattn: error: ") and "Traceback" not in err, err
    return lines[-1]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Two hourly series driven by a future-known ``x``, with a past-only ``p``; the future
    ``x`` for the H hours after the end; one static column ``s``."""
    folder = tmp_path_factory.mktemp("cli_covariates")
    rng = np.random.default_rng(0)
    ds = pd.date_range("2024-01-01", periods=120, freq="h")
    after = pd.date_range(ds[-1] + pd.Timedelta(hours=1), periods=H, freq="h")
    frames, futures = [], []
    for uid, level in (("a", 0.0), ("b", 5.0)):
        x, p = rng.normal(size=len(ds)), rng.normal(size=len(ds))
        y = level + np.sin(2 * np.pi * np.arange(len(ds)) / 24) + 2 * x
        frames.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y, "x": x, "p": p}))
        futures.append(pd.DataFrame({"unique_id": uid, "ds": after, "x": rng.normal(size=H)}))
    paths = {
        "csv": folder / "series.csv",
        "futr": folder / "futr.csv",
        "static": folder / "static.csv",
        "dir": folder,
    }
    pd.concat(frames).to_csv(paths["csv"], index=False)
    pd.concat(futures).to_csv(paths["futr"], index=False)
    pd.DataFrame({"unique_id": ["a", "b"], "s": [0.0, 1.0]}).to_csv(paths["static"], index=False)
    return paths


@pytest.fixture(scope="module")
def futr_model(files) -> Path:
    """nlinear fitted with the future-known ``x``."""
    path = files["dir"] / "futr.safetensors"
    argv = ["fit", "--csv", files["csv"], "--model", NLINEAR, "--input-size", 24, "--h", H,
            "--future-covariates", "x", "--save", path, "--no-progress"]  # fmt: skip
    assert cli.main([str(a) for a in argv]) == 0
    return path


def fit_argv(files, *extra) -> list:
    return ["fit", "--csv", files["csv"], "--model", NLINEAR, "--input-size", 24, "--h", H,
            "--no-progress", *extra]  # fmt: skip


def backtest_argv(files, models: str, *extra) -> list:
    return ["backtest", "--csv", files["csv"], "--models", models, "--input-size", 24,
            "--h", H, "--n-windows", 2, "--no-progress", *extra]  # fmt: skip


def test_fit_with_future_covariates_then_predict_with_futr_csv(capsys, files, futr_model):
    out_path = files["dir"] / "forecast.csv"
    code, out, err = run(
        capsys, "predict", "--model-path", futr_model, "--futr-csv", files["futr"],
        "--out", out_path,
    )  # fmt: skip
    assert code == 0, err
    forecast = pd.read_csv(out_path, parse_dates=["ds"])
    assert forecast.groupby("unique_id").size().to_dict() == {"a": H, "b": H}
    assert forecast["nlinear"].notna().all()
    futr = pd.read_csv(files["futr"], parse_dates=["ds"])
    assert sorted(forecast["ds"].unique()) == sorted(futr["ds"].unique())


def test_predict_without_futr_csv_is_one_line_naming_the_flag(capsys, futr_model):
    code, _, err = run(capsys, "predict", "--model-path", futr_model)
    line = one_line_error(code, err)
    assert "--futr-csv" in line and "'x'" not in line and " x " in line
    assert "futr_df" not in line


def test_a_short_futr_csv_is_the_library_error_in_the_cli_words(capsys, files, futr_model):
    short = files["dir"] / "futr_short.csv"
    futr = pd.read_csv(files["futr"])
    futr[futr["unique_id"] == "a"].to_csv(short, index=False)
    code, _, err = run(capsys, "predict", "--model-path", futr_model, "--futr-csv", short)
    line = one_line_error(code, err)
    assert "--futr-csv" in line and "'b'" in line and "futr_df" not in line


def test_a_futr_csv_without_the_column_names_it(capsys, files, futr_model):
    bad = files["dir"] / "futr_no_x.csv"
    pd.read_csv(files["futr"]).rename(columns={"x": "z"}).to_csv(bad, index=False)
    code, _, err = run(capsys, "predict", "--model-path", futr_model, "--futr-csv", bad)
    line = one_line_error(code, err)
    assert "--futr-csv" in line and "x" in line


def test_backtest_with_future_and_past_covariates_has_the_model_column(capsys, files):
    out_path = files["dir"] / "backtest.csv"
    argv = backtest_argv(files, NLINEAR, "--future-covariates", "x", "--past-covariates", "p")
    code, out, err = run(capsys, *argv, "--out", out_path)
    assert code == 0, err
    frame = pd.read_csv(out_path)
    assert list(frame.columns) == ["unique_id", "ds", "cutoff", "y", "nlinear"]
    assert len(frame) == 2 * 2 * H and frame["nlinear"].notna().all()
    assert out.splitlines()[0].split() == ["metric", "nlinear"]


def test_static_csv_fits_and_predicts(capsys, files):
    path = files["dir"] / "static.safetensors"
    code, _, err = run(capsys, *fit_argv(files, "--static-csv", files["static"], "--save", path))
    assert code == 0, err
    code, out, err = run(capsys, "predict", "--model-path", path)
    assert code == 0, err
    assert len(out.strip().splitlines()) == 1 + 2 * H


def test_static_csv_without_a_series_row_is_an_error(capsys, files):
    partial = files["dir"] / "static_partial.csv"
    pd.DataFrame({"unique_id": ["a"], "s": [0.0]}).to_csv(partial, index=False)
    code, _, err = run(capsys, *fit_argv(files, "--static-csv", partial, "--save",
                                         files["dir"] / "never.safetensors"))  # fmt: skip
    line = one_line_error(code, err)
    assert "--static-csv" in line and "'b'" in line and "static_df" not in line


@pytest.mark.parametrize("calendar", [[], ["hour,dayofweek"]])
def test_calendar_fits_and_predicts_without_a_futr_csv(capsys, files, calendar):
    path = files["dir"] / "calendar.safetensors"
    code, _, err = run(capsys, *fit_argv(files, "--save", path, "--calendar", *calendar))
    assert code == 0, err
    code, out, err = run(capsys, "predict", "--model-path", path)
    assert code == 0, err
    assert len(out.strip().splitlines()) == 1 + 2 * H


def test_an_unknown_calendar_feature_is_an_error_naming_it(capsys, files):
    argv = fit_argv(files, "--save", files["dir"] / "never.safetensors", "--calendar", "weekly")
    line = one_line_error(*run(capsys, *argv)[::2])
    assert "'weekly'" in line and "dayofweek" in line


@pytest.mark.parametrize("flag", ["--future-covariates", "--past-covariates"])
def test_an_unknown_covariate_column_is_an_error_naming_it(capsys, files, flag):
    code, _, err = run(capsys, *backtest_argv(files, "naive", flag, "price"))
    line = one_line_error(code, err)
    assert "'price'" in line and flag in line


def test_a_statistical_model_with_covariates_suggests_ignore_covariates(capsys, files):
    code, _, err = run(capsys, *backtest_argv(files, "ets,naive", "--future-covariates", "x"))
    line = one_line_error(code, err)
    assert "ets" in line and "--ignore-covariates" in line
    assert "ignore_covariates" not in line


def test_ignore_covariates_fits_the_statistical_model_without_them(capsys, files):
    argv = backtest_argv(files, "ets,nlinear:max_steps=5", "--future-covariates", "x",
                         "--ignore-covariates")  # fmt: skip
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert out.splitlines()[0].split() == ["metric", "ets", "nlinear"]
    warned = [line for line in err.splitlines() if "ets ignores" in line]
    assert len(warned) == 1 and warned[0].startswith("tsattn: warning: ")
    assert warned[0].endswith("--ignore-covariates")


def test_ignore_covariates_on_fit_and_predict_needs_no_futr_csv(capsys, files):
    path = files["dir"] / "ets.safetensors"
    code, _, err = run(capsys, "fit", "--csv", files["csv"], "--model", "ets", "--h", H,
                       "--future-covariates", "x", "--ignore-covariates", "--save", path,
                       "--no-progress")  # fmt: skip
    assert code == 0, err
    code, out, err = run(capsys, "predict", "--model-path", path)
    assert code == 0, err
    assert len(out.strip().splitlines()) == 1 + 2 * H


def test_a_covariate_in_both_lists_is_an_error(capsys, files):
    argv = backtest_argv(files, "naive", "--future-covariates", "x", "--past-covariates", "x")
    line = one_line_error(*run(capsys, *argv)[::2])
    assert "'x'" in line and "--future-covariates" in line and "--past-covariates" in line


def test_interface_says_covariate_arguments_as_flags():
    interface = cli._parser().parse_args(["predict", "--model-path", "m"]).interface
    text = interface.words(
        "futr_exog_list=['x', 'y'] are future-known: predict needs futr_df= with them; "
        "futr_df has no row; pass ignore_covariates=True",
        [],
    )
    assert text == (
        "--future-covariates x,y are future-known: predict needs --futr-csv with them; "
        "--futr-csv has no row; pass --ignore-covariates"
    )


def test_backtest_plot_draws_the_covariates_under_each_series(capsys, files, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from tsattn.evaluation import plots

    drawn = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: drawn.append(fig) or fig)
    argv = backtest_argv(
        files, "naive", "--past-covariates", "p", "--ignore-covariates", "--plot", "x.png"
    )
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    (fig,) = drawn
    assert [ax.get_ylabel() for ax in fig.axes] == ["y", "p", "y", "p"]
