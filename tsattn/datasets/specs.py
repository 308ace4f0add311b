"""The benchmark datasets, described as data.

One frozen :class:`DatasetSpec` per dataset, registered by name (case-insensitive) in
:data:`DATASETS`. Adding a dataset is one more entry in :data:`SPECS`.

>>> get_spec("etth1").rows
17420
>>> get_spec("weather").split
'ratio_70_10_20'
"""

from __future__ import annotations

from dataclasses import dataclass

from tsattn.registry import Registry

ETT_URL = "https://raw.githubusercontent.com/zhouhaoyi/ETDataset/main/ETT-small/{file}"
AUTOFORMER_BUNDLE = (
    "the Autoformer / Time-Series-Library dataset bundle (Google Drive link in the README of "
    "https://github.com/thuml/Autoformer or https://github.com/thuml/Time-Series-Library)"
)


@dataclass(frozen=True)
class DatasetSpec:
    """Where a benchmark CSV comes from and what it must look like.

    ``rows`` excludes the header; ``columns`` includes ``date``. ``sha256`` is the checksum of
    the uncompressed CSV bytes, ``None`` when no reference copy was available to hash (the
    shape is checked instead). ``url`` is ``None`` when no stable direct download exists;
    ``source`` then tells a user where to get the file.
    """

    name: str
    file: str
    rows: int
    columns: int
    freq: str
    split: str
    sha256: str | None = None
    url: str | None = None
    source: str = AUTOFORMER_BUNDLE
    target: str = "OT"
    time_col: str = "date"


def _ett(name: str, rows: int, freq: str, split: str, sha256: str) -> DatasetSpec:
    file = f"{name}.csv"
    return DatasetSpec(
        name=name,
        file=file,
        rows=rows,
        columns=8,
        freq=freq,
        split=split,
        sha256=sha256,
        url=ETT_URL.format(file=file),
        source="https://github.com/zhouhaoyi/ETDataset (ETT-small/)",
    )


SPECS: tuple[DatasetSpec, ...] = (
    _ett(
        "ETTh1",
        17420,
        "h",
        "ett_hour",
        "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066",
    ),
    _ett(
        "ETTh2",
        17420,
        "h",
        "ett_hour",
        "a3dc2c597b9218c7ce1cd55eb77b283fd459a1d09d753063f944967dd6b9218b",
    ),
    _ett(
        "ETTm1",
        69680,
        "15min",
        "ett_minute",
        "6ce1759b1a18e3328421d5d75fadcb316c449fcd7cec32820c8dafda71986c9e",
    ),
    _ett(
        "ETTm2",
        69680,
        "15min",
        "ett_minute",
        "db973ca252c6410a30d0469b13d696cf919648d0f3fd588c60f03fdbdbadd1fd",
    ),
    DatasetSpec(
        "weather",
        "weather.csv",
        52696,
        22,
        "10min",
        "ratio_70_10_20",
        sha256="34ee981d07313e51da2a50bb600072c8ae4a69cb4b0651f4cb93a069d7a2ba63",
    ),
    DatasetSpec("electricity", "electricity.csv", 26304, 322, "h", "ratio_70_10_20"),
    DatasetSpec("traffic", "traffic.csv", 17544, 863, "h", "ratio_70_10_20"),
    DatasetSpec(
        "exchange_rate",
        "exchange_rate.csv",
        7588,
        9,
        "D",
        "ratio_70_10_20",
        sha256="48b4d9d3d508f5104162e85b9a6042e3557fde11aa9f2944eba8c0d0efc89842",
    ),
    DatasetSpec(
        "national_illness",
        "national_illness.csv",
        966,
        8,
        "W-TUE",
        "ratio_70_10_20",
        sha256="93601f64d2566dc796ca4305adad8b8560c2db1a1ff04543c3bd813a7263570a",
    ),
)

DATASETS: Registry[DatasetSpec] = Registry("dataset")
for _spec in SPECS:
    DATASETS.register(_spec.name)(_spec)


def get_spec(name: str | DatasetSpec) -> DatasetSpec:
    """The spec registered under ``name`` (case-insensitive); a spec passes through.

    Passing a spec lets a caller describe a file of its own, e.g. a small test copy of
    Electricity: ``dataclasses.replace(get_spec("electricity"), rows=100, columns=12)``.
    """
    if isinstance(name, DatasetSpec):
        return name
    return DATASETS.get(name)
