"""What each ``tsattn`` subcommand does; :mod:`tsattn.cli` only parses arguments.

Each function takes the parsed ``argparse.Namespace`` and returns a DataFrame or a string to
print.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
import warnings
from pathlib import Path

import pandas as pd


def datasets(args: argparse.Namespace) -> pd.DataFrame:
    from tsattn.datasets import list_datasets

    return list_datasets(args.data_dir)


def attention(args: argparse.Namespace) -> str:
    from tsattn.attention import ATTENTION

    return _listing({name: _first_line(ATTENTION.get(name)) for name in ATTENTION.names()})


def models(args: argparse.Namespace) -> str:
    return _listing(dict(sorted(model_docstrings().items())))


def model_docstrings() -> dict[str, str]:
    """Each built-in model's registered name and the first sentence of its docstring, read
    from the source of :mod:`tsattn.models` (the classes decorated ``@register_model(name)``)
    without importing it: listing the models costs no torch import."""
    import ast

    found = {}
    here = Path(__file__).parent
    for path in sorted([*(here / "models").rglob("*.py"), *(here / "auto").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            for decorator in node.decorator_list:
                name = _registered_name(decorator)
                if name is not None:
                    found[name] = _first_line(ast.get_docstring(node) or "")
    return found


def _registered_name(decorator: object) -> str | None:
    """``name`` of a ``@register_model("name")`` decorator node, else None."""
    import ast

    if not (isinstance(decorator, ast.Call) and decorator.args):
        return None
    func, arg = decorator.func, decorator.args[0]
    named = isinstance(func, ast.Name) and func.id == "register_model"
    return arg.value if named and isinstance(arg, ast.Constant) else None


def _listing(descriptions: dict[str, str]) -> str:
    """``name  description`` lines, left-aligned under a header (one line per entry)."""
    width = max(len("name"), *map(len, descriptions))
    lines = [f"{name:<{width}}  {text}" for name, text in descriptions.items()]
    return "\n".join([f"{'name':<{width}}  description", *lines])


def benchmark(args: argparse.Namespace) -> str:
    from tsattn.benchmark import run_benchmark
    from tsattn.evaluation.plots import plot_benchmark
    from tsattn.models.factory import parse_model_list

    results = run_benchmark(
        args.dataset,
        parse_model_list(args.models),
        horizons=args.horizons,
        input_size=args.input_size,
        seeds=args.seeds,
        out_dir=args.out,
        data_dir=args.data_dir,
        quick=args.quick,
        max_epochs=args.max_epochs,
        legacy_drop_last=args.legacy_drop_last,
        device=args.device,
        progress=not args.no_progress,
    )
    out = Path(args.out)
    plot_path = out / "benchmark_mse.png"
    plot_benchmark(results, metric="mse", path=plot_path)
    return f"results: {out / 'results.csv'}, {out / 'results.json'}; plot: {plot_path}"


def backtest(args: argparse.Namespace) -> pd.DataFrame:
    """Backtest, write the frame and plot where asked (saying where, on stderr), and return
    the metrics of the windows every model forecast."""
    df = _read(args)  # the file and the arguments first: torch loads after them
    static_df = _read_static(args)
    metrics = _names(args.metrics, "--metrics", "mae,mse")
    from tsattn.evaluation import backtest as run_backtest
    from tsattn.evaluation import evaluate
    from tsattn.evaluation.plots import plot_backtest

    if args.level:  # how well the intervals cover, and their M4 score
        metrics += [m for m in ("coverage", "msis") if m not in metrics]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        forecasters = _build_models(args.models, args.alias, _model_defaults(args, static_df))
        frame = run_backtest(
            forecasters,
            df,
            h=args.h,
            n_windows=args.n_windows,
            step=args.step,
            refit=_refit(args.refit),
            level=args.level,
            progress=not args.no_progress,
            on_error=args.on_error,
            static_df=static_df,
        )
    _report_warnings(caught, args)
    if args.out:
        _write_csv(frame, args.out)
        _say(f"wrote the backtest ({len(frame)} rows) to {args.out}")
    if args.plot:
        covariates = [*(args.future_covariates or []), *(args.past_covariates or [])]
        plot_backtest(frame, history=df, path=args.plot, covariates=covariates)
        _say(f"wrote the plot to {args.plot}")
    scored = _scored_rows(frame, [m.name for m in forecasters])  # the season: df's by default
    return evaluate(scored, metrics=metrics, train_df=df, season_length=args.season_length)


def fit(args: argparse.Namespace) -> str:
    if args.resume and not args.checkpoint_dir:
        raise ValueError("--resume needs --checkpoint-dir (where the checkpoint is)")
    df = _read(args)
    static_df = _read_static(args)
    defaults = {**_model_defaults(args, static_df), "progress": not args.no_progress}
    if args.checkpoint_dir:
        defaults["checkpoint_dir"] = args.checkpoint_dir
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (model,) = _build_models(args.model, args.alias, defaults, one=True)
        if not args.no_progress:
            n_series = df["unique_id"].nunique()
            _say(f"fitting {model.name} on {n_series} series ({len(df)} observations)")
        model.fit(df, val_size=args.val_size, resume=args.resume, static_df=static_df)
    _report_warnings(caught, args, show_others=True)
    path = model.save(args.save)
    return f"saved {model.name} to {path}"


def predict(args: argparse.Namespace) -> pd.DataFrame | str:
    from tsattn.datasets import read_series
    from tsattn.datasets.loaders import read_csv_file

    raw = read_csv_file(args.csv) if args.csv else None  # the files first: torch loads after
    futr_raw = read_csv_file(args.futr_csv) if args.futr_csv else None
    static_df = _read_static(args)
    from tsattn.auto import load  # knows "auto"
    from tsattn.models.covariates import frame_columns

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = load(args.model_path)
        history = None
        if raw is not None:
            history = read_series(
                raw,
                time_col=args.time_col,
                id_col=args.id_col,
                covariate_cols=[c for c in frame_columns(model) if c in raw.columns],
            )
        futr_df = _future_frame(args, model, futr_raw, history)
        forecast = model.predict(
            df=history, h=args.h, level=args.level, futr_df=futr_df, static_df=static_df
        )
    _report_warnings(caught, args, show_others=True)
    if args.out:
        _write_csv(forecast, args.out)
        return f"wrote {len(forecast)} rows to {args.out}"
    return forecast


def _read(args: argparse.Namespace) -> pd.DataFrame:
    """The series of ``--csv``, with the ``--future-covariates`` and ``--past-covariates``
    columns (a wide file's are shared by its series)."""
    from tsattn.datasets import read_series
    from tsattn.datasets.loaders import read_csv_file

    value_cols = args.value_cols.split(",") if args.value_cols else None
    covariates = [*(args.future_covariates or []), *(args.past_covariates or [])]
    repeated = [c for i, c in enumerate(covariates) if c in covariates[:i]]
    if repeated:
        raise ValueError(
            f"column {repeated[0]!r} is both in --future-covariates and --past-covariates; "
            f"give it to one of them"
        )
    frame = read_csv_file(args.csv)
    missing = [c for c in covariates if c not in frame.columns]
    if missing:
        futr = missing[0] in (args.future_covariates or [])
        flag = "--future-covariates" if futr else "--past-covariates"
        raise ValueError(
            f"{flag} names column {missing[0]!r}, which {args.csv} does not have; its columns: "
            f"{', '.join(map(str, frame.columns))}"
        )
    return read_series(
        frame,
        time_col=args.time_col,
        value_cols=value_cols,
        id_col=args.id_col,
        target_col=args.target_col,
        freq=args.freq,
        fill=args.fill,
        covariate_cols=covariates,
    )


def _read_static(args: argparse.Namespace) -> pd.DataFrame | None:
    """``--static-csv`` as ``static_df``: its id column (``--id-col``, else ``unique_id``,
    else the first column) renamed ``unique_id``, then the static columns."""
    if not getattr(args, "static_csv", None):
        return None
    from tsattn.datasets.loaders import read_csv_file

    frame = read_csv_file(args.static_csv)
    id_col = _id_column(frame, args.id_col, "--static-csv", args.static_csv)
    if id_col is None:
        id_col = frame.columns[0]
    if len(frame.columns) < 2:
        raise ValueError(
            f"--static-csv {args.static_csv} has no static columns: give the id column and at "
            f"least one column of values, one row per series"
        )
    frame = frame.rename(columns={id_col: "unique_id"})
    frame["unique_id"] = frame["unique_id"].astype(str)
    return frame


def _id_column(frame: pd.DataFrame, id_col: str | None, flag: str, path: str) -> str | None:
    """The series id column of a covariate file: ``--id-col`` (which must be there), else
    ``unique_id`` when present, else None."""
    if id_col is not None:
        if id_col not in frame.columns:
            raise ValueError(
                f"{flag} {path} has no id column {id_col!r} (--id-col); its columns: "
                f"{', '.join(map(str, frame.columns))}"
            )
        return id_col
    return "unique_id" if "unique_id" in frame.columns else None


def _future_frame(args, model, futr_raw: pd.DataFrame | None, history) -> pd.DataFrame | None:
    """``--futr-csv`` as ``futr_df`` in the model's column names: a file without an id
    column gives its rows to every series. Without the file, a model fitted with
    future-known covariates is an error naming the flag."""
    from tsattn.models.covariates import frame_columns

    needed = list(frame_columns(model, "futr"))
    if futr_raw is None:
        if needed:
            h = args.h or model.h
            raise ValueError(
                f"{model.name} was fitted with future-known covariates {', '.join(needed)} "
                f"(--future-covariates): predict needs --futr-csv FILE, a CSV with the series "
                f"id, {args.time_col} and those columns for the {h} dates after each series' "
                f"end"
            )
        return None
    id_col = _id_column(futr_raw, args.id_col, "--futr-csv", args.futr_csv)
    if args.time_col not in futr_raw.columns:
        raise ValueError(
            f"--futr-csv {args.futr_csv} has no time column {args.time_col!r} (--time-col); "
            f"its columns: {', '.join(map(str, futr_raw.columns))}"
        )
    missing = [c for c in needed if c not in futr_raw.columns]
    if missing:
        raise ValueError(
            f"--futr-csv {args.futr_csv} lacks the future-known column(s) {', '.join(missing)} "
            f"that {model.name} was fitted with"
        )
    frame = futr_raw.rename(columns={args.time_col: model.time_col})
    if id_col is None:  # one table of future values, shared by every series
        ids = _series_ids(model, history)
        frame = pd.concat([frame.assign(**{model.id_col: uid}) for uid in ids], ignore_index=True)
    else:
        frame = frame.rename(columns={id_col: model.id_col})
    return frame


def _series_ids(model, history: pd.DataFrame | None) -> list[str]:
    """The series a forecast is for: those of ``--csv``, else those the model was fitted on."""
    if history is not None:
        return list(pd.unique(history["unique_id"]))
    return model.series_ids


def _build_models(text: str, aliases: str | None, defaults: dict, one: bool = False) -> list:
    """The forecasters ``text`` specifies (``--models`` / ``--model``), named by ``aliases``
    (``--alias``, comma-separated) or each by its spec's model name and attention
    (:func:`default_alias`; the whole spec where two would share a name)."""
    import tsattn.auto  # noqa: F401 - registers "auto" (an AutoForecaster) for --models
    from tsattn.models.factory import build_model, parse_model_list

    specs = parse_model_list(text)
    if one and len(specs) != 1:
        raise ValueError(f"--model takes one model spec, got {len(specs)}: {text!r}")
    if aliases is None:
        names = [default_alias(spec) for spec in specs]
        names = [n if names.count(n) == 1 else s.alias for n, s in zip(names, specs)]
    else:
        names = _names(aliases, "--alias", "patchtst_mlr")
        if len(names) != len(specs) or len(set(names)) != len(names):
            raise ValueError(
                f"--alias needs {len(specs)} distinct comma-separated name(s), one per model "
                f"spec, got {aliases!r}"
            )
    return [build_model(spec, **defaults, alias=name) for spec, name in zip(specs, names)]


def default_alias(spec) -> str:
    """The forecast column of a model spec (a :class:`~tsattn.models.factory.ModelSpec`): its
    model name and attention, without options.

    >>> from tsattn.models.factory import parse_model_spec
    >>> default_alias(parse_model_spec("patchtst:mlr:max_steps=100"))
    'patchtst:mlr'
    >>> default_alias(parse_model_spec("seasonal_naive:season_length=7"))
    'seasonal_naive'
    """
    attention = spec.params.get("attention")
    return f"{spec.name}:{attention}" if isinstance(attention, str) else spec.name


def _names(text: str, option: str, example: str) -> list[str]:
    """The comma-separated names given to ``option``; at least one."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError(f"{option} is empty; give comma-separated names, e.g. {example}")
    return names


def _write_csv(frame: pd.DataFrame, path: str) -> None:
    """Write ``frame`` to ``path`` as CSV atomically, creating parent directories (as the
    plots and ``save`` do): a kill or an error mid-write leaves the previous file intact."""
    from tsattn.atomic import atomic_file

    with atomic_file(path) as handle:
        frame.to_csv(handle, index=False)


def _model_defaults(args: argparse.Namespace, static_df: pd.DataFrame | None = None) -> dict:
    defaults = {"h": args.h, "progress": False}
    if args.input_size:
        defaults["input_size"] = args.input_size
    return {**defaults, **_covariate_options(args, static_df)}


def _covariate_options(args: argparse.Namespace, static_df: pd.DataFrame | None) -> dict:
    """The covariate arguments of every model a command builds, from its flags."""
    static = [] if static_df is None else [c for c in static_df.columns if c != "unique_id"]
    options = {
        "futr_exog_list": args.future_covariates,
        "hist_exog_list": args.past_covariates,
        "stat_exog_list": static,
        "calendar": args.calendar,
        "holidays": args.holidays,
    }
    options = {k: v for k, v in options.items() if v}
    if args.ignore_covariates:
        options["ignore_covariates"] = True
    return options


def _refit(text: str) -> bool | int:
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    try:
        return int(lowered)
    except ValueError:
        raise ValueError(f"--refit must be true, false or an integer, got {text!r}") from None


def _say(message: str) -> None:
    """A progress or status line on stderr (stdout holds the command's result)."""
    print(message, file=sys.stderr, flush=True)


def _report_warnings(
    caught: list, args: argparse.Namespace | None = None, show_others: bool = False
) -> None:
    """The warnings (failures under --on-error warn, covariates a model ignores) as one
    stderr line each, once each, in the CLI's words; other categories are shown as Python
    shows them with ``show_others``, else dropped."""
    said = set()
    for warning in caught:
        if not issubclass(warning.category, UserWarning):
            if show_others:
                warnings.showwarning(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
        else:
            text = " ".join(str(warning.message).split())
            if args is not None and "covariates" in text:
                text = args.interface.words(text, [])
            if text not in said:
                said.add(text)
                _say(f"tsattn: warning: {text}")


def _scored_rows(frame: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """The rows every model forecast: failed windows (NaN) drop for all models alike, so the
    models are compared on the same windows."""
    kept = frame.dropna(subset=models)
    if len(kept) < len(frame):
        if kept.empty:
            raise ValueError("every backtest window failed for some model: nothing to score")
        _say(
            f"scoring the {len(kept)} of {len(frame)} rows that every model forecast (the "
            f"windows where a model failed are left out for all models)"
        )
    return kept


#: reST inline markup: roles (:class:`~a.B`), literals (``x``), emphasis (*x*, **x**)
_ROLE = re.compile(r":[\w:]+:`~?([^`]*)`")
_LITERAL = re.compile(r"``([^`]*)``|`([^`]*)`")
_EMPHASIS = re.compile(r"\*\*?([^*]+)\*\*?")
_SENTENCE = re.compile(r"(.+?[.!?])(?=\s+[A-Z(]|$)")


def _first_line(obj: object) -> str:
    """The first sentence of ``obj``'s docstring (or of ``obj``, a string), on one line,
    without reST markup.

    >>> class M:
    ...     '''DLinear forecaster (as :class:`~tsattn.NLinear`, plus ``kernel_size``), e.g.
    ...     for trends. More text.'''
    >>> _first_line(M)
    'DLinear forecaster (as NLinear, plus kernel_size), e.g. for trends.'
    """
    doc = obj if isinstance(obj, str) else inspect.getdoc(obj) or ""
    paragraph = " ".join(doc.split("\n\n", 1)[0].split())
    text = _ROLE.sub(lambda m: m.group(1).rsplit(".", 1)[-1], paragraph)
    text = _LITERAL.sub(lambda m: m.group(1) or m.group(2), text)
    text = _EMPHASIS.sub(r"\1", text)
    match = _SENTENCE.match(text)
    return match.group(1) if match else text
