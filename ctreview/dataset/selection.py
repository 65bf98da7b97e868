"""What the workspace knows about a volume: decisions, the scoring run, its model.

Uses the workspace's ``decisions``, ``latest_run``, ``run_scores``,
``run_info`` and ``model_info`` (the last two are beyond ``docs/contracts.md``
but offered by :class:`ctreview.review.Workspace`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ctreview.dataset.manifest import sanitise_path
from ctreview.errors import CtreviewError
from ctreview.results import SliceScore

if TYPE_CHECKING:
    from ctreview.review import Workspace

TIME_KEYS = ("decided_at", "time", "created", "timestamp", "at")


@dataclass
class SliceSelection:
    """How the decisions of one volume sort its slices.

    Attributes
    ----------
    accepted : dict of int to dict
        Accepted slice -> its latest decision (``reviewer``, ``decided_at``, ...).
    flagged, unsure : list of int
        Slices refused because their latest decision is not ``accept``.
    above : dict of int to float
        Accepted slices whose latest run scored them above threshold -> relative score.
    scores : dict of int to SliceScore
        Slice -> its score in the run (empty without a run).
    run : dict or None
        ``id``, ``model`` (name), ``model_path``, ``profile``, ``tile_size``, ``mode``.
    """

    accepted: dict[int, dict] = field(default_factory=dict)
    flagged: list[int] = field(default_factory=list)
    unsure: list[int] = field(default_factory=list)
    above: dict[int, float] = field(default_factory=dict)
    scores: dict[int, SliceScore] = field(default_factory=dict)
    run: dict | None = None


def decision_time(decision: dict) -> str | None:
    """Return the decision's time stamp under whichever key the store uses."""
    for key in TIME_KEYS:
        if decision.get(key):
            return str(decision[key])
    return None


def run_info(workspace: Workspace, run_id: int | None) -> dict | None:
    """Return what the export records about a scoring run.

    Keys: ``id``, ``model`` (name), ``model_path``, ``model_id``, ``mode``,
    ``profile``, ``tile_size`` (those known; from the run's settings, else its
    model's metadata).
    """
    if run_id is None:
        return None
    raw = dict(workspace.run_info(run_id))
    model = workspace.model_info(raw.get("model_id")) or {}
    meta = model.get("meta") or {}
    settings = raw.get("settings") or {}
    out = {"id": int(run_id), "model": model.get("name") or meta.get("name"),
           "model_path": sanitise_path(model.get("path")), "model_id": raw.get("model_id"),
           "mode": raw.get("mode"),
           "profile": settings.get("profile") or meta.get("profile"),
           "tile_size": settings.get("tile_size") or meta.get("tile_size")}
    return {k: v for k, v in out.items() if v is not None}


def select_slices(workspace: Workspace, volume_id: int) -> SliceSelection:
    """Sort one volume's slices by their latest decision and latest run score."""
    sel = SliceSelection()
    for z, decision in sorted(workspace.decisions(volume_id).items()):
        status = decision.get("status")
        if status == "accept":
            sel.accepted[int(z)] = decision
        elif status == "flag":
            sel.flagged.append(int(z))
        elif status == "unsure":
            sel.unsure.append(int(z))
    run_id = workspace.latest_run(volume_id)
    sel.run = run_info(workspace, run_id)
    if run_id is not None:
        sel.scores = {s.index: s for s in workspace.run_scores(run_id)}
    for z in sel.accepted:
        score = sel.scores.get(z)
        if score is not None and score.above:
            sel.above[z] = score.relative
    return sel


def _read_run_dir(run_dir: Path) -> tuple[dict, list[SliceScore]]:
    """Return (summary, score rows) of a ``ctreview score`` run folder."""
    import csv
    import json

    summary_path, csv_path = run_dir / "summary.json", run_dir / "scores.csv"
    for path in (summary_path, csv_path):
        if not path.is_file():
            raise CtreviewError(path, "missing: not a `ctreview score` run folder")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        if not isinstance(summary, dict):
            raise ValueError("not an object")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CtreviewError(summary_path, f"unreadable run summary ({exc})") from None
    try:
        with open(csv_path, newline="", encoding="utf-8") as fh:
            rows = [SliceScore(int(r["slice"]), float(r["score"]), float(r["relative_score"]))
                    for r in csv.DictReader(fh)]
    except (OSError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CtreviewError(csv_path, f"unreadable scores ({exc.__class__.__name__}: {exc})") from None
    return summary, rows


def select_slices_with_run_dir(workspace: Workspace, volume_id: int, run_dir: str | Path) -> SliceSelection:
    """Like :func:`select_slices`, but scores come from a ``ctreview score`` run folder.

    ``ctreview score`` writes a run folder, not the workspace; a labeler who
    scored on the command line points the export at that folder.
    """
    run_dir = Path(run_dir)
    summary, rows = _read_run_dir(run_dir)
    sel = select_slices(workspace, volume_id)
    model = summary.get("model") or {}
    settings = summary.get("settings") or {}
    run = {"run_dir": sanitise_path(run_dir), "model": model.get("name"),
           "model_path": sanitise_path(model.get("path")), "mode": summary.get("mode"),
           "profile": settings.get("profile") or model.get("profile"),
           "tile_size": model.get("tile_size")}
    sel.run = {k: v for k, v in run.items() if v is not None}
    sel.scores = {s.index: s for s in rows}
    sel.above = {z: sel.scores[z].relative for z in sel.accepted if z in sel.scores and sel.scores[z].above}
    return sel
