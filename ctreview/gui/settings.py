"""Remembered window state, folders, recent files (QSettings).

When ``CTREVIEW_DATA_DIR`` is set (tests, portable use) the settings are an
INI file inside it, so tests never touch the user's own settings.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 10


def app_settings() -> QSettings:
    """Return the settings store of the GUI."""
    override = os.environ.get("CTREVIEW_DATA_DIR")
    if override:
        return QSettings(str(Path(override) / "gui.ini"), QSettings.Format.IniFormat)
    return QSettings("ctreview", "ctreview")


def recent_files(settings: QSettings) -> list[str]:
    """Return the recent files, newest first (missing ones included; the menu greys them)."""
    value = settings.value("recent_files", [])
    if isinstance(value, str):  # QSettings gives a lone string for a one-item list
        return [value]
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


def add_recent(settings: QSettings, path: str | Path) -> list[str]:
    """Put ``path`` at the top of the recent files; return the new list."""
    path = str(Path(path).resolve())
    files = [path] + [f for f in recent_files(settings) if f != path]
    files = files[:MAX_RECENT]
    settings.setValue("recent_files", files)
    settings.setValue("last_folder", str(Path(path).parent))
    return files


def last_folder(settings: QSettings) -> str:
    return str(settings.value("last_folder", str(Path.home())))
