"""Small helpers of the review store: time stamps, JSON, the reviewer's name."""
from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import numpy as np


def default_reviewer() -> str:
    """Return the OS user name, or ``"unknown"`` when it cannot be found."""
    try:
        name = getpass.getuser()
    except Exception:  # noqa: BLE001 - getuser raises OSError/KeyError/ImportError by platform
        return "unknown"
    return name.strip() or "unknown"


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (Path, bytes)):
        return str(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    return repr(obj)


def to_json(value: Any) -> str:
    """Serialise settings, metadata or summaries; NumPy values and paths become plain JSON."""
    return json.dumps(value, default=_json_default, sort_keys=True, allow_nan=True)


def from_json(text: str | None, default: Any = None) -> Any:
    """Parse a JSON column, returning ``default`` for NULL."""
    return default if text is None else json.loads(text)


def box(value: Any) -> tuple[int, int, int, int]:
    """Return a box ``(y0, x0, y1, x1)`` as a tuple of Python ints."""
    y0, x0, y1, x1 = (int(v) for v in value)
    return (y0, x0, y1, x1)
