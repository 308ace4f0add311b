"""Atomic file writes: a reader (or a process killed mid-write) never sees a partial file.

Data go to a hidden temporary file beside the target, are flushed to disk, and then replace the
target in one ``os.replace``: the target holds either its old content or the new, never a
truncated mix. A kill mid-write leaves at most a hidden ``.<name>.*.tmp`` file behind.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
>>> atomic_write_text(target, "hello")
>>> target.read_text()
'hello'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def atomic_file(
    path: str | os.PathLike, check: Callable[[Path], None] | None = None
) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``path`` when the block ends without an error.

    ``check(temporary_path)``, when given, runs on the complete temporary file before it
    replaces ``path`` (e.g. a checksum); if it raises, nothing is replaced. On any error the
    temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, _file_mode(target))
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if check is not None:
            check(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _file_mode(target: Path) -> int:
    """The target's own permissions, or those a plain ``open`` would give a new file (mkstemp
    alone would make every output private to its owner)."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_file(path) as handle:
        handle.write(text.encode("utf-8"))
