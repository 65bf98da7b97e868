"""Volume -> stream of slice results (score, heatmap, best tile), run folders, the scoring service.

Core package: never imports Qt. Settings and summaries import without
torch; names that need it are imported on first use (PEP 562), so the
window can read :class:`ScoringSettings` on the UI thread at start-up.
"""
from __future__ import annotations

import importlib
from typing import Any

from ctreview.scoring.settings import DEFAULT_STEPS, MODES, ScoringSettings
from ctreview.scoring.summary import RunCounts, RunSummary

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
