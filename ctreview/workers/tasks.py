"""The long tasks of the review window, as generators for :class:`TaskRunner`.

Each runs in a pool thread, calls the core and yields small typed events
the UI thread turns into view updates. Database and disk work of a task
happens here, in the worker thread (a :class:`~ctreview.review.Workspace`
keeps one SQLite connection per thread), so the UI thread never waits on it.
"""
from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctreview.errors import Cancelled
from ctreview.progress import Progress, StopFlag, mapped
from ctreview.results import SliceResult, SliceScore
from ctreview.workers.batching import coalesce


@dataclass(frozen=True)
class VolumeOpened:
    """The file is open and one slice, shape (y, x), is read: a big volume is on screen at once."""

    volume: Any
    middle: Any


@dataclass(frozen=True)
class VolumeRegistered:
    """The volume's workspace record: its decisions and its latest run's scores."""

    volume_id: int
    decisions: dict[int, dict]
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


def load_volume(path: str | Path, *, workspace: Any = None,
                should_stop: StopFlag) -> Generator[Any, None, Any]:
    """Open a volume, register it in the workspace and read what it already has there.

    Yields :class:`VolumeOpened`, then :class:`VolumeRegistered` (with a
    workspace) and :class:`ValueRange`; returns the volume.
    """
    from ctreview.io import open_volume
    from ctreview.io.images import check_stack

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


def roi_task(volume: Any, profile: str, tile_size: int | None, *,
             should_stop: StopFlag) -> Generator[Progress, None, Any]:
    """Find the part and its ROIs; yields progress, returns the ``RoiResult``."""
    from ctreview.roi import iter_roi

    return (yield from iter_roi(volume, profile, tile_size=tile_size, should_stop=should_stop))


def device_task(*, should_stop: StopFlag) -> Generator[None, None, Any]:
    """Return the ``torch.device`` scoring will use; importing torch takes seconds, so not on the UI thread."""
    from ctreview.model import pick_device

    return pick_device("auto")
    yield  # pragma: no cover - makes this a generator for GeneratorWorker


def _leave_a_core_for_the_ui(device: Any) -> None:
    """On CPU, let torch use all cores but one, so the UI thread is never starved."""
    if getattr(device, "type", "cpu") != "cpu":
        return
    import os

    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(max(1, cores - 1))


def score_task(volume: Any, model_path: str | Path, settings: Any, *, workspace: Any, roi: Any = None,
               device: str = "auto", interval: float = 0.1,
               should_stop: StopFlag) -> Generator[Any, None, Any]:
    """Score ``volume`` with the scoring service, recording the run in ``workspace``.

    Yields the service's :class:`~ctreview.scoring.RunStarted` once, then
    :class:`ResultsBatch` at most every ``interval`` seconds; returns the
    :class:`~ctreview.scoring.RunSummary`.
    """
    from ctreview.model import load_model
    from ctreview.scoring import run_scoring

    model = load_model(model_path, device=device)
    _leave_a_core_for_the_ui(model.device)
    events = run_scoring(volume, model, settings, roi=roi, workspace=workspace, should_stop=should_stop)
    yield next(events)  # RunStarted: the ROI is known, so is the number of slices to score
    return (yield from mapped(coalesce(events, interval), ResultsBatch))


def export_report(workspace: Any, volume_id: int, run_id: int | None, outputs: dict[str, Path], *,
                  volume: Any = None, should_stop: StopFlag) -> Generator[Progress, None, dict]:
    """Write the report files named in ``outputs`` (keys ``pdf``, ``csv``, ``json``).

    Yields the report's progress; a stop request ends the export between
    slices and leaves no half-written file.
    """
    from ctreview.report import iter_report

    yield from iter_report(workspace, volume_id, run_id, volume=volume, should_stop=should_stop, **outputs)
    return outputs
