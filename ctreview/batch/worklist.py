"""The worklist of many scored volumes: worst first, with how far their review has come.

Read from a batch table (``batch.json`` of ``ctreview batch``) or from a
workspace's volumes. Qt-free: the window calls these in a worker and shows
the items; opening one imports its run folder into the workspace when the
run is not there yet (:func:`open_item`).
"""
from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ctreview.batch.importing import find_imported, import_run, read_scores
from ctreview.batch.table import read_table
from ctreview.batch.task import read_summary
from ctreview.errors import CtreviewError
from ctreview.review import Workspace

if TYPE_CHECKING:
    from ctreview.io import Volume


@dataclass(frozen=True)
class WorkItem:
    """One volume of a worklist.

    Attributes
    ----------
    volume : str
        Path of the volume.
    run_dir : str or None
        Its batch run folder (None for a workspace's volume).
    status : str
        ``done``, ``skipped``, ``failed``, ``pending`` (batch) or ``scored`` / ``unscored`` (workspace).
    worst : float or None
        Largest relative slice score.
    above, defects : int or None
        Slices and defects at or above the threshold.
    error : str
    fingerprint : str
        The volume's content when it was scored ('' when unknown).
    volume_id, run_id : int or None
        The volume and its run in the workspace, once there.
    slices : int
        Scored slices of the run.
    reviewed : int
        Of those, the slices with a decision.
    domain, domain_reason : str
        The run's domain verdict and its sentence (see :class:`~ctreview.batch.BatchRow`):
        ``outside`` volumes are listed after the others, their scores not comparable.
    """

    volume: str
    run_dir: str | None
    status: str
    worst: float | None = None
    above: int | None = None
    defects: int | None = None
    error: str = ""
    fingerprint: str = ""
    volume_id: int | None = None
    run_id: int | None = None
    slices: int = 0
    reviewed: int = 0
    domain: str = ""
    domain_reason: str = ""

    @property
    def all_reviewed(self) -> bool:
        """Every scored slice has a decision."""
        return self.slices > 0 and self.reviewed >= self.slices

    @property
    def openable(self) -> bool:
        return self.status in ("done", "skipped", "scored")


def _progress(workspace: Workspace, volume_id: int, run_id: int | None,
              slices: set[int] | None = None) -> tuple[int, int]:
    """``(scored slices, of which decided)`` of a volume's run."""
    if slices is None:
        slices = {s.index for s in workspace.run_scores(run_id)} if run_id is not None else set()
    decided = set(workspace.decisions(volume_id))
    return len(slices), len(slices & decided)


def batch_worklist(source: str | Path, workspace: Workspace | None = None) -> list[WorkItem]:
    """The volumes of a batch (its ``batch.json`` or folder), worst first, with their review progress.

    Volumes outside the model's domain come after the others (their scores are not comparable).
    """
    rows, info = read_table(source)
    out = Path(info.get("out") or Path(source))
    folder = Path(source) if Path(source).is_dir() else Path(source).parent
    items = []
    for row in rows:
        run_dir = folder / row.run if (folder / row.run).is_dir() else out / row.run
        item = WorkItem(row.volume, str(run_dir), row.status, row.worst, row.above, row.defects, row.error,
                        row.fingerprint, domain=row.domain, domain_reason=row.domain_reason)
        if workspace is not None and row.fingerprint and row.scored:
            item = _with_workspace(item, workspace, row.fingerprint)
        items.append(item)
    return items


def _with_workspace(item: WorkItem, workspace: Workspace, fingerprint: str) -> WorkItem:
    volume_id = workspace.find_fingerprint(fingerprint)
    if volume_id is None or item.run_dir is None:
        return item
    try:
        summary = read_summary(Path(item.run_dir))
    except CtreviewError:
        return replace(item, volume_id=volume_id)
    run_id = find_imported(workspace, volume_id, summary)
    slices = None if run_id is not None else {s.index for s in read_scores(item.run_dir)}
    count, reviewed = _progress(workspace, volume_id, run_id, slices)
    return replace(item, volume_id=volume_id, run_id=run_id, slices=count, reviewed=reviewed)


def _run_domain(workspace: Workspace, run_id: int | None) -> tuple[str, str]:
    """``(verdict, reason)`` of a workspace run's domain check (empty for runs without one)."""
    from ctreview.batch.task import domain_verdict

    summary = workspace.run_info(run_id).get("summary") if run_id is not None else None
    if not isinstance(summary, dict) or not isinstance(summary.get("domain"), dict):
        return "", ""
    return domain_verdict(summary)


def workspace_worklist(workspace: Workspace) -> list[WorkItem]:
    """Every volume of a workspace with its latest run, worst first (those outside the model's domain after
    the others, unscored ones last)."""
    from ctreview.model.domain import OUTSIDE

    items = []
    for info in workspace.volumes():
        run_id = workspace.latest_run(info["id"])
        scores = workspace.run_scores(run_id) if run_id is not None else []
        finite = [s.relative for s in scores if math.isfinite(s.relative)]
        count, reviewed = _progress(workspace, info["id"], run_id, {s.index for s in scores})
        verdict, reason = _run_domain(workspace, run_id)
        items.append(WorkItem(str(info.get("path") or ""), None, "scored" if scores else "unscored",
                              max(finite) if finite else None, sum(1 for s in scores if s.above),
                              fingerprint=str(info["fingerprint"]), volume_id=int(info["id"]), run_id=run_id,
                              slices=count, reviewed=reviewed, domain=verdict, domain_reason=reason))
    return sorted(items, key=lambda i: (i.worst is None, i.domain == OUTSIDE, -(i.worst or 0.0), i.volume))


def _layout(item: WorkItem) -> str:
    """How the batch opened the item's input (``volume`` when its run says nothing)."""
    try:
        return str(read_summary(Path(item.run_dir)).get("layout", "volume")) if item.run_dir else "volume"
    except CtreviewError:
        return "volume"  # no run yet: import_run names what is wrong


def open_item(item: WorkItem, workspace: Workspace) -> Generator[Volume, None, tuple[Volume, int, int | None]]:
    """Open an item's volume and make sure its run is in the workspace; return ``(volume, volume_id, run_id)``.

    Yields the opened volume first (so a window can show it at once).
    """
    from ctreview.batch.task import open_input
    from ctreview.io import volume_fingerprint

    volume = open_input({"volume": item.volume, "images": _layout(item) == "images"})
    yield volume
    if item.fingerprint and volume_fingerprint(volume) != item.fingerprint:
        raise CtreviewError(item.volume, "the volume changed since the batch scored it; score it again")
    if item.run_dir is None:
        volume_id = workspace.add_volume(volume)
        return volume, volume_id, item.run_id if item.run_id is not None else workspace.latest_run(volume_id)
    volume_id, run_id, _new = import_run(workspace, item.run_dir, volume=volume)
    return volume, volume_id, run_id
