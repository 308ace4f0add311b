"""The ``tsattn`` command line: datasets, attention, models, benchmark, backtest, fit, predict.

Every subcommand has ``--help``. Errors print one readable line (``tsattn: error: ...``) and
exit with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

import pandas as pd

from tsattn import commands

#: the longest error line printed, and the longest single word in it (ids, file contents...)
MAX_MESSAGE_CHARS = 1000
MAX_WORD_CHARS = 80


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, like every other CLI error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"tsattn: error: {one_line(message)} (see `{self.prog} --help`)\n")


def _int_list(text: str) -> list[int]:
    """Comma-separated integers, at least one (e.g. seeds ``0,1,2``)."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers like 0,1,2, got {_shorten(text)!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected at least one integer, got {text!r}")
    return values


def _positive_int_list(text: str) -> list[int]:
    """Comma-separated integers >= 1, at least one (e.g. horizons ``96,192``)."""
    values = _int_list(text)
    if min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected integers >= 1 like 96,192, got {text!r}")
    return values


def _positive_int(text: str) -> int:
    """One integer >= 1 (a horizon, a lookback, a count)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {_shorten(text)!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _level_list(text: str) -> list[float]:
    """Comma-separated interval levels in percent, each strictly between 0 and 100 (``80,95``)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected levels in percent like 80,95, got {_shorten(text)!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected at least one level like 80,95, got {text!r}")
    bad = [v for v in values if not 0 < v < 100]  # also NaN
    if bad:
        raise argparse.ArgumentTypeError(
            f"levels are percentages strictly between 0 and 100 like 80,95, got {text!r}"
        )
    if len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"levels must be distinct, got {text!r}")
    return [int(v) if v.is_integer() else v for v in values]


def _add_level_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--level",
        type=_level_list,
        help="prediction intervals, comma-separated levels in percent (e.g. 80,95): adds "
        "<model>-lo-80, <model>-hi-80, ... columns. Native for naive, seasonal_naive, ets, "
        "arima, auto_arima, theta, gluonts, auto and networks trained with a distribution "
        "head (patchtst:loss=quantile); any model with :intervals=conformal (a default "
        "patchtst, sklearn)",
    )


def _add_series_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--csv", required=True, help="CSV file with the series (wide or long)")
    p.add_argument("--time-col", default="ds", help="time column (default: ds)")
    p.add_argument("--id-col", help="series id column of a long file (e.g. unique_id)")
    p.add_argument("--target-col", help="value column of a long file, or one wide column")
    p.add_argument("--value-cols", help="comma-separated series columns of a wide file")
    p.add_argument("--freq", help="pandas frequency (default: inferred)")
    p.add_argument("--fill", choices=["ffill", "interpolate", "zero"], help="fill gaps/NaN")


