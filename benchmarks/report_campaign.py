"""Turn a `tsattn benchmark` results directory into a BENCHMARKS.md section and a plot.

    python benchmarks/report_campaign.py benchmarks/results/patchtst_etth
    python benchmarks/report_campaign.py benchmarks/results/transformer_etth1_cpu \
        --baseline-prefix transformer:softmax --no-published --section transformer_etth1

With ``--baseline-prefix``, each row also gets the relative MAE improvement over the model
whose name starts with that prefix (same dataset, horizon, cap): 100 * (1 - MAE / MAE_base),
the paper's metric for the vanilla-Transformer experiment.

Per dataset and horizon: our MSE/MAE (mean +- std over seeds) for each model, the published
PatchTST/42 figures (paper Table 3) and the full-test-set re-run of the official code, the
difference to the re-run, the epochs cap and the training wall time; then a one-line verdict
per dataset. Nothing is computed here that the runner did not measure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_section  # noqa: E402

from tsattn.benchmark.runner import QUICK_MAX_EPOCHS, SEED_SUMMARY  # noqa: E402
from tsattn.evaluation.plots import plot_benchmark  # noqa: E402


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, horizon, epochs cap, model), seeds aggregated."""
    keys = ["dataset", "horizon", "max_epochs", "model"]
    if "threads" not in results:  # written before the runner recorded it
        results = results.assign(threads=float("nan"))
    table = (
        results.groupby(keys, sort=False)
        .agg(
            **SEED_SUMMARY,
            epochs=("epochs", "mean"),
            train_min=("train_seconds", lambda s: s.mean() / 60),
            threads=("threads", _threads_label),
        )
        .reset_index()
    )
    table["vs_rerun_pct"] = 100 * (table["mse"] / table["rerun_mse"] - 1)
    return table.sort_values(["dataset", "max_epochs", "horizon"], kind="stable")


def _threads_label(threads: pd.Series) -> str:
    """The torch threads of a cell's runs ("1", "1/2"), "n/r" for rows written before the
    runner recorded them."""
    known = sorted({int(t) for t in threads.dropna()})
    return "/".join(map(str, known)) if known else "n/r"


def largest_cap(results: pd.DataFrame) -> pd.DataFrame:
    """The rows run at each dataset's largest epochs cap (what the plot shows)."""
    cap = results.groupby("dataset")["max_epochs"].transform("max")
    return results[results["max_epochs"] == cap]


def add_relative_mae(table: pd.DataFrame, baseline_prefix: str) -> pd.DataFrame:
    """``mae_gain_pct``: 100 * (1 - MAE / MAE of the baseline) within each (dataset, H, cap)."""
    keys = ["dataset", "horizon", "max_epochs"]
    base = table[table["model"].str.startswith(baseline_prefix)]
    base = base[keys + ["mae"]].rename(columns={"mae": "baseline_mae"})
    table = table.merge(base, on=keys, how="left")
    table["mae_gain_pct"] = 100 * (1 - table["mae"] / table["baseline_mae"])
    return table


def _cell(mean: float, std: float) -> str:
    return f"{mean:.4f}" if pd.isna(std) else f"{mean:.4f} ± {std:.4f}"


