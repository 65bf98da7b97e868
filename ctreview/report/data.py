"""Everything a report shows, gathered from the workspace into plain data.

The PDF, CSV and JSON writers all read one :class:`ReportData`, so they can
never disagree. Text that came from users or file systems (paths, notes,
names) is sanitised here once: control characters go, the home folder
becomes ``~``.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ctreview.errors import CtreviewError
from ctreview.report.defects import collect_defects
from ctreview.results import SliceScore
from ctreview.review.ranking import ranks
from ctreview.review.workspace import Workspace

_KEEP = {"\n", "\t"}


def clean_text(text: object, *, keep_newlines: bool = True) -> str:
    """Return ``text`` without control or format characters (newlines kept if asked)."""
    out = []
    for char in str(text if text is not None else ""):
        if char in _KEEP and keep_newlines:
            out.append(char)
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(" " if char in _KEEP else "")
        else:
            out.append(char)
    return "".join(out)


def clean_path(path: object) -> str:
    """Return a path for display: one line, no control characters, home shown as ``~``."""
    if path is None:
        return "(none)"
    text = clean_text(path, keep_newlines=False)
    home = str(Path.home()).rstrip("/\\")
    if home and (text == home or text.startswith((home + "/", home + "\\"))):
        text = "~" + text[len(home):]
    return text


@dataclass
class ReportData:
    """A report's content. ``rows`` has one dict per scored slice, ordered by slice.

    Row keys: slice, score, relative_score, rank, decision, note, reviewer,
    decided_at, tile_box, boxes. ``flagged`` holds the rows (or, for slices
    not scored in this run, stand-ins) of flagged slices in rank order, each
    with its ``history``. ``defects``: the run's 3D defects by rank
    (``Defect.to_dict()`` plus ``decision``), None when the run has none stored.
    """

    volume: dict
    model: dict | None
    run: dict
    threshold: float | None
    rows: list[dict]
    flagged: list[dict]
    counts: dict
    reviewers: list[str]
    notes: list[str] = field(default_factory=list)
    defects: list[dict] | None = None


def _threshold(model: dict | None, run: dict, scores: list[SliceScore]) -> float | None:
    # The run's own summary first: it knows the threshold its relative scores used.
    for source in (run.get("summary") or {}, (model or {}).get("meta") or {}):
        value = source.get("threshold")
        if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
            return float(value)
    for s in scores:  # relative = score / threshold, so any row with both gives it
        if s.relative and math.isfinite(s.relative) and s.score:
            return float(s.score / s.relative)
    return None


def _pick_run(workspace: Workspace, volume_id: int, run_id: int | None, path: str) -> dict:
    run_id = workspace.latest_run(volume_id) if run_id is None else run_id
    if run_id is None:
        raise CtreviewError(path, "the workspace has no scoring run of this volume; score it first")
    run = workspace.run_info(run_id)
    if run["volume_id"] != volume_id:
        raise CtreviewError(path, f"scoring run {run_id} belongs to another volume")
    return run


def collect(workspace: Workspace, volume_id: int, run_id: int | None = None) -> ReportData:
    """Read one volume's run, scores and decisions from ``workspace``."""
    volume = workspace.volume_info(volume_id)
    run = _pick_run(workspace, volume_id, run_id, clean_path(volume["path"]))
    model = workspace.model_info(run["model_id"])
    scores = workspace.run_scores(run["id"])
    decisions = workspace.decisions(volume_id)
    rank_of = ranks(scores)
    rows = [_row(s, rank_of[s.index], decisions.get(s.index)) for s in scores]
    by_slice = {row["slice"]: row for row in rows}
    flagged = []
    for index, decision in decisions.items():
        if decision["status"] == "flag":
            row = dict(by_slice.get(index) or _row(None, None, decision, index))
            row["history"] = [_clean_decision(h) for h in workspace.history(volume_id, index)]
            flagged.append(row)
    flagged.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["slice"]))
    threshold = _threshold(model, run, scores)
    return ReportData(volume=volume, model=model, run=run, threshold=threshold, rows=rows,
                      flagged=flagged, counts=_counts(rows, decisions, threshold),
                      reviewers=[clean_text(r, keep_newlines=False)
                                 for r in workspace.reviewers(volume_id)],
                      defects=collect_defects(workspace, run["id"], decisions))


def _clean_decision(row: dict) -> dict:
    return {"status": row["status"], "note": clean_text(row["note"]),
            "reviewer": clean_text(row["reviewer"], keep_newlines=False),
            "decided_at": row["decided_at"], "undo": row.get("undo_of") is not None}


def _row(score: SliceScore | None, rank: int | None, decision: dict | None, index: int = -1) -> dict:
    decided = _clean_decision(decision) if decision else None
    return {
        "slice": score.index if score else index,
        "score": score.score if score else None,
        "relative_score": score.relative if score else None,
        "rank": rank,
        "decision": decided["status"] if decided else "",
        "note": decided["note"] if decided else "",
        "reviewer": decided["reviewer"] if decided else "",
        "decided_at": decided["decided_at"] if decided else "",
        "tile_box": score.tile_box if score else None,
        "boxes": score.boxes if score else [],
    }


def _counts(rows: list[dict], decisions: dict, threshold: float | None) -> dict:
    statuses = [d["status"] for d in decisions.values()]
    return {
        "scored": len(rows),
        "above_threshold": sum(1 for r in rows if r["relative_score"] is not None
                               and r["relative_score"] >= 1.0) if threshold else 0,
        "flagged": statuses.count("flag"),
        "accepted": statuses.count("accept"),
        "unsure": statuses.count("unsure"),
        "unreviewed": sum(1 for r in rows if not r["decision"]),
    }


def defuse_formula(text: str) -> str:
    """Return text safe to start a spreadsheet cell: formulas are defused with a quote."""
    return "'" + text if re.match(r"[=+\-@\t\r]", text) else text
