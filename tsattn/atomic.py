"""Atomic file writes: a reader (or a process killed mid-write) never sees a partial file.

Data go to a hidden temporary file beside the target, are flushed to disk, and then replace the
target in one ``os.replace``: the target holds either its old content or the new, never a
truncated mix. A kill mid-write leaves a hidden ``.<name>.<pid>.*.tmp`` file behind; the next
write of the same target removes it once its writer is gone (or it is older than
:data:`STALE_AFTER` seconds), so kills never pile up hidden files.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
>>> atomic_write_text(target, "hello")
>>> target.read_text()
'hello'
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

#: a temporary file older than this (seconds) is stale even if its writer's pid is in use
STALE_AFTER = 3600.0


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
    remove_stale_temporaries(target)
    prefix = f".{target.name}.{os.getpid()}."
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=".tmp")
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


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove the temporary files that killed writes of ``target`` left: those whose writing
    process no longer runs on this machine, or older than :data:`STALE_AFTER` seconds."""
    removed = []
    for tmp in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        pid = tmp.name[len(target.name) + 2 :].split(".", 1)[0]
        try:
            stale = time.time() - tmp.stat().st_mtime > STALE_AFTER or not _alive(pid)
            if stale and tmp.is_file():
                tmp.unlink()
                removed.append(tmp)
        except OSError:  # gone already, or not ours to remove
            continue
    return removed


def _alive(pid: str) -> bool:
    """True when ``pid`` names a running process (or cannot be told: not a pid)."""
    if not pid.isdigit() or int(pid) == os.getpid():  # another write of this process
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


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
