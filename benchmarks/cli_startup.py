"""CLI start-up: wall time of `tsattn predict` on a saved tiny model, and of `import tsattn`.

Fits a tiny PatchTST (h=12) on 96 hourly points and saves it, then times, each in a fresh
process and in interleaved rounds (median of ``--rounds``):

* ``tsattn predict --model-path M --out F`` (12 rows), as a user runs it;
* ``python -c "import tsattn"`` (the lazy package: no torch, no pandas);
* the floor predict cannot go below: ``python -c "import torch, pandas"`` (a model file
  holds tensors and the network is torch);
* ``python -c "import sklearn.preprocessing"``: what the literature splits' scaler adds to
  every command that touches ``tsattn.datasets``.

Then ``python -X importtime`` of the predict run gives the import seconds by top-level
package. Raw seconds go to ``benchmarks/results/cli_startup/``, the table to BENCHMARKS.md.

    python benchmarks/cli_startup.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results" / "cli_startup"
TINY = {"d_model": 8, "n_heads": 2, "n_layers": 1, "max_steps": 2, "progress": False}
#: top-level packages whose import time the breakdown shows (the rest is "other")
PACKAGES = ("torch", "sklearn", "scipy", "pandas", "numpy", "safetensors", "tsattn")


def save_tiny_model(folder: Path) -> Path:
    from tsattn import PatchTST

    frame = pd.DataFrame(
        {
            "ds": pd.date_range("2024-01-01", periods=96, freq="h"),
            "y": np.sin(np.arange(96) * 2 * np.pi / 24),
        }
    )
    return PatchTST(h=12, input_size=24, **TINY).fit(frame).save(folder / "tiny.safetensors")


def commands(model: Path, out: Path) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "tsattn predict": [python, "-m", "tsattn.cli", "predict", "--model-path", str(model),
                           "--out", str(out)],
        "import tsattn": [python, "-c", "import tsattn"],
        "import torch, pandas (floor)": [python, "-c", "import torch, pandas"],
        "import sklearn.preprocessing": [python, "-c", "import sklearn.preprocessing"],
    }  # fmt: skip


def wall_seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def import_breakdown(argv: list[str]) -> dict[str, float]:
    """Import seconds of one run of ``argv`` (``-X importtime``) by the package that pulled
    them in: each third-party package of :data:`PACKAGES` with all it imported (scipy under
    sklearn counts as sklearn), tsattn's own modules, and the rest."""
    done = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]], check=True, capture_output=True, text=True
    )
    entries = []  # (depth, package, self seconds, cumulative seconds), children first
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue  # the header, or another line on stderr
        name = parts[2].rstrip()
        depth = len(name) - len(name.lstrip())
        entries.append((depth, name.strip().split(".")[0], int(parts[0]), int(parts[1])))
    seconds: dict[str, float] = {}
    owners: list[tuple[int, str | None]] = []  # (depth, third-party owner) from the root
    for depth, package, self_us, total_us in reversed(entries):  # parents before children
        while owners and owners[-1][0] >= depth:
            owners.pop()
        owner = owners[-1][1] if owners else None
        if owner is None and package in PACKAGES and package != "tsattn":
            owner = package
            seconds[package] = seconds.get(package, 0.0) + total_us / 1e6
        elif owner is None:
            key = "tsattn" if package == "tsattn" else "other"
            seconds[key] = seconds.get(key, 0.0) + self_us / 1e6
        owners.append((depth, owner))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = save_tiny_model(Path(tmp))
        runs = commands(model, Path(tmp) / "forecast.csv")
        for argv in runs.values():
            wall_seconds(argv)  # warm the file cache
        rows = []
        for r in range(args.rounds):
            for name, argv in runs.items() if r % 2 == 0 else reversed(runs.items()):
                rows.append({"round": r, "command": name, "seconds": wall_seconds(argv)})
                print(rows[-1], flush=True)
        breakdown = import_breakdown(runs["tsattn predict"])
    rounds = pd.DataFrame(rows)
    text = report(rounds, breakdown, args)
    print(text)
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        rounds.to_csv(RESULTS / "rounds.csv", index=False)
        pd.Series(breakdown, name="seconds").rename_axis("package").to_csv(
            RESULTS / "predict_imports.csv"
        )
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _report import write_section

        write_section("cli_startup", "CLI start-up", text)


def report(rounds: pd.DataFrame, breakdown: dict[str, float], args) -> str:
    median = rounds.groupby("command", sort=False)["seconds"].median()
    floor = median["import torch, pandas (floor)"]
    lines = [
        f"Wall seconds of each command in a fresh process, median of {args.rounds} "
        "interleaved rounds (the machine was shared: read the ratios). The model is a tiny "
        "PatchTST saved by `fit`; predict writes its 12 rows to a CSV.",
        "",
        "| command | median s | vs `import torch, pandas` |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | {s:.2f} | {s / floor:.2f} |" for name, s in median.items()]
    total = sum(breakdown.values())
    lines += [
        "",
        f"Import seconds of one `tsattn predict` by the package that pulled them in "
        f"(`-X importtime`; scipy under sklearn counts as sklearn; {total:.2f} s in all):",
        "",
        "| package | seconds | share |",
        "|---|---|---|",
    ]
    for name, seconds in sorted(breakdown.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {name} | {seconds:.2f} | {100 * seconds / total:.0f}% |")
    lines.append("\nRaw seconds: `benchmarks/results/cli_startup/rounds.csv`.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
