"""The review store: volumes, models, scoring runs, slice scores and decisions in SQLite.

Open one with :func:`open_workspace`; see :class:`Workspace` for what it
holds and :mod:`ctreview.review._decisions` for the append-only decision log.
"""
from ctreview.review._decisions import CLEARED, STATUSES
from ctreview.review._schema import SCHEMA_VERSION
from ctreview.review._util import default_reviewer
from ctreview.review.fingerprint import volume_fingerprint
from ctreview.review.heatmaps import HeatmapCache, cache_dir_for
from ctreview.review.recording import recorded
from ctreview.review.workspace import Session, Workspace, open_workspace

__all__ = [
    "CLEARED", "HeatmapCache", "SCHEMA_VERSION", "STATUSES", "Session", "Workspace",
    "cache_dir_for", "default_reviewer", "open_workspace", "recorded", "volume_fingerprint",
]