def markdown(table: pd.DataFrame, published: bool = True) -> str:
    """The results table; ``published=False`` drops the PatchTST/42 reference columns."""
    relative = "mae_gain_pct" in table
    header = ["dataset", "H", "epochs cap", "model", "seeds", "MSE", "MAE"]
    if relative:
        header.append("MAE gain vs baseline")
    if published:
        header += ["PatchTST/42 paper MSE / MAE", "re-run MSE", "vs re-run"]
    header += ["train min", "threads"]
    right = {"H", "epochs cap", "seeds", "MSE", "MAE", "MAE gain vs baseline", "vs re-run"}
    right |= {"re-run MSE", "train min", "threads"}
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if h in right else "---" for h in header) + "|",
    ]
    for row in table.itertuples():
        cells = [
            row.dataset, row.horizon, row.max_epochs, f"`{row.model}`", row.seeds,
            _cell(row.mse, row.mse_std), _cell(row.mae, row.mae_std),
        ]  # fmt: skip
        if relative:
            cells.append(f"{row.mae_gain_pct:+.2f}%")
        if published:
            cells += [
                f"{row.paper_mse:.3f} / {row.paper_mae:.3f}",
                f"{row.rerun_mse:.3f}",
                f"{row.vs_rerun_pct:+.1f}%",
            ]
        cells += [f"{row.train_min:.1f}", row.threads]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def best_on_shared_seeds(results: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, cap, horizon), the model with the lowest MSE averaged over only the seeds
    that every model there ran, so a 3-seed mean never competes with a single seed."""
    rows = []
    for keys, part in results.groupby(["dataset", "max_epochs", "horizon"], sort=False):
        seeds_per_model = part.groupby("model")["seed"].agg(set)
        shared = set.intersection(*seeds_per_model)
        if not shared:  # no seed common to all models (a partial campaign): no fair winner
            continue
        mse = part[part["seed"].isin(shared)].groupby("model", sort=False)["mse"].mean()
        rows.append(dict(zip(["dataset", "max_epochs", "horizon"], keys, strict=True),
                         model=mse.idxmin(), mse=mse.min(), seeds=sorted(shared)))  # fmt: skip
    return pd.DataFrame(rows, columns=["dataset", "max_epochs", "horizon", "model", "mse", "seeds"])


def verdicts(table: pd.DataFrame, results: pd.DataFrame) -> list[str]:
    """Per dataset and epochs cap: the best model at each horizon (on shared seeds) and
    softmax's gap to the re-run (on all its seeds)."""
    out = []
    best_all = best_on_shared_seeds(results)
    for (dataset, cap), part in table.groupby(["dataset", "max_epochs"], sort=False):
        best = best_all[(best_all["dataset"] == dataset) & (best_all["max_epochs"] == cap)]
        best = best.sort_values("horizon")
        wins = ", ".join(
            f"H={r.horizon}: `{r.model}` ({r.mse:.4f}, seeds {r.seeds})" for r in best.itertuples()
        )
        soft = part[part["model"] == "patchtst:softmax"]
        gap = (
            f"; softmax vs re-run: {', '.join(f'{v:+.1f}%' for v in soft['vs_rerun_pct'])}"
            if len(soft)
            else ""
        )
        out.append(f"- **{dataset}, epochs cap {cap}**: best (seeds all models ran) {wins}{gap}.")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_dir", type=Path)
    parser.add_argument("--section", default="patchtst_etth")
    parser.add_argument("--title", default="PatchTST/42 on ETTh1 and ETTh2 by attention")
    parser.add_argument("--notes-file", type=Path, help="markdown placed under the table")
    parser.add_argument("--baseline-prefix", help="add relative MAE gain over this model")
    parser.add_argument(
        "--no-published", action="store_true", help="omit the PatchTST/42 reference columns"
    )
    args = parser.parse_args(argv)
    results = pd.read_csv(args.results_dir / "results.csv")
    quick = results["quick"].astype(bool) & (results["max_epochs"] == 0)
    results.loc[quick, "max_epochs"] = QUICK_MAX_EPOCHS  # quick mode's own cap, not "0"
    table = summary(results)
    if args.baseline_prefix:
        table = add_relative_mae(table, args.baseline_prefix)
    plot = args.results_dir / "mse_by_horizon.png"
    plot_benchmark(largest_cap(results), metric="mse", path=plot)
    body = "\n".join(
        [
            markdown(table, published=not args.no_published),
            "",
            *verdicts(table, results),
            "",
            f"Raw results: `{args.results_dir / 'results.csv'}`; plot: `{plot}` "
            "(each dataset's largest epochs cap).",
            "",
            args.notes_file.read_text() if args.notes_file else "",
        ]
    )
    print(body)
    write_section(args.section, args.title, body)


if __name__ == "__main__":
    main()
