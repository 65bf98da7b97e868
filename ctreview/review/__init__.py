"""The review store: volumes, models, scoring runs, slice scores and decisions in SQLite.

Open one with :func:`open_workspace`; see :class:`Workspace` for what it
holds and :mod:`ctreview.review._decisions` for the append-only decision log.
:class:`ReviewState` is the Qt-free state of one review (decide, undo, rank),
which the window wraps.
"""
from ctreview.review._decisions import CLEARED, STATUSES
from ctreview.review._schema import SCHEMA_VERSION
from ctreview.review._util import default_reviewer
from ctreview.review.heatmap_store import HeatmapStore, cache_dir_for
from ctreview.review.ranking import rank_slices, ranks
from ctreview.review.state import Event, RecentHeatmaps, ReviewState
from ctreview.review.workspace import Session, Workspace, open_workspace

__all__ = [
    "CLEARED", "Event", "HeatmapStore", "RecentHeatmaps", "ReviewState", "SCHEMA_VERSION", "STATUSES",
    "Session", "Workspace", "cache_dir_for", "default_reviewer", "open_workspace", "rank_slices", "ranks",
]
