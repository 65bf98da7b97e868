"""The one place that knows where bundled resources live.

Resources (icons, component profiles, the demo model) sit in the
repository's top-level ``resources/``; a wheel carries them as
``ctreview/resources`` and a PyInstaller build as ``resources/`` beside the
executable. Everything asks :func:`resource_path`, never ``__file__``.
"""
from __future__ import annotations

import sys
from pathlib import Path


def resources_root() -> Path:
    """Return the folder that holds the bundled resources."""
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = []
    if frozen:
        candidates.append(Path(frozen) / "resources")
    here = Path(__file__).resolve().parent
    candidates += [here / "resources", here.parent / "resources"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("ctreview resources not found; the installation is incomplete")


def resource_path(*parts: str) -> Path:
    """Return the path of a bundled resource, e.g. ``resource_path("profiles", "capacitor.toml")``."""
    return resources_root().joinpath(*parts)
