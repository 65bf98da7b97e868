"""Volume -> stream of slice results (score, heatmap, best tile), run folders, the scoring service.

Core package: never imports Qt. Settings and summaries import without
torch; names that need it are imported on first use (PEP 562), so the
window can read :class:`ScoringSettings` on the UI thread at start-up.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ctreview.scoring.settings import DEFAULT_STEPS, MODES, ScoringSettings
from ctreview.scoring.summary import RunCounts, RunSummary

if TYPE_CHECKING:  # the lazy names below, for mypy: without these it sees them as Any
    from ctreview.scoring.run import CSV_HEADER as CSV_HEADER
    from ctreview.scoring.run import RunWriter as RunWriter
    from ctreview.scoring.run import refuse_used_run_dir as refuse_used_run_dir
    from ctreview.scoring.run import write_run as write_run
    from ctreview.scoring.service import RunStarted as RunStarted
    from ctreview.scoring.service import ScoringEvent as ScoringEvent
    from ctreview.scoring.service import model_choice as model_choice
    from ctreview.scoring.service import resolve_model as resolve_model
    from ctreview.scoring.service import run_scoring as run_scoring
    from ctreview.scoring.stream import find_roi as find_roi
    from ctreview.scoring.stream import score_volume as score_volume

_LAZY = {
    "CSV_HEADER": "run", "RunWriter": "run", "write_run": "run",
    "RunStarted": "service", "ScoringEvent": "service", "resolve_model": "service",
    "run_scoring": "service", "refuse_used_run_dir": "run", "model_choice": "service",
    "find_roi": "stream", "score_volume": "stream",
}

__all__ = ["DEFAULT_STEPS", "MODES", "RunCounts", "RunSummary", "ScoringSettings", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"ctreview.scoring.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ctreview.scoring' has no attribute {name!r}")
