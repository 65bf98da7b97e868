"""Write a model where nobody can mistake it for a finished one until it is finished.

Training writes into a hidden sibling folder; only when the whole run
succeeds are its files moved into the model folder, ``model.json`` last (a
folder without it is no model). An error, a cancel or Ctrl+C removes the
hidden folder and leaves the model folder as it was.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LAST = "model.json"


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    """Yield a fresh hidden folder beside ``out`` to write into; publish it as ``out`` when the block ends."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    publish(work, out)


def publish(work: Path, out: Path) -> None:
    """Move every file of ``work`` into ``out`` (created if needed), ``model.json`` last; remove ``work``."""
    out.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name for p in work.iterdir() if p.is_file())
    for name in [n for n in names if n != LAST] + [n for n in names if n == LAST]:
        os.replace(work / name, out / name)
    shutil.rmtree(work, ignore_errors=True)
