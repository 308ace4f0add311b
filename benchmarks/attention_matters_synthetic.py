"""Where attention matters: series whose period changes from series to series (issue 15, part 6).

On ETTh the no-mixing ablation (each patch attends only to itself) scores within 1% of
softmax: PatchTST's linear flatten head already mixes the patches, and nothing in that data
needs content-dependent mixing. Here it is needed by construction. Each series repeats a
random waveform (four harmonics with random amplitudes and phases, plus noise) with its own
period P, drawn from 24 to 160 steps; the forecast is the continuation of the cycle, so a
model must find where the current phase last occurred in the look-back (content matching, which
attention does and a fixed linear map over patches cannot do for every P at once). The oracle
is the seasonal naive at each series' true period (its error is the noise).

Trained on ``--train`` series, scored on fresh series from the same law (``predict(df=...)``,
one forecast from the end of each): MSE relative to the no-mixing ablation, per seed.

    python benchmarks/attention_matters_synthetic.py               # BENCHMARKS.md, CSV
    python benchmarks/attention_matters_synthetic.py --quick       # a smoke run, prints only
    python benchmarks/attention_matters_synthetic.py --seeds 3 --steps 2000 --report-only \
        --notes-file benchmarks/results/attention_matters_synthetic/NOTES.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

import tsattn  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "attention_matters_synthetic"
#: the compared scoring functions (alias -> PatchTST keywords)
VARIANTS = {
    "no mixing": dict(attention="sliding", attention_options={"window": 0}),
    "softmax": dict(attention="softmax"),
    "mlr": dict(attention="mlr"),
    "mlr_paper": dict(attention="mlr_paper"),
    "btt": dict(attention="btt"),
}
PERIODS = (24, 160)
NOISE = 0.1


def periodic_frame(n_series: int, length: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """``n_series`` hourly series of ``length`` steps, each a random 4-harmonic waveform
    repeated with its own period, plus Gaussian noise; and the periods."""
    rng = np.random.default_rng(seed)
    periods = rng.integers(*PERIODS, size=n_series)
    t = np.arange(length)
    frames = []
    for i, period in enumerate(periods):
        k = np.arange(1, 5)[:, None]  # (4, 1) harmonics
        amplitude = rng.normal(0, 1, (4, 1)) / k
        phase = rng.uniform(0, 2 * np.pi, (4, 1))
        wave = (amplitude * np.sin(2 * np.pi * k * t / period + phase)).sum(axis=0)  # (length,)
        y = wave + rng.normal(0, NOISE, length)
        ds = pd.date_range("2020-01-01", periods=length, freq="h")
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True), periods


def split_last(df: pd.DataFrame, h: int) -> tuple[pd.DataFrame, np.ndarray]:
    """(each series without its last ``h`` steps, those steps as an (S, h) array)."""
    tail = df.groupby("unique_id", sort=False).tail(h)
    actual = tail["y"].to_numpy().reshape(-1, h)
    return df.drop(tail.index), actual


def oracle_mse(history: pd.DataFrame, actual: np.ndarray, periods: np.ndarray) -> float:
    """MSE of the seasonal naive at each series' true period."""
    h = actual.shape[1]
    forecasts = []
    for (_, part), period in zip(history.groupby("unique_id", sort=False), periods, strict=True):
        y = part["y"].to_numpy()
        forecasts.append(y[len(y) - period + np.arange(h) % period])
    return float(((np.stack(forecasts) - actual) ** 2).mean())


