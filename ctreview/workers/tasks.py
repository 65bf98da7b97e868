"""The long tasks of the review window, as generators for :class:`TaskRunner`.

Each runs in a pool thread, calls the core and yields small typed events
the UI thread turns into view updates. Database and disk work of a task
happens here, in the worker thread (a :class:`~ctreview.review.Workspace`
keeps one SQLite connection per thread), so the UI thread never waits on it.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ctreview.errors import Cancelled
from ctreview.progress import Progress, StopFlag, mapped
from ctreview.results import SliceResult, SliceScore
from ctreview.workers.batching import coalesce

if TYPE_CHECKING:  # the tasks import what they run when they run (the window starts without torch)
    import torch

    from ctreview.defects import Defect, DefectSettings, DefectTracker
    from ctreview.io import Volume, VolumeLike
    from ctreview.review import Workspace
    from ctreview.roi import RoiResult
    from ctreview.scoring import RunSummary, ScoringSettings
    from ctreview.scoring.service import ScoringEvent


@dataclass(frozen=True)
class VolumeOpened:
    """The file is open and one slice, shape (y, x), is read: a big volume is on screen at once."""

    volume: Volume
    middle: np.ndarray


@dataclass(frozen=True)
class VolumeRegistered:
    """The volume's workspace record: its decisions and its latest run's scores."""

    volume_id: int
    decisions: dict[int, dict[str, Any]]
    run_id: int | None
    scores: list[SliceScore]


@dataclass(frozen=True)
class ValueRange:
    """The volume's grey-value range (sampled for huge volumes)."""

    lo: float
    hi: float


@dataclass(frozen=True)
class ResultsBatch:
    """Slice results streamed by scoring, at most every ``interval`` seconds."""

    results: list[SliceResult] = field(default_factory=list)


