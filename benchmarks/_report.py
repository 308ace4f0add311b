"""Write one benchmark's figures into its own section of BENCHMARKS.md.

Each script owns the text between ``<!-- begin NAME -->`` and ``<!-- end NAME -->``; running it
again replaces that section only, so scripts never clobber each other's results.
"""

from __future__ import annotations

import datetime as _dt
import platform
import shlex
import sys
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def machine_description() -> str:
    """One line naming the machine: CPU count, processor, torch build, CUDA device if any."""
    import os

    import torch

    device = "CPU only"
    if torch.cuda.is_available():
        device = f"CUDA: {torch.cuda.get_device_name(0)}"
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, torch {torch.__version__}, {device}"
    )


def command_line() -> str:
    """The command that ran this script, as a user would type it."""
    return "python " + " ".join(shlex.quote(a) for a in sys.argv)


def write_section(name: str, title: str, body: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace (or append) the section ``name`` of BENCHMARKS.md with ``body``."""
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"{begin}\n## {title}\n\n"
        f"Command: `{command_line()}`  \nDate: {stamp}  \nMachine: {machine_description()}\n\n"
        f"{body.strip()}\n{end}"
    )
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + section + tail
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)
