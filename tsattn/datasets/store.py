"""Finding, checking and downloading the benchmark files.

Files are looked up, in order, in the ``data_dir`` argument, the directory named by the
``TSATTN_DATA_DIR`` environment variable and the user cache (``$XDG_CACHE_HOME/tsattn``, else
``~/.cache/tsattn``), as ``NAME.csv`` or ``NAME.csv.gz``. A missing file with a stable public
URL is downloaded into the cache atomically: streamed into a temporary file in the same
directory, checked against its sha256, then renamed into place, so an interrupted download
never leaves a file that a later load would trust.

>>> [p.name for p in search_dirs("/data")][:1]
['data']
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.client
import lzma
import os
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from tsattn.atomic import atomic_file
from tsattn.datasets.specs import DatasetSpec

ENV_VAR = "TSATTN_DATA_DIR"
DOWNLOAD_TIMEOUT_S = 60.0
_CHUNK = 1 << 20


def cache_dir() -> Path:
    """The user cache directory for downloaded datasets (not created here)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tsattn"


def search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The directories searched for dataset files, in lookup order."""
    dirs = [Path(d) for d in (data_dir, os.environ.get(ENV_VAR)) if d]
    return [*dirs, cache_dir()]


def candidates(spec: DatasetSpec, data_dir: str | os.PathLike | None = None) -> Iterator[Path]:
    """Every path where ``spec``'s file may live, in lookup order."""
    for directory in search_dirs(data_dir):
        yield directory / spec.file
        yield directory / f"{spec.file}.gz"


def find_file(spec: DatasetSpec, data_dir: str | os.PathLike | None = None) -> Path | None:
    """The first existing file for ``spec``, or ``None``."""
    return next((p for p in candidates(spec, data_dir) if p.is_file()), None)


#: what reading a damaged compressed file raises (truncated stream, bad header or CRC, bad data)
DECOMPRESSION_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, zipfile.BadZipFile, lzma.LZMAError)


def open_uncompressed(path: Path) -> BinaryIO:
    """Open ``path`` for reading its uncompressed bytes (gzip-decompressing ``.gz``)."""
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def sha256_of(path: Path) -> str:
    """The sha256 of the uncompressed content of ``path``, streamed in 1 MiB chunks.

    A ``.gz`` file that does not decompress (truncated, a flipped byte, not gzip at all) is a
    ``ValueError`` naming the file, never the decompressor's own ``EOFError`` or ``zlib.error``.
    """
    digest = hashlib.sha256()
    try:
        with open_uncompressed(path) as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    except DECOMPRESSION_ERRORS as err:
        raise ValueError(corrupt_file_message(path, err)) from None
    return digest.hexdigest()


def corrupt_file_message(path: os.PathLike | str, err: BaseException) -> str:
    """One line saying that ``path`` does not decompress, with the decompressor's reason."""
    reason = str(err) or type(err).__name__
    return f"{path} does not decompress ({reason}): the file is truncated or corrupt"


def restore_hint(spec: DatasetSpec) -> str:
    """How to get a good copy of ``spec``'s file back."""
    hint = f"delete it and get a fresh copy from {spec.url or spec.source}"
    if spec.url is not None:
        hint += " (or just delete it: the next load downloads it again)"
    return hint


def verify_checksum(spec: DatasetSpec, path: Path) -> None:
    """Raise ``ValueError`` naming ``path`` when its content does not match ``spec.sha256``.

    A ``.gz`` file that does not decompress is refused the same way, with how to restore it.
    """
    if spec.sha256 is None:
        return
    try:
        actual = sha256_of(path)
    except ValueError as err:
        raise ValueError(f"{err}; {restore_hint(spec)}.") from None
    if actual != spec.sha256:
        raise ValueError(
            f"checksum mismatch for {path}: sha256 of the uncompressed content is {actual}, "
            f"expected {spec.sha256} for {spec.name}. The file is corrupt or a different "
            f"version; {restore_hint(spec)}."
        )


def missing_file_message(spec: DatasetSpec, data_dir: str | os.PathLike | None) -> str:
    """Tell the user where to get ``spec``'s file and exactly where to put it."""
    looked = ", ".join(str(p) for p in candidates(spec, data_dir))
    return (
        f"dataset {spec.name!r}: file {spec.file} not found (looked for {looked}). "
        f"Get {spec.file} from {spec.url or spec.source} and put it (or {spec.file}.gz) in "
        f"one of those directories: pass data_dir=..., set the {ENV_VAR} environment "
        f"variable, or copy it into {cache_dir()}."
    )


def download(spec: DatasetSpec, timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Download ``spec.url`` into the cache directory atomically and return the path.

    The bytes are streamed into a temporary file next to the destination, checked against
    ``spec.sha256`` and only then renamed to ``spec.file``; on any failure the temporary
    file is removed and the error propagates.
    """
    if spec.url is None:
        raise ValueError(f"dataset {spec.name!r} has no direct download URL")
    target_dir = cache_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    destination = target_dir / spec.file
    verify = functools.partial(verify_checksum, spec)
    with (
        atomic_file(destination, check=verify) as out,
        urllib.request.urlopen(spec.url, timeout=timeout) as response,
    ):
        while chunk := response.read(_CHUNK):
            out.write(chunk)
    return destination


def locate(
    spec: DatasetSpec, data_dir: str | os.PathLike | None = None, download_missing: bool = True
) -> Path:
    """The path of ``spec``'s file, downloading it when missing and a URL exists.

    Raises ``FileNotFoundError`` with instructions when the file can be neither found nor
    downloaded.
    """
    found = find_file(spec, data_dir)
    if found is not None:
        return found
    message = missing_file_message(spec, data_dir)
    if spec.url is None or not download_missing:
        raise FileNotFoundError(message)
    try:
        return download(spec)
    except (OSError, http.client.HTTPException) as err:  # URLError, timeouts, short reads
        raise FileNotFoundError(f"{message} Downloading {spec.url} failed: {err}") from err
