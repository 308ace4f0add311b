"""Issue 27, items 2, 3 and 7: errors name the bad value and its row, speak the interface in
use (CLI flags and spec syntax on the command line), suggest the nearest name for every name a
user types; the CLI checks its files before importing torch, names forecast columns by
``--alias`` (default: model name and attention) and prints clean paths."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tsattn.cli import main


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def csvs(tmp_path) -> dict[str, str]:
    """A clean wide hourly CSV, one with a gap, one with a stray string among repeated numbers."""
    t = np.arange(120)
    wide = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=len(t), freq="h"),
            "temp_max": np.round(20 + 3 * np.sin(2 * np.pi * t / 24)),  # values repeat
            "temp_min": np.round(10 + 3 * np.sin(2 * np.pi * t / 24)),
        }
    )
    paths = {"ok": tmp_path / "ok.csv", "gap": tmp_path / "gap.csv", "hot": tmp_path / "hot.csv"}
    wide.to_csv(paths["ok"], index=False)
    wide.drop(index=[50, 51]).to_csv(paths["gap"], index=False)
    hot = wide.astype({"temp_max": object})
    hot.loc[37, "temp_max"] = "hot"
    hot.to_csv(paths["hot"], index=False)
    return {name: str(path) for name, path in paths.items()}


# ------------------------------------------------------------------ item 2: a stray string
@pytest.mark.parametrize("target", [[], ["--target-col", "temp_max"]])
def test_a_stray_string_is_named_with_its_row_not_taken_for_an_id(capsys, csvs, target):
    argv = ["backtest", "--csv", csvs["hot"], "--time-col", "date", "--h", "3"]
    code, _, err = run_cli(capsys, *argv, "--models", "seasonal_naive", *target)
    assert code == 2
    assert "id column" not in err and "--id-col" not in err
    assert "'hot' at row 37, date 2024-01-02 13:00:00" in err


def test_python_api_names_the_row_too():
    from tsattn.datasets import read_series

    frame = pd.DataFrame(
        {"ds": pd.date_range("2024-01-01", periods=6, freq="D"), "y": [1, 1, 2, "x", 2, 1]}
    )
    with pytest.raises(ValueError, match=r"first: 'x' at row 3, ds 2024-01-04"):
        read_series(frame)


def test_a_real_id_column_is_still_recognised():
    from tsattn.datasets import read_series

    frame = pd.DataFrame(
        {"ds": pd.date_range("2024-01-01", periods=6, freq="D"), "store": list("aabbcc")}
    )
    with pytest.raises(ValueError, match="looks like a series id column"):
        read_series(frame)


# ------------------------------------------------------------------ item 3: the CLI's words
def test_cli_errors_name_flags_not_python_arguments(capsys, csvs):
    code, _, err = run_cli(capsys, "backtest", "--csv", csvs["ok"], "--h", "3")
    assert code == 2 and "--time-col" in err and "time_col=" not in err
    argv = ["backtest", "--csv", csvs["gap"], "--time-col", "date", "--h", "3"]
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and "Pass --fill (ffill" in err and "fill=" not in err


def test_cli_intervals_hint_is_spec_syntax(capsys, csvs):
    argv = ["backtest", "--csv", csvs["ok"], "--time-col", "date", "--h", "3", "--n-windows", "1"]
    code, _, err = run_cli(capsys, *argv, "--models", "sklearn", "--level", "80", "--no-progress")
    assert code == 2
    assert "sklearn:intervals=conformal" in err and "intervals='conformal'" not in err
    assert "--level" in err and "--on-error warn" in err and "on_error=" not in err


def test_the_python_api_keeps_its_own_words():
    from tsattn.datasets import read_series

    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=4, freq="D"), "y": 1.0})
    with pytest.raises(ValueError, match="time_col="):
        read_series(frame)


SUGGESTIONS = {
    "neural option": (lambda: __import__("tsattn").PatchTST(h=3, n_head=4), "'n_heads'"),
    "model name": (lambda: __import__("tsattn").create_model("seasonl_naive"), "'seasonal_naive'"),
    "model name 2": (lambda: __import__("tsattn").create_model("patchtsst"), "'patchtst'"),
    "attention name": (lambda: __import__("tsattn").create_attention("mrl", 8, 2, 4), "'mlr'"),
    "spec option": (
        lambda: __import__("tsattn").create_model("patchtst:mlr:rankz=3", h=3, input_size=8),
        "'ranks'",
    ),
    "baseline keyword": (lambda: __import__("tsattn").ETS(trnd="add"), "'trend'"),
}


@pytest.mark.parametrize("case", sorted(SUGGESTIONS))
def test_every_typed_name_gets_a_suggestion(case):
    make, meant = SUGGESTIONS[case]
    with pytest.raises(ValueError, match=f"did you mean {meant}"):
        make()


def test_spec_option_error_lists_the_attention_options():
    from tsattn import create_model

    with pytest.raises(ValueError, match=r"attention options: .*\branks\b"):
        create_model("patchtst:mlr:rankz=3", h=3, input_size=8)


def test_cli_suggests_model_names(capsys, csvs):
    argv = ["backtest", "--csv", csvs["ok"], "--time-col", "date", "--h", "3"]
    code, _, err = run_cli(capsys, *argv, "--models", "seasonl_naive")
    assert code == 2 and "did you mean 'seasonal_naive'?" in err


# ------------------------------------------------------------------ item 7: start-up, output
NO_TORCH = """
import sys
from tsattn.cli import main
codes = [main(["backtest", "--csv", "nofile.csv", "--h", "3"]), main(["models"])]
print(codes, "torch" in sys.modules)
"""


def test_models_and_a_missing_file_do_not_import_torch():
    done = subprocess.run([sys.executable, "-c", NO_TORCH], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[2, 0] False"
    assert "nofile.csv: no such file" in done.stderr


def test_the_torch_free_model_listing_matches_the_registry():
    from tsattn.commands import _first_line, model_docstrings
    from tsattn.models import MODELS

    assert model_docstrings() == {n: _first_line(MODELS.get(n)) for n in MODELS.names()}


def test_forecast_columns_default_to_name_and_attention_and_take_alias(capsys, csvs, tmp_path):
    argv = ["backtest", "--csv", csvs["ok"], "--time-col", "date", "--h", "3", "--n-windows", "1"]
    out = tmp_path / "bt.csv"
    specs = "naive,seasonal_naive:season_length=24,seasonal_naive:season_length=12"
    assert run_cli(capsys, *argv, "--models", specs, "--out", str(out), "--no-progress")[0] == 0
    columns = list(pd.read_csv(out).columns)[4:]  # the same name twice: the whole specs
    assert columns == [
        "naive",
        "seasonal_naive:season_length=24",
        "seasonal_naive:season_length=12",
    ]
    code, _, _ = run_cli(capsys, *argv, "--models", "naive,seasonal_naive:season_length=24",
                         "--alias", "last,daily", "--out", str(out), "--no-progress")  # fmt: skip
    assert code == 0 and list(pd.read_csv(out).columns)[4:] == ["last", "daily"]
    code, _, err = run_cli(capsys, *argv, "--models", "naive", "--alias", "a,b")
    assert code == 2 and "--alias needs 1 distinct" in err


def test_default_alias_drops_options():
    from tsattn.commands import default_alias
    from tsattn.models.factory import parse_model_spec

    assert default_alias(parse_model_spec("patchtst:mlr:max_steps=100")) == "patchtst:mlr"
    assert default_alias(parse_model_spec("patchtst:max_steps=3:attention=btt")) == "patchtst:btt"


def test_quick_cells_record_the_epoch_cap_they_ran_with():
    from tsattn.benchmark.runner import QUICK_MAX_EPOCHS, RunSettings, _epoch_cap

    def settings(quick, max_epochs):
        return RunSettings(96, quick, max_epochs, None, "cpu", False)

    assert _epoch_cap(settings(True, None)) == QUICK_MAX_EPOCHS
    assert _epoch_cap(settings(True, 100)) == QUICK_MAX_EPOCHS
    assert _epoch_cap(settings(True, 2)) == 2
    assert _epoch_cap(settings(False, None)) is None
    assert _epoch_cap(settings(False, 7)) == 7


def test_benchmark_paths_print_without_a_double_slash(capsys, monkeypatch, tmp_path):
    import tsattn.benchmark
    import tsattn.evaluation.plots

    monkeypatch.setattr(tsattn.benchmark, "run_benchmark", lambda *a, **k: pd.DataFrame())
    monkeypatch.setattr(tsattn.evaluation.plots, "plot_benchmark", lambda *a, **k: None)
    out = f"{tmp_path}/results/"
    code, printed, _ = run_cli(capsys, "benchmark", "--dataset", "ETTh1", "--models", "naive",
                               "--out", out)  # fmt: skip
    assert code == 0 and "//" not in printed
    assert f"{tmp_path}/results/results.csv" in printed
