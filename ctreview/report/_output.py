"""Writing report files whole or not at all."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ctreview.errors import CtreviewError


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; it replaces ``path`` only if the block succeeds.

    A cancelled or failed report never leaves a half-written file behind,
    and an older report of the same name survives until the new one is whole.
    The file is created with ``open`` (not ``mkstemp``) so that it gets the
    user's usual permissions.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise CtreviewError(path, "is a folder; give a file name for the report")
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.open("xb").close()
    except OSError as exc:
        raise CtreviewError(path, f"cannot write here: {exc.strerror or exc}") from exc
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise CtreviewError(path, f"cannot write the report: {exc.strerror or exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
