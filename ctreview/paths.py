"""Per-user folders (platformdirs): workspace, model library, logs."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import platformdirs

from ctreview.errors import CtreviewError

APP = "ctreview"


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Return the user data folder; ``CTREVIEW_DATA_DIR`` overrides it (tests, portable use)."""
    override = os.environ.get("CTREVIEW_DATA_DIR")
    return _ensure(Path(override) if override else Path(platformdirs.user_data_dir(APP)))


def model_library_dir() -> Path:
    """Return the folder where user-trained models live."""
    return _ensure(data_dir() / "models")


def default_workspace() -> Path:
    """Return the default workspace database path."""
    return data_dir() / "workspace.sqlite"


def log_dir() -> Path:
    """Return the folder for log files."""
    override = os.environ.get("CTREVIEW_DATA_DIR")
    return _ensure(Path(override) / "logs" if override else Path(platformdirs.user_log_dir(APP)))


def refuse_existing(path: str | Path, held: Sequence[str] = (), *, force: bool = False,
                    what: str = "already exists", advice: str = "use --force to replace it") -> None:
    """Raise :class:`~ctreview.errors.CtreviewError` before anything the user made is replaced.

    Every command that writes calls this one check before it reads or
    computes anything, so a refusal costs nothing and leaves every file as it was.

    Parameters
    ----------
    path : path
        A file to write, or (with ``held``) a folder to write into.
    held : sequence of str
        Names inside the folder ``path`` that count as an earlier result; empty: ``path`` itself.
    force : bool
        Replace what is there (``--force``).
    what, advice : str
        The one line says ``"<path>: <what>; <advice>"``; ``{found}`` in ``what`` lists the names found.
    """
    target = Path(path).expanduser()
    found = [name for name in held if (target / name).exists()] if held else []
    if force or not (found or (not held and target.exists())):
        return
    raise CtreviewError(target, f"{what.replace('{found}', ', '.join(found))}; {advice}")