def load_volume(path: str | Path, *, workspace: Workspace | None = None, images: bool = False,
                should_stop: StopFlag) -> Generator[VolumeOpened | VolumeRegistered | ValueRange, None, Volume]:
    """Open a volume (or independent images), register it in the workspace and read what it has there.

    Yields :class:`VolumeOpened`, then :class:`VolumeRegistered` (with a
    workspace) and :class:`ValueRange`; returns the volume.
    """
    from ctreview.io import open_volume
    from ctreview.io.images import check_stack

    if images:
        from ctreview.io import open_images

        volume = open_images(path)
    else:
        volume = open_volume(path)
    yield VolumeOpened(volume, volume.slice(len(volume) // 2))
    check_stack(volume)  # a folder of unrelated images says so (in the volume's warnings)
    if workspace is not None:
        volume_id = workspace.add_volume(volume)
        run_id = workspace.latest_run(volume_id)
        scores = workspace.run_scores(run_id) if run_id is not None else []
        yield VolumeRegistered(volume_id, workspace.decisions(volume_id), run_id, scores)
    if should_stop():
        raise Cancelled()
    lo, hi = volume.value_range()
    yield ValueRange(float(lo), float(hi))
    return volume


def roi_task(volume: VolumeLike, profile: str, tile_size: int | None, *,
             should_stop: StopFlag) -> Generator[Progress, None, RoiResult]:
    """Find the part and its ROIs; yields progress, returns the ``RoiResult``."""
    from ctreview.roi import iter_roi

    return (yield from iter_roi(volume, profile, tile_size=tile_size, should_stop=should_stop))


def device_task(*, should_stop: StopFlag) -> Generator[None, None, torch.device]:
    """Return the ``torch.device`` scoring will use; importing torch takes seconds, so not on the UI thread."""
    from ctreview.model import pick_device

    return pick_device("auto")
    yield  # pragma: no cover - makes this a generator for GeneratorWorker


def _leave_a_core_for_the_ui(device: torch.device) -> None:
    """On CPU, let torch use all cores but one, so the UI thread is never starved."""
    if getattr(device, "type", "cpu") != "cpu":
        return
    import os

    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(max(1, cores - 1))


def score_task(volume: VolumeLike, model_path: str | Path, settings: ScoringSettings | None, *,
               workspace: Workspace, roi: RoiResult | None = None, device: str = "auto", interval: float = 0.1,
               should_stop: StopFlag) -> Generator[ScoringEvent | ResultsBatch, None, RunSummary]:
    """Score ``volume`` with the scoring service, recording the run in ``workspace``.

    Yields the service's :class:`~ctreview.scoring.RunStarted` once, then
    :class:`ResultsBatch` at most every ``interval`` seconds; returns the
    :class:`~ctreview.scoring.RunSummary`.
    """
    from ctreview.model.store import load_model
    from ctreview.scoring.service import run_scoring

    model = load_model(model_path, device=device)  # a format-1 AnoGAN too, as a fused model
    _leave_a_core_for_the_ui(model.device)
    events = run_scoring(volume, model, settings, roi=roi, workspace=workspace, should_stop=should_stop)
    yield next(events)  # RunStarted: the ROI is known, so is the number of slices to score
    return (yield from mapped(coalesce(events, interval), _results_batch))


def _results_batch(events: list[ScoringEvent]) -> ResultsBatch:
    """The slice results of a batch of the stream (after its one ``RunStarted``, nothing else comes)."""
    return ResultsBatch([e for e in events if isinstance(e, SliceResult)])


def export_report(workspace: Workspace, volume_id: int, run_id: int | None, outputs: dict[str, Path], *,
                  volume: VolumeLike | None = None,
                  should_stop: StopFlag) -> Generator[Progress, None, dict[str, Path]]:
    """Write the report files named in ``outputs`` (keys ``pdf``, ``csv``, ``json``).

    Yields the report's progress; a stop request ends the export between
    slices and leaves no half-written file.
    """
    from ctreview.report import iter_report

    yield from iter_report(workspace, volume_id, run_id, volume=volume, should_stop=should_stop, **outputs)
    return outputs


# -- defects and the orthogonal planes ------------------------------------------------
def defects_task(workspace: Workspace, run_id: int, shape: tuple[int, int, int], spacing: tuple[float, float, float],
                 origin: tuple[float, float, float] = (0.0, 0.0, 0.0), settings: DefectSettings | None = None, *,
                 should_stop: StopFlag) -> Generator[Progress, None, list[Defect]]:
    """Return the defects of a run: as the workspace stored them, else found from its heatmaps and stored.

    A run scored before defects existed gets them here, slab by slab from
    the workspace's heatmap cache (yielding progress), and keeps them.
    """
    from functools import partial

    from ctreview.defects import DefectSettings, SliceStack, iter_defects

    stored = workspace.run_defects(run_id)
    if stored is not None:
        return stored
    cfg = settings or DefectSettings()
    stack = SliceStack(partial(workspace.heatmap, run_id), shape)
    found = yield from iter_defects(stack, spacing, cfg, origin=origin, should_stop=should_stop)
    workspace.add_defects(run_id, found, cfg.to_dict())
    return found


def live_defects_task(tracker: DefectTracker, pending: list[tuple[int, np.ndarray]], *,
                      should_stop: StopFlag) -> Generator[None, None, list[Defect]]:
    """Feed streamed ``(slice, heatmap)`` pairs to a :class:`~ctreview.defects.DefectTracker`; return
    its provisional defects. One runs at a time per tracker (the window queues the rest)."""
    for index, heatmap in pending:
        tracker.add(index, heatmap)
    return tracker.defects()
    yield  # pragma: no cover - makes this a generator for GeneratorWorker


class SliceCache:
    """Slices of one volume read for the orthogonal planes, kept within a byte budget (thread-safe)."""

    def __init__(self, volume: VolumeLike, budget_bytes: int = 512 * 2**20) -> None:
        self.volume, self.budget = volume, int(budget_bytes)
        self._slices: OrderedDict[int, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def read(self, z0: int, z1: int) -> np.ndarray:
        """Slices ``z0:z1`` ``(z, y, x)``: from the cache where held, the rest read and kept."""
        with self._lock:
            held = [self._slices.get(k) for k in range(z0, z1)]
        if all(h is not None for h in held):
            return np.stack(held)  # type: ignore[arg-type]
        block = self.volume.read(z0, z1)
        with self._lock:
            for k in range(z0, z1):
                if k not in self._slices and self._bytes + block[k - z0].nbytes <= self.budget:
                    self._slices[k] = block[k - z0]
                    self._bytes += block[k - z0].nbytes
        return block


@dataclass(frozen=True)
class PlaneRows:
    """Rows ``z0:z1`` of the orthogonal planes through row ``y`` and column ``x``.

    ``xz`` (z, x) and ``yz`` (z, y) of the volume (None when only heat was
    read), ``heat_xz`` and ``heat_yz`` of the heatmap (zero where unscored).
    """

    y: int
    x: int
    z0: int
    z1: int
    xz: Any
    yz: Any
    heat_xz: Any
    heat_yz: Any


def plane_task(cache: SliceCache | None, shape: tuple[int, int, int], y: int, x: int,
               heat: Callable[[int], Any] | None = None, *, slices: list[int] | None = None, chunk: int = 16,
               expected: Callable[[int], Any] | None = None,
               should_stop: StopFlag) -> Generator[PlaneRows, None, None]:
    """Read the XZ plane at row ``y`` and the YZ plane at column ``x``, ``chunk`` slices at a time.

    Every slice is touched, so this runs in a worker and yields as it goes;
    ``cache`` None reads heat only; ``heat(k)`` gives slice ``k``'s ``(y, x)``
    heatmap or None; ``slices`` reads only those (runs of neighbours together);
    ``expected(k)``, where given, is the slice the model expected (0 outside
    the ROI), shown in place of the scan's grey values where it is drawn.
    """
    nz, ny, nx = shape
    for z0, z1 in _runs(slices, nz, chunk):
        if should_stop():
            raise Cancelled()
        xz = yz = None
        if cache is not None:
            block = cache.read(z0, z1)
            xz, yz = np.array(block[:, y, :]), np.array(block[:, :, x])
            if expected is not None:
                xz, yz = _with_expected(xz, yz, z0, y, x, expected)
        hxz = hyz = None
        if heat is not None:
            hxz, hyz = np.zeros((z1 - z0, nx), np.float32), np.zeros((z1 - z0, ny), np.float32)
            for k in range(z0, z1):
                h = heat(k)
                if h is not None and h.shape == (ny, nx):
                    hxz[k - z0], hyz[k - z0] = h[y], h[:, x]
        yield PlaneRows(y, x, z0, z1, xz, yz, hxz, hyz)


def _with_expected(xz: np.ndarray, yz: np.ndarray, z0: int, y: int, x: int,
                   expected: Callable[[int], Any]) -> tuple[np.ndarray, np.ndarray]:
    """The plane rows with each slice's expected grey values where the model drew them."""
    xz, yz = xz.astype(np.float32), yz.astype(np.float32)
    for row in range(xz.shape[0]):
        e = expected(z0 + row)
        if e is not None and e.shape == (yz.shape[1], xz.shape[1]):
            xz[row] = np.where(e[y] != 0, e[y], xz[row])
            yz[row] = np.where(e[:, x] != 0, e[:, x], yz[row])
    return xz, yz


def _runs(slices: list[int] | None, nz: int, chunk: int) -> list[tuple[int, int]]:
    """Ranges ``(z0, z1)`` of at most ``chunk`` slices covering ``slices`` (all of ``0:nz`` for None)."""
    if slices is None:
        return [(z0, min(nz, z0 + chunk)) for z0 in range(0, nz, chunk)]
    runs: list[tuple[int, int]] = []
    for k in sorted({int(k) for k in slices if 0 <= k < nz}):
        if runs and runs[-1][1] == k and k - runs[-1][0] < chunk:
            runs[-1] = (runs[-1][0], k + 1)
        else:
            runs.append((k, k + 1))
    return runs
