"""Cell claims: processes sharing one benchmark ``out_dir`` run each cell once.

Before running a cell a process writes a claim file, ``<out_dir>/.claims/<cell>.claim``, holding
its pid, host, a random token and the start time; it removes the file once the cell's row is in
``results.csv`` (or the cell failed). Another process that finds a *live* claim skips the cell.

A claim is **stale**, and may be taken over, when

* its pid no longer runs on this host (the owner was killed), or
* it is older than :data:`CLAIM_MAX_AGE_S` (the only test for a claim from another host, and a
  guard against a reused pid), or
* it cannot be read.

To take over a claim sooner (say, of a crashed run on another machine), delete its file. Every
function here expects the caller to hold the results lock
(:func:`tsattn.benchmark.results_store.results_lock`), which makes "is it finished? is it
claimed? claim it" one step.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tsattn.atomic import atomic_write_text

log = logging.getLogger(__name__)

CLAIM_DIR = ".claims"
#: a claim older than this (3 days) is stale even if its owner may still run: the longest
#: reference cell takes hours, and a claim from another host cannot be checked any other way
CLAIM_MAX_AGE_S = 3 * 24 * 3600


@dataclass(frozen=True)
class Claim:
    """Who runs a cell: written to, and read back from, the cell's claim file."""

    pid: int
    host: str
    token: str
    started: float

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started))
        return f"pid {self.pid} on {self.host} since {since}"


def claim_path(out: Path, key: dict) -> Path:
    """The claim file of the cell ``key``: a readable name plus a hash of the whole key."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    label = f"{key['dataset']}-{key['model']}-h{key['horizon']}-s{key['seed']}"
    return out / CLAIM_DIR / f"{re.sub(r'[^A-Za-z0-9_.=-]+', '_', label)[:80]}-{digest}.claim"


def read_claim(path: Path) -> Claim | None:
    """The claim in ``path``; None when there is none or it cannot be read."""
    try:
        fields = json.loads(path.read_text(encoding="utf-8"))
        return Claim(
            pid=int(fields["pid"]),
            host=str(fields["host"]),
            token=str(fields["token"]),
            started=float(fields["started"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def live_holder(out: Path, key: dict) -> Claim | None:
    """The live claim another process holds on the cell, or None when it is free to take."""
    path = claim_path(out, key)
    if not path.exists():
        return None
    claim = read_claim(path)
    if claim is None or _is_own(claim):
        return None
    if is_stale(claim):
        log.warning("taking over the stale claim of %s on %s", claim.describe(), key)
        return None
    return claim


def is_stale(claim: Claim, now: float | None = None) -> bool:
    """Whether ``claim``'s owner is gone (dead pid on this host) or the claim is too old."""
    age = (time.time() if now is None else now) - claim.started
    if age > CLAIM_MAX_AGE_S:
        return True
    return claim.host == socket.gethostname() and not pid_alive(claim.pid)


def take(out: Path, key: dict) -> Claim:
    """Write this process's claim on the cell (replacing any stale one) and return it."""
    claim = Claim(os.getpid(), socket.gethostname(), secrets.token_hex(8), time.time())
    record = {**asdict(claim), "cell": key}
    atomic_write_text(claim_path(out, key), json.dumps(record, indent=1))
    return claim


def release(out: Path, key: dict, claim: Claim) -> None:
    """Remove ``claim`` from the cell; a claim another process has since taken over stays."""
    path = claim_path(out, key)
    current = read_claim(path)
    if current is not None and current.token == claim.token:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this host (a zombie counts as dead)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # no harmless probe (signal 0 is CTRL_C there): the age limit decides
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (macOS) or the process just ended
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def _is_own(claim: Claim) -> bool:
    return claim.pid == os.getpid() and claim.host == socket.gethostname()
