"""Per-user folders (platformdirs): workspace, model library, logs."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

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