def run(args: argparse.Namespace) -> pd.DataFrame:
    train, _ = periodic_frame(args.train, args.length, seed=1000)
    test, periods = periodic_frame(args.test, args.length, seed=2000)
    history, actual = split_last(test, args.h)
    oracle = oracle_mse(history, actual, periods)
    rows = [{"model": "oracle seasonal naive", "seed": -1, "mse": oracle}]
    for seed in range(args.seeds):
        for alias, options in VARIANTS.items():
            model = tsattn.PatchTST(
                h=args.h, input_size=args.input_size, patch_len=8, stride=8,
                d_model=args.d_model, n_heads=4, d_ff=2 * args.d_model, dropout=0.0,
                n_layers=2, max_steps=args.steps, batch_size=64, seed=seed,
                progress=False, device=args.device, alias=alias, **options,
            )  # fmt: skip
            start = time.perf_counter()
            model.fit(train)
            forecast = model.predict(df=history)[alias].to_numpy().reshape(-1, args.h)
            seconds = time.perf_counter() - start
            mse = float(((forecast - actual) ** 2).mean())
            rows.append({"model": alias, "seed": seed, "mse": mse, "train_s": seconds})
            print(f"seed {seed} {alias:10s} mse {mse:.4f} ({seconds:.0f} s)", flush=True)
    return pd.DataFrame(rows)


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per model: mean MSE, and the per-seed MSE relative to no mixing (mean, min, max)."""
    base = rows[rows["model"] == "no mixing"].set_index("seed")["mse"]
    neural = rows[rows["seed"] >= 0].assign(rel=lambda r: r["mse"] / r["seed"].map(base))
    table = neural.groupby("model", sort=False).agg(
        mse=("mse", "mean"), rel=("rel", "mean"), rel_min=("rel", "min"),
        rel_max=("rel", "max"), seeds=("seed", "count"), train_s=("train_s", "mean"),
    )  # fmt: skip
    oracle = rows[rows["seed"] < 0].set_index("model")[["mse"]]
    return pd.concat([table, oracle])


def report(table: pd.DataFrame, args: argparse.Namespace) -> None:
    """The BENCHMARKS.md section (with ``--notes-file`` below the table)."""
    lines = [
        "| model | test MSE (mean over seeds) | MSE / no mixing: mean (min, max) | seeds | "
        "fit+predict s |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in table.iterrows():
        if pd.isna(row["rel"]):
            lines.append(f"| {name} | {row['mse']:.4f} | | | |")
            continue
        lines.append(
            f"| {name} | {row['mse']:.4f} | {row['rel']:.3f} ({row['rel_min']:.3f}, "
            f"{row['rel_max']:.3f}) | {int(row['seeds'])} | {row['train_s']:.0f} |"
        )
    body = [
        f"Series with a period that changes from series to series (24 to 160 steps; a random "
        f"4-harmonic waveform plus noise of sd {NOISE}): PatchTST trained on {args.train} series "
        f"of {args.length} steps, scored on {args.test} fresh series (one forecast of "
        f"h={args.h} from the end of each). Look-back {args.input_size}, patches of 8 "
        f"(stride 8: {args.input_size // 8} patches), d_model {args.d_model}, 4 heads, 2 layers, "
        f"no dropout, {args.steps} steps of batch 64 (lr 1e-3); device {args.device}. The "
        "oracle is the seasonal naive at each series' true period.",
        "",
        *lines,
    ]
    if args.notes_file:
        body += ["", args.notes_file.read_text().strip()]
    title = "Where attention matters: series with their own period (synthetic)"
    suffix = f" ({args.tag})" if args.tag else ""
    name = "attention_matters_synthetic" + (f"_{args.tag}" if args.tag else "")
    write_section(name, title + suffix, "\n".join(body))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=256)
    parser.add_argument("--test", type=int, default=128)
    parser.add_argument("--length", type=int, default=800)
    parser.add_argument("--h", type=int, default=48)
    parser.add_argument("--input-size", type=int, default=384)
    parser.add_argument("--d-model", type=int, default=32)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tag", default="", help="a name for a second run (e.g. gpu)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: prints only")
    parser.add_argument("--notes-file", type=Path, help="markdown placed under the table")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the section from results.csv (give the run's own options again)",
    )
    args = parser.parse_args()
    if args.report_only:
        out = RESULTS / args.tag if args.tag else RESULTS
        report(summary(pd.read_csv(out / "results.csv")), args)
        return
    if args.quick:
        args.train, args.test, args.steps, args.seeds = 32, 16, 30, 1
    rows = run(args)
    table = summary(rows)
    print(table.round(4).to_string())
    if not args.quick:
        out = RESULTS / args.tag if args.tag else RESULTS
        out.mkdir(parents=True, exist_ok=True)
        rows.to_csv(out / "results.csv", index=False)
        report(table, args)


if __name__ == "__main__":
    main()