def _column_list(text: str) -> list[str]:
    """Comma-separated column names, at least one, each once (e.g. ``price,promo``)."""
    names = [v.strip() for v in text.split(",") if v.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected column names like price,promo, got {text!r}")
    repeated = [n for i, n in enumerate(names) if n in names[:i]]
    if repeated:
        raise argparse.ArgumentTypeError(f"{repeated[0]!r} is listed twice in {text!r}")
    return names


def _add_covariate_options(p: argparse.ArgumentParser) -> None:
    """Covariates of the models a command builds (``fit``, ``backtest``)."""
    p.add_argument(
        "--future-covariates",
        type=_column_list,
        metavar="COLS",
        help="comma-separated columns of --csv known ahead (prices, promotions, plans): "
        "every model uses them; `tsattn predict` then needs their future values (--futr-csv)",
    )
    p.add_argument(
        "--past-covariates",
        type=_column_list,
        metavar="COLS",
        help="comma-separated columns of --csv observed only up to now (e.g. measured weather)",
    )
    p.add_argument(
        "--static-csv",
        metavar="FILE",
        help="CSV of static covariates, one row per series: the id column (--id-col, else "
        "unique_id, else the first column) and the static columns (every other column)",
    )
    p.add_argument(
        "--calendar",
        nargs="?",
        const=True,
        type=_column_list,
        metavar="FEATURES",
        help="add calendar features as future-known covariates: alone, those that vary at the "
        "data's frequency; or some of hour,dayofweek,dayofmonth,dayofyear,month",
    )
    p.add_argument(
        "--holidays",
        metavar="COUNTRY",
        help="add a 0/1 public-holiday column of this country (e.g. US; the holidays extra)",
    )
    p.add_argument(
        "--ignore-covariates",
        action="store_true",
        help="models that cannot use the covariates fit without them (with a warning) "
        "instead of stopping with an error",
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tsattn",
        description="Forecasting with pluggable structured attention (MLR, BTT) and baselines.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log training progress")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("datasets", help="list the benchmark datasets and where they are")
    p.add_argument("--data-dir", help="directory with the dataset CSVs")
    sub.add_parser("attention", help="list the registered attention variants")
    sub.add_parser("models", help="list the registered models")

    p = sub.add_parser(
        "benchmark",
        help="literature-protocol benchmark on a dataset",
        description="Train on the train split (early stopping on val), score every test "
        "window on standardized data, and print ours beside the published PatchTST numbers. "
        "Cells already in --out are skipped (resume).",
    )
    p.add_argument("--dataset", required=True, help="e.g. ETTh1 (see `tsattn datasets`)")
    p.add_argument(
        "--models",
        required=True,
        help="comma-separated specs, e.g. patchtst:mlr,patchtst:softmax,dlinear,seasonal_naive"
        " (options: patchtst:mlr:ranks=[2,1,1]:max_epochs=20)",
    )
    p.add_argument(
        "--horizons",
        type=_positive_int_list,
        default=[96, 192, 336, 720],
        help="comma-separated forecast horizons (default: 96,192,336,720)",
    )
    p.add_argument("--input-size", type=_positive_int, default=336, help="lookback (default: 336)")
    p.add_argument("--seeds", type=_int_list, default=[0], help="comma-separated seeds")
    p.add_argument("--out", default="results", help="output directory (CSV, JSON, plot)")
    p.add_argument("--data-dir", help="directory with the dataset CSVs")
    p.add_argument(
        "--quick", action="store_true", help="3 epochs x 4096 windows at lr 1e-3 (smoke run)"
    )
    p.add_argument("--max-epochs", type=_positive_int, help="cap the epochs of every neural model")
    p.add_argument(
        "--legacy-drop-last", type=_positive_int, metavar="BATCH", help="drop_last as old code"
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")

    _add_backtest_parser(sub)

    p = sub.add_parser("fit", help="fit one model on your CSV and save it")
    _add_series_options(p)
    p.add_argument("--model", required=True, help="a model spec, e.g. patchtst:mlr")
    p.add_argument(
        "--alias",
        help="name of the model and its forecast column (default: the spec's model name and "
        "attention, e.g. patchtst:mlr for patchtst:mlr:max_steps=100)",
    )
    p.add_argument("--h", type=_positive_int, required=True, help="forecast horizon")
    p.add_argument("--input-size", type=_positive_int, help="lookback of neural models")
    p.add_argument("--val-size", type=_positive_int, help="validation steps for early stopping")
    p.add_argument("--save", required=True, help="path of the saved model file")
    p.add_argument("--checkpoint-dir", help="write a training checkpoint here every epoch")
    p.add_argument(
        "--resume", action="store_true", help="continue from the checkpoint in --checkpoint-dir"
    )
    _add_covariate_options(p)
    _add_no_progress(p)

    _add_predict_parser(sub)
    fit_flags = _flags(sub.choices["fit"])
    switches = {  # flags without a value, in every subcommand (--ignore-covariates, --quick)
        a.option_strings[-1]
        for command in sub.choices.values()
        for a in command._actions
        if a.nargs == 0 and a.option_strings
    }
    for name, command in sub.choices.items():
        flags = _flags(command)
        for python, dest in PYTHON_NAMES.items():  # e.g. futr_df= -> --futr-csv
            flag = flags.get(dest) or (fit_flags.get(dest) if name == "predict" else None)
            if flag:
                flags[python] = flag
        command.set_defaults(interface=Interface(name, flags, switches))
    return parser


#: Python names of the covariate arguments and the dest of the flag that gives them (predict
#: also names the fit flags: its model was fitted with them)
PYTHON_NAMES = {
    "futr_exog_list": "future_covariates",
    "hist_exog_list": "past_covariates",
    "ignore_covariates": "ignore_covariates",
    "futr_df": "futr_csv",
    "static_df": "static_csv",
}


def _flags(command: argparse.ArgumentParser) -> dict[str, str]:
    """A subcommand's flags by ``dest`` (``time_col`` -> ``--time-col``)."""
    return {a.dest: a.option_strings[-1] for a in command._actions if a.option_strings}


def _add_backtest_parser(sub) -> None:
    p = sub.add_parser("backtest", help="rolling-origin backtest of models on your CSV")
    _add_series_options(p)
    p.add_argument("--h", type=_positive_int, required=True, help="forecast horizon")
    p.add_argument("--models", default="naive,seasonal_naive", help="comma-separated specs")
    p.add_argument(
        "--alias",
        help="comma-separated forecast column names, one per model (default: each spec's "
        "model name and attention, e.g. patchtst:mlr for patchtst:mlr:max_steps=100)",
    )
    p.add_argument("--input-size", type=_positive_int, help="lookback of neural models")
    p.add_argument(
        "--n-windows", type=_positive_int, default=3, help="backtest windows (default: 3)"
    )
    p.add_argument("--step", type=_positive_int, help="steps between cutoffs (default: h)")
    p.add_argument("--refit", default="true", help="true, false, or refit every K windows")
    p.add_argument("--metrics", default="mae,mse,rmse,smape", help="comma-separated metrics")
    _add_level_option(p)
    p.add_argument(
        "--season-length",
        type=_positive_int,
        help="seasonal period of the MASE/MSIS scale (default: the frequency's season, "
        "e.g. 12 for monthly, 24 for hourly data)",
    )
    p.add_argument(
        "--on-error",
        choices=["raise", "warn"],
        default="raise",
        help="a model that fails on a window: stop (raise, the default) or warn, leave its "
        "forecasts there empty and score the windows every model forecast (warn)",
    )
    p.add_argument("--out", help="write the backtest frame to this CSV")
    p.add_argument(
        "--plot",
        help="write a forecast-vs-actuals plot (PNG): the last 3 seasons before the first "
        "cutoff, then the windows, intervals as shaded bands, a small panel per covariate "
        "column under each series",
    )
    _add_covariate_options(p)
    _add_no_progress(p)


def _add_no_progress(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="hide the progress shown on stderr (which model and window is running)",
    )


def _add_predict_parser(sub) -> None:
    p = sub.add_parser("predict", help="forecast with a saved model")
    p.add_argument("--model-path", required=True, help="a file written by `tsattn fit`")
    p.add_argument("--csv", help="history to forecast from (default: the training data)")
    p.add_argument(
        "--time-col", default="ds", help="time column of --csv and --futr-csv (default: ds)"
    )
    p.add_argument(
        "--id-col", help="series id column of --csv, --futr-csv and --static-csv (e.g. store)"
    )
    p.add_argument("--h", type=_positive_int, help="horizon (default: the model's)")
    p.add_argument(
        "--futr-csv",
        metavar="FILE",
        help="future values of the model's future-known covariates (--future-covariates at "
        "fit): a long CSV with the id column (unique_id; without one its rows serve every "
        "series), the time column and those columns, for the h dates after each series' end",
    )
    p.add_argument(
        "--static-csv",
        metavar="FILE",
        help="static covariates of series not seen at fit: the id column and the model's "
        "static columns, one row per series",
    )
    _add_level_option(p)
    p.add_argument("--out", help="write the forecast CSV here (default: print it)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tsattn`` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s"
    )
    try:
        output = getattr(commands, args.command)(args)
    except (ValueError, ImportError, OSError, KeyError) as err:
        if args.debug:
            raise
        return _fail(args.interface.words(_reason(err), _specs(args)))
    except Exception as err:  # a bug, not a bad input: still one line, the traceback on --debug
        if args.debug:
            raise
        return _fail(f"unexpected {type(err).__name__}: {_reason(err)} (rerun with --debug)")
    try:
        _print(output)
    except BrokenPipeError:  # e.g. `tsattn models | head`: the reader left; exit quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


class Interface:
    """A subcommand's flags, to say an error in the CLI's words instead of the Python API's.

    ``time_col=`` becomes ``--time-col``, ``fill='zero'`` ``--fill zero`` and
    ``level=[80, 95]`` ``--level 80,95`` wherever the subcommand has that flag; the Python
    option ``intervals='conformal'`` becomes the spec option (``patchtst:intervals=conformal``
    for the model spec the message is about); a note such as ``(the CLI: --on-error warn)``
    is dropped, having become the message itself.

    >>> cli = Interface("backtest", {"time_col": "--time-col", "fill": "--fill"})
    >>> cli.words("fix them or name the time column with time_col=", [])
    'fix them or name the time column with --time-col'
    >>> cli.words("Pass fill= (ffill, zero) or fill='zero'", [])
    'Pass --fill (ffill, zero) or --fill zero'
    >>> cli.words("create it with intervals='conformal'", ["patchtst:mlr"])
    'create it with patchtst:mlr:intervals=conformal'
    >>> cli.words("spec 'naive:fill=zero' needs fill=zero (the CLI: --fill zero)", [])
    "spec 'naive:fill=zero' needs --fill zero"
    """

    _OPTION = re.compile(
        r"(?<![:\w])([a-z_]+)=(?:'([^']*)'|\"([^\"]*)\"|\[([^\]]*)\]|([^\s,;()'\"\[]+))?"
    )
    _INTERVALS = re.compile(r"(?<![:\w])intervals=(?:'|\")?conformal(?:'|\")?")
    _CLI_NOTE = re.compile(r"\s*\(the CLI: ([^)]*)\)")

    #: frame arguments named without ``=`` (``futr_df has no row ...``)
    _FRAME = re.compile(r"(?<![:\w-])(futr_df|static_df)\b(?!=)")

    def __init__(self, command: str, flags: dict[str, str], switches: frozenset | set = ()):
        self.command, self.flags, self.switches = command, flags, set(switches)

    def words(self, message: str, specs: Sequence[str]) -> str:
        """``message`` with Python option names as this subcommand's flags (see above)."""
        spec = next((s for s in specs if s in message), specs[0] if specs else "MODEL")
        text = self._INTERVALS.sub(f"{spec}:intervals=conformal", message)
        text = self._OPTION.sub(self._flag, text)
        text = self._FRAME.sub(lambda m: self.flags.get(m.group(1), m.group(0)), text)
        return self._CLI_NOTE.sub(lambda m: self._note(m, text), text)

    def _note(self, match: re.Match, text: str) -> str:
        """A ``(the CLI: ...)`` note: dropped where the message already says it."""
        said = text[: match.start()] + text[match.end() :]
        return "" if match.group(1) in said else f" ({match.group(1)})"

    def _flag(self, match: re.Match) -> str:
        name, quoted, double, listed, bare = match.groups()
        flag = self.flags.get(name)
        if flag is None or name in ("models", "model"):  # spec options stay key=value
            return match.group(0)
        value = next((v for v in (quoted, double, bare) if v is not None), None)
        if listed is not None:
            value = ",".join(v.strip().strip("'\"") for v in listed.split(","))
        if flag in self.switches and value in (None, "True"):  # ignore_covariates=True
            return flag
        return flag if value is None else f"{flag} {value}"


def _specs(args: argparse.Namespace) -> list[str]:
    """The model specs of a command (``--models`` / ``--model``), longest first, so the
    spec an error names is found before a shorter one it contains."""
    text = getattr(args, "models", None) or getattr(args, "model", None) or ""
    specs = [s.strip() for s in re.split(r",(?![^\[{]*[\]}])", text) if s.strip()]
    return sorted(specs, key=len, reverse=True)


def _fail(message: str) -> int:
    print(f"tsattn: error: {one_line(message)}", file=sys.stderr)
    return 2


def _reason(err: BaseException) -> str:
    """The message of ``err`` (a ``KeyError``'s without its quotes), or its type's name."""
    text = err.args[0] if isinstance(err, KeyError) and len(err.args) == 1 else err
    return str(text) or type(err).__name__


def one_line(message: str) -> str:
    r"""``message`` as one readable line of at most :data:`MAX_MESSAGE_CHARS` characters.

    Line breaks become spaces, numpy scalar reprs become plain values (``np.False_`` ->
    ``False``, ``np.float64(1.5)`` -> ``1.5``) and any word longer than
    :data:`MAX_WORD_CHARS` (a huge id or a line of file content) is shortened.

    >>> one_line("bad value np.False_\nfor np.int64(3) " + "x" * 200)
    'bad value False for 3 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...(200 characters)'
    """
    text = re.sub(r"np\.(True|False)_", r"\1", message)
    text = re.sub(r"np\.(?:u?int|float|complex|str_|bytes_)\w*\(([^()]*)\)", r"\1", text)
    text = " ".join(_shorten(word) for word in text.split())
    return _shorten(text, MAX_MESSAGE_CHARS)


def _shorten(text: str, limit: int = MAX_WORD_CHARS) -> str:
    """``text``, or its first part and its length when longer than ``limit``."""
    if len(text) <= limit:
        return text
    return f"{text[: min(30, limit)]}...({len(text)} characters)"


def _print(output: object) -> None:
    if isinstance(output, pd.DataFrame):
        with pd.option_context("display.max_rows", 200, "display.width", 160):
            print(output.to_string(index=False), flush=True)
    elif output:
        print(output, flush=True)


if __name__ == "__main__":
    sys.exit(main())
