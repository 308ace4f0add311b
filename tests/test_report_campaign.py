"""The campaign report builder (benchmarks/report_campaign.py) on a hand-made results frame."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "report_campaign.py"


@pytest.fixture(scope="module")
def report():
    spec = importlib.util.spec_from_file_location("report_campaign", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _results() -> pd.DataFrame:
    rows = []
    maes_by_model = {"transformer:softmax": [0.50, 0.52], "transformer:mlr": [0.45, 0.47]}
    for model, maes in maes_by_model.items():
        for seed, mae in enumerate(maes):
            rows.append(
                dict(dataset="ETTh1", horizon=96, max_epochs=10, model=model, seed=seed,
                     mse=2 * mae, mae=mae, epochs=10, train_seconds=60.0,
                     paper_patchtst42_mse=0.375, paper_patchtst42_mae=0.399,
                     rerun_patchtst_mse=0.385)
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_seeds_are_aggregated_as_mean_and_std(report):
    table = report.summary(_results())
    soft = table[table["model"] == "transformer:softmax"].iloc[0]
    assert soft["seeds"] == 2
    assert soft["mae"] == pytest.approx(0.51)
    assert soft["mae_std"] == pytest.approx(pd.Series([0.50, 0.52]).std())


def test_relative_mae_gain_is_measured_against_the_baseline(report):
    table = report.add_relative_mae(report.summary(_results()), "transformer:softmax")
    gain = dict(zip(table["model"], table["mae_gain_pct"], strict=True))
    assert gain["transformer:softmax"] == pytest.approx(0.0)
    assert gain["transformer:mlr"] == pytest.approx(100 * (1 - 0.46 / 0.51))


def test_markdown_can_omit_the_published_columns(report):
    table = report.add_relative_mae(report.summary(_results()), "transformer:softmax")
    with_published = report.markdown(table)
    without = report.markdown(table, published=False)
    assert "re-run MSE" in with_published and "re-run MSE" not in without
    assert "MAE gain vs baseline" in without
    assert "+9.80%" in without  # 100 * (1 - 0.46 / 0.51)
    header, rule, *rows = without.splitlines()
    assert len(rows) == 2 and header.count("|") == rule.count("|")


def test_plot_keeps_each_datasets_largest_epochs_cap(report):
    short = _results().assign(max_epochs=3)
    other = _results().assign(dataset="ETTh2", max_epochs=3)
    kept = report.largest_cap(pd.concat([_results(), short, other]))
    assert kept.groupby("dataset")["max_epochs"].unique().map(list).to_dict() == {
        "ETTh1": [10],
        "ETTh2": [3],
    }


def test_best_model_is_judged_on_the_seeds_every_model_ran(report):
    results = _results()  # softmax MAE 0.50 / 0.52, mlr 0.45 / 0.47 at seeds 0 / 1
    lucky_softmax = dict(results.iloc[0], seed=2, mse=0.10)  # a seed MLR never ran
    best = report.best_on_shared_seeds(pd.concat([results, pd.DataFrame([lucky_softmax])]))
    assert best.iloc[0]["model"] == "transformer:mlr"
    assert best.iloc[0]["seeds"] == [0, 1]


def test_no_winner_is_named_where_the_models_share_no_seed(report):
    results = _results()
    disjoint = results[(results["model"] == "transformer:softmax") == (results["seed"] == 0)]
    assert report.best_on_shared_seeds(disjoint).empty


def test_each_cell_is_labelled_with_its_torch_threads(report):
    """Issue 15: wall times depend on the thread count, so every cell shows it; rows written
    before the runner recorded it say so ("n/r") instead of guessing."""
    results = _results()
    results["threads"] = [1, 2, 1, 1]
    labels = dict(zip(*report.summary(results)[["model", "threads"]].T.values, strict=True))
    assert labels == {"transformer:softmax": "1/2", "transformer:mlr": "1"}
    old = report.summary(_results())
    assert set(old["threads"]) == {"n/r"}
    assert "| threads |" in report.markdown(old) and "| n/r |" in report.markdown(old)
