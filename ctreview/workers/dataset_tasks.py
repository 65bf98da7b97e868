"""The Training sets dialog's database and disk work, as generators for :class:`TaskRunner`."""
from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctreview.errors import Cancelled, CtreviewError
from ctreview.progress import StopFlag

if TYPE_CHECKING:
    from ctreview.review import Workspace


@dataclass(frozen=True)
class VolumeRow:
    """One line of the dialog's volume table: a reviewed volume and its decisions."""

    volume_id: int
    name: str
    path: str | None
    accepted: int
    refused: int
    above: tuple[int, ...]


@dataclass(frozen=True)
class TileCount:
    """What exporting one volume would give (``error`` when it cannot be exported)."""

    row: int
    tiles: int | None
    error: str | None = None


@dataclass(frozen=True)
class LoadedSet:
    """A training set read for display (None where the folder holds none yet)."""

    training_set: Any
    summary: str


def volumes_task(workspace: Workspace, *, should_stop: StopFlag) -> Generator[Any, None, None]:
    """Yield the workspace's volumes as a list of :class:`VolumeRow`, then a :class:`TileCount` each."""
    from ctreview.dataset import preview_export, select_slices

    rows = []
    for vol in workspace.volumes():
        sel = select_slices(workspace, int(vol["id"]))
        rows.append(VolumeRow(int(vol["id"]), Path(vol.get("path") or f"volume {vol['id']}").name,
                              vol.get("path"), len(sel.accepted), len(sel.flagged) + len(sel.unsure),
                              tuple(sorted(sel.above))))
    yield rows
    for row, info in enumerate(rows):
        if should_stop():
            raise Cancelled()
        try:
            yield TileCount(row, int(preview_export(workspace, info.volume_id)["tiles"]))
        except CtreviewError as exc:
            yield TileCount(row, None, str(exc))


def load_set_task(folder: str, *, should_stop: StopFlag) -> Generator[None, None, LoadedSet]:
    """Open the training set in ``folder`` for the grid; raises CtreviewError on a broken one."""
    from ctreview.dataset import format_summary, is_training_set, open_training_set, summarise

    if not folder or not is_training_set(folder):
        return LoadedSet(None, "No training set there yet: Export creates it.")
    return LoadedSet(open_training_set(folder), format_summary(summarise(folder)))
    yield  # pragma: no cover - makes this a generator for GeneratorWorker


def prune_task(folder: str, tiles: list[int], *, should_stop: StopFlag) -> Generator[None, None, int]:
    """Remove tiles (by index) from the set in ``folder``; return how many went."""
    from ctreview.dataset import prune

    return prune(folder, tiles=tiles)
    yield  # pragma: no cover - makes this a generator for GeneratorWorker
