"""Worker tasks of the worklist: read a batch (or the workspace's volumes), open one volume with its run.

Reading ``batch.json``, the run folders and the workspace, and importing a
run folder, all happen here in a pool thread, never on the UI thread.
"""
from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from ctreview.errors import Cancelled
from ctreview.progress import StopFlag, mapped
from ctreview.workers.tasks import ValueRange, VolumeOpened, VolumeRegistered

if TYPE_CHECKING:
    from ctreview.batch.worklist import WorkItem
    from ctreview.io import Volume
    from ctreview.review import Workspace


def read_worklist(source: str | None, *, workspace: Workspace,
                  should_stop: StopFlag) -> Generator[None, None, list[Any]]:
    """Return the :class:`~ctreview.batch.worklist.WorkItem` list of a batch (``source``) or of the workspace."""
    from ctreview.batch.worklist import batch_worklist, workspace_worklist

    if source:
        return batch_worklist(source, workspace)
    return workspace_worklist(workspace) if workspace is not None else []
    yield  # pragma: no cover - makes this a generator for GeneratorWorker


def open_work_item(item: WorkItem, *, workspace: Workspace,
                   should_stop: StopFlag) -> Generator[VolumeOpened | VolumeRegistered | ValueRange, None, Volume]:
    """Open a worklist volume with its run (imported into the workspace when not there yet).

    Yields :class:`VolumeOpened`, :class:`VolumeRegistered` (the item's run,
    not only the latest) and :class:`ValueRange`, as ``load_volume`` does;
    returns the volume.
    """
    from ctreview.batch.worklist import open_item

    def opened(volume: Volume) -> VolumeOpened:
        return VolumeOpened(volume, volume.slice(len(volume) // 2))

    volume, volume_id, run_id = yield from mapped(open_item(item, workspace), opened)
    scores = workspace.run_scores(run_id) if run_id is not None else []
    yield VolumeRegistered(volume_id, workspace.decisions(volume_id), run_id, scores)
    if should_stop():
        raise Cancelled()
    lo, hi = volume.value_range()
    yield ValueRange(float(lo), float(hi))
    return volume
