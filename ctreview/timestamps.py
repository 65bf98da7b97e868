"""The one clock of the project: UTC time stamps in ISO 8601."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

Precision = Literal["seconds", "microseconds"]


def now_iso(timespec: Precision = "microseconds") -> str:
    """Return the current UTC time as ISO 8601, e.g. ``2026-12-01T23:28:42.123456+00:00``.

    ``"microseconds"`` (the default) keeps records of one second in order;
    ``"seconds"`` is for what people read (model and training-set dates).
    """
    return datetime.now(timezone.utc).isoformat(timespec=timespec)
