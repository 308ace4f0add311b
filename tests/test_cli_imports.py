"""The CLI loads only what a command uses: `tsattn predict`, `fit` and `models` start without
gluonts, statsmodels, matplotlib or the benchmark runner, and `import tsattn` without torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import tsattn

#: packages the everyday commands must not import (each costs seconds at start-up)
HEAVY = ("gluonts", "statsmodels", "matplotlib", "sklearn", "tsattn.benchmark")

#: runs each command (argv lists, JSON in argv[1]) in one interpreter, and after each one
#: lists the heavy modules loaded so far
RUN_AND_LIST_MODULES = """
import json, sys
from tsattn.cli import main
report = []
for argv in json.loads(sys.argv[1]):
    code = main(argv)
    heavy = sorted({{m for m in sys.modules for h in {heavy!r} if m == h or m.startswith(h + ".")}})
    report.append({{"command": argv[0], "code": code, "heavy so far": heavy}})
print(json.dumps(report))
"""


def loaded_by(*commands: list[str]) -> list[dict]:
    """Run ``tsattn`` commands one after the other in a fresh interpreter: for each, its exit
    code and the heavy modules loaded by then."""
    script = RUN_AND_LIST_MODULES.format(heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(commands)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> tuple[str, str]:
    """A tiny fitted SeasonalNaive on disk, and the CSV it was fitted on."""
    folder = tmp_path_factory.mktemp("cli_imports")
    frame = pd.DataFrame(
        {
            "ds": pd.date_range("2024-01-01", periods=96, freq="h"),
            "y": np.sin(np.arange(96) * 2 * np.pi / 24),
        }
    )
    csv = folder / "series.csv"
    frame.to_csv(csv, index=False)
    model = folder / "model.safetensors"
    tsattn.SeasonalNaive(h=12).fit(frame).save(model)
    return str(model), str(csv)


def test_models_predict_and_fit_import_only_what_they_use(saved_model, tmp_path):
    model, csv = saved_model
    report = loaded_by(
        ["models"],
        ["predict", "--model-path", model, "--out", str(tmp_path / "f.csv")],
        ["fit", "--csv", csv, "--model", "naive", "--h", "6", "--no-progress", "--save",
         str(tmp_path / "m.safetensors")],
    )  # fmt: skip
    assert [r["command"] for r in report] == ["models", "predict", "fit"]
    assert all(r["code"] == 0 for r in report), report
    assert all(r["heavy so far"] == [] for r in report), report
    assert len(pd.read_csv(tmp_path / "f.csv")) == 12


def test_import_tsattn_loads_no_torch_and_keeps_the_public_names():
    script = "import sys, tsattn; print('torch' in sys.modules, 'pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.split() == ["False", "False"], done.stderr
    assert {"backtest", "PatchTST", "read_series", "run_benchmark"} <= set(dir(tsattn))
    assert tsattn.backtest.__module__ == "tsattn.evaluation.backtest"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tsattn.nope  # noqa: B018
