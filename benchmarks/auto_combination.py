"""How AutoForecaster's candidates are best combined on short single series: a study of rules.

For every series of the 18-series real suite (``series_suite.load_real_suite``) and each of its
4 rolling windows of ``h``, ``--dump`` does what ``AutoForecaster(h).fit(train)`` does before it
combines (the default candidates validated on the last 3 windows of the training part, one fit
each, ``refit=False``; ``auto.validated``), refits every candidate on the training part and
keeps its forecast of the window (``auto.refit_all``). The validation matrices and the test
forecasts go to ``results/auto/combination_dump.npz`` (small: kept in the repository, so the
study reruns in seconds). Then every rule below turns the validation matrix into weights, and
the weighted test forecasts are scored as ``real_series.py`` scores them (MASE against each
window's in-sample seasonal naive error, MAE relative to the seasonal naive's).

    OMP_NUM_THREADS=1 python benchmarks/auto_combination.py --dump --aeon-dir /tmp/aeon_x
    python benchmarks/auto_combination.py          # the study from the dump

``--m4`` does the same on M4 Hourly (``benchmarks/m4.py``'s data and metrics; one fit on the
414 train parts, 3 validation windows of 48 inside them) and scores the rules by M4's sMAPE,
MASE and OWA: ``--m4 --dump`` writes ``results/auto/combination_m4.npz`` (about 25 minutes
of CPU), ``--m4`` alone scores it.

The rules: ``greedy`` (``method="ensemble"``), ``select`` (the best validation MASE),
``top`` (``method="top"``: the equal mean of the better half), ``top2`` / ``top3`` (the equal
mean of the 2 or 3 best), ``inverse3`` (the 3 best weighted by inverse validation MASE),
``greedy_from2`` (Caruana's sorted initialisation: the bag starts with the 2 best), and
``bagged`` (Caruana's bagged selection: greedy on 20 random halves of the candidates, the
weights averaged). ``auto`` is ``method="auto"``: on these single series (3 validation windows
for 7 or 8 candidates) it is ``top``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from auto import refit_all, validated  # noqa: E402
from series_suite import load_real_suite  # noqa: E402

from tsattn.auto.combine import (  # noqa: E402
    better_half,
    candidate_losses,
    greedy_ensemble,
    loss,
    resolve_method,
)

DUMP = Path(__file__).resolve().parent / "results" / "auto" / "combination_dump.npz"
OUT = DUMP.with_name("combination.csv")
M4_DUMP = DUMP.with_name("combination_m4.npz")
WINDOWS = 4


def dump(data_dir: str, aeon_dir: str | None, names: list[str] | None) -> None:
    """Validate and refit the default candidates at every window; arrays into :data:`DUMP`
    (merged with what is there, so series can be dumped by several processes in turn)."""
    arrays = dict(np.load(DUMP)) if DUMP.exists() else {}
    for case in load_real_suite(data_dir, aeon_dir):
        if names and case.name not in names:
            continue
        n, h = len(case.frame), case.h
        for w in range(WINDOWS):
            cut = n - (WINDOWS - w) * h
            train = case.frame.iloc[:cut]
            _, _, _, candidates, result, _ = validated(train, h)
            forecasts, _ = refit_all(candidates, result, train, h)
            key = f"{case.name}|{w}|"
            arrays[key + "names"] = np.array(result.names)
            arrays[key + "matrix"] = result.matrix  # (N, M) validation forecasts
            arrays[key + "actual"] = result.actual  # (N,)
            arrays[key + "scale"] = result.scale  # (N,)
            arrays[key + "test"] = np.stack([forecasts[m][0] for m in result.names], 1)  # (h, M)
            arrays[key + "y"] = case.frame["y"].to_numpy()[cut : cut + h]
            arrays[key + "train"] = train["y"].to_numpy()
            arrays[key + "season"] = np.array(case.season_length)
            print(f"{case.name} window {w}: {', '.join(result.names)}", flush=True)
            np.savez_compressed(DUMP, **arrays)


def _top(k: int):
    def rule(forecasts, actual, scale):
        ranked = np.argsort(candidate_losses(forecasts, actual, scale), kind="stable")
        weights = np.zeros(forecasts.shape[1])
        weights[ranked[:k]] = 1.0 / min(k, forecasts.shape[1])
        return weights

    return rule


def inverse3(forecasts, actual, scale):
    losses = candidate_losses(forecasts, actual, scale)
    best = np.argsort(losses, kind="stable")[:3]
    weights = np.zeros(forecasts.shape[1])
    weights[best] = 1.0 / losses[best]
    return weights / weights.sum()


def greedy_from2(forecasts, actual, scale):
    """Forward selection with replacement from a bag holding the 2 best candidates."""
    counts = np.zeros(forecasts.shape[1])
    counts[np.argsort(candidate_losses(forecasts, actual, scale), kind="stable")[:2]] = 1
    best = loss(forecasts @ counts / counts.sum(), actual, scale)
    while counts.sum() < 100:
        trial = (forecasts @ counts)[:, None] + forecasts  # (N, M) the bag plus each
        losses = candidate_losses(trial / (counts.sum() + 1), actual, scale)
        pick = int(np.argmin(losses))
        if not losses[pick] < best - 1e-12:
            break
        counts[pick], best = counts[pick] + 1, float(losses[pick])
    return counts / counts.sum()


def bagged(forecasts, actual, scale, bags: int = 20):
    rng = np.random.default_rng(0)
    n_models = forecasts.shape[1]
    weights = np.zeros(n_models)
    for _ in range(bags):
        pick = np.sort(rng.choice(n_models, max(2, round(n_models / 2)), replace=False))
        weights[pick] += greedy_ensemble(forecasts[:, pick], actual, scale).weights
    return weights / bags


def auto(forecasts, actual, scale, h):
    method = resolve_method("auto", len(actual) // h, forecasts.shape[1])
    return RULES["top" if method == "top" else "greedy"](forecasts, actual, scale)


RULES = {
    "greedy": lambda f, a, s: greedy_ensemble(f, a, s).weights,
    "select": _top(1),
    "top": lambda f, a, s: better_half(f, a, s).weights,
    "top2": _top(2),
    "top3": _top(3),
    "inverse3": inverse3,
    "greedy_from2": greedy_from2,
    "bagged": bagged,
}


def window_forecasts(arrays, key: str) -> tuple[dict, np.ndarray, np.ndarray]:
    """Every candidate's and rule's forecast of one window, the actuals and the training
    values (``key``: ``"series|window"``)."""
    get = {f: arrays[f"{key}|{f}"] for f in ("names", "matrix", "actual", "scale", "test")}
    y, train, season = arrays[f"{key}|y"], arrays[f"{key}|train"], int(arrays[f"{key}|season"])
    validation = (get["matrix"], get["actual"], get["scale"])
    forecasts = {"SeasonalNaive (reference)": np.resize(train[-season:], len(y))}
    forecasts.update(zip(get["names"], get["test"].T))
    for rule, fit in RULES.items():
        forecasts[rule] = get["test"] @ fit(*validation)
    forecasts["auto"] = get["test"] @ auto(*validation, len(y))
    return forecasts, y, train


def errors(forecast: np.ndarray, y: np.ndarray, mase_scale: float) -> dict:
    """Absolute, scaled absolute and symmetric percentage errors of one window (sMAPE 0 where
    forecast and actual are both 0)."""
    error = np.abs(forecast - y)
    denominator = np.abs(forecast) + np.abs(y)
    smape = 200 * error / np.where(denominator > 0, denominator, 1.0)
    return {"ae": error, "se": error / mase_scale, "smape": smape}


def study() -> pd.DataFrame:
    """Per (series, model or rule): MAE, MASE and sMAPE over the 4 windows."""
    arrays = np.load(DUMP)
    rows = []
    for key in sorted({k.rsplit("|", 1)[0] for k in arrays.files}):
        name, window = key.split("|")
        forecasts, y, train = window_forecasts(arrays, key)
        season = int(arrays[f"{key}|season"])
        lag = season if len(train) > season else 1
        mase_scale = float(np.mean(np.abs(train[lag:] - train[:-lag])))
        for model, forecast in forecasts.items():
            rows.append({"series": name, "model": model, **errors(forecast, y, mase_scale)})
    joined = lambda v: np.concatenate(list(v)).mean()  # noqa: E731 - over the windows
    return (
        pd.DataFrame(rows)
        .groupby(["series", "model"])
        .agg(mae=("ae", joined), mase=("se", joined), smape=("smape", joined))
    )


def summary(per_series: pd.DataFrame) -> pd.DataFrame:
    """Mean MASE and sMAPE, geometric-mean MAE relative to the seasonal naive, series."""
    mae = per_series["mae"].unstack("model")
    relative = mae.div(mae["SeasonalNaive (reference)"], axis=0)
    table = pd.DataFrame(
        {
            "mean MASE": per_series["mase"].unstack("model").mean(),
            "mean sMAPE": per_series["smape"].unstack("model").mean(),
            "gmean MAE / SN": np.exp(np.log(relative).mean()),
            "series": mae.count(),
        }
    )
    return table.sort_values("mean MASE")


def dump_m4(data_dir: str) -> None:
    """M4 Hourly's validation matrix and every candidate's test forecasts into M4_DUMP."""
    import m4

    ids, train, _ = m4.load_m4(data_dir)
    frame = m4.long_frame(ids, train)
    _, _, _, candidates, result, _ = validated(frame, m4.H)
    forecasts, _ = refit_all(candidates, result, frame, m4.H)
    np.savez_compressed(
        M4_DUMP,
        names=np.array(result.names),
        matrix=result.matrix,  # (N, M) validation forecasts
        actual=result.actual,
        scale=result.scale,
        test=np.stack([forecasts[m] for m in result.names]),  # (M, S, h)
    )


def study_m4(data_dir: str) -> pd.DataFrame:
    """M4's sMAPE, MASE and OWA of every candidate and rule (global weights)."""
    import m4

    _, train, test = m4.load_m4(data_dir)
    arrays = np.load(M4_DUMP)
    validation = (arrays["matrix"], arrays["actual"], arrays["scale"])
    forecasts = dict(zip(arrays["names"], arrays["test"]))
    for rule, fit in RULES.items():
        forecasts[rule] = np.einsum("msh,m->sh", arrays["test"], fit(*validation))
    forecasts["auto"] = np.einsum("msh,m->sh", arrays["test"], auto(*validation, m4.H))
    rows = [
        {"model": name, **m4.scores(test, f, m4.mase_scale(train))[0]}
        for name, f in forecasts.items()
    ]
    return pd.DataFrame(rows).set_index("model").sort_values("owa")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump", action="store_true", help="validate and refit (slow)")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--aeon-dir", default=None)
    parser.add_argument("--series", default=None, help="--dump: comma-separated names")
    parser.add_argument("--m4", action="store_true", help="M4 Hourly instead")
    args = parser.parse_args()
    if args.m4:
        if args.dump:
            dump_m4(args.data_dir)
        table = study_m4(args.data_dir)
        table.to_csv(M4_DUMP.with_suffix(".csv"))
        print(table.round(3).to_string())
        return
    if args.dump:
        dump(args.data_dir, args.aeon_dir, args.series.split(",") if args.series else None)
    per_series = study()
    per_series.to_csv(OUT)
    table = summary(per_series)
    print(table.round(3).to_string())
    print(f"per-series rows: {OUT}")


if __name__ == "__main__":
    main()
