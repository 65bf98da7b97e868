"""The long tasks of the review window, as generators for :class:`TaskRunner`.

Each runs in a pool thread, calls the core and yields tagged tuples the UI
thread turns into view updates. Database work of a task happens here, in the
worker thread (a :class:`~ctreview.review.Workspace` keeps one SQLite
connection per thread), so the UI thread never waits on disk.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Generator

from ctreview.errors import Cancelled
from ctreview.workers.batching import coalesce

StopFlag = Callable[[], bool]


def load_volume(path: str | Path, *, workspace: Any = None,
                should_stop: StopFlag) -> Generator[tuple, None, Any]:
    """Open a volume and register it in the workspace.

    Yields ``("opened", volume, middle_slice)`` as soon as the file is open
    and one slice, shape (y, x), is read (a big volume is on screen before
    the rest is touched), then ``("registered", volume_id)`` (when a
    workspace is given) and ``("range", lo, hi)``.
    """
    from ctreview.io import open_volume

    volume = open_volume(path)
    yield ("opened", volume, volume.slice(len(volume) // 2))
    if workspace is not None:
        yield ("registered", workspace.add_volume(volume))
    if should_stop():
        raise Cancelled()
    lo, hi = volume.value_range()
    yield ("range", float(lo), float(hi))
    return volume


def roi_task(volume: Any, profile: str, tile_size: int | None, *,
             should_stop: StopFlag) -> Generator[tuple, None, Any]:
    """Find the part and its ROIs; return the ``RoiResult``."""
    from ctreview.roi import extract_roi

    roi = extract_roi(volume, profile, tile_size=tile_size)
    if should_stop():
        raise Cancelled()
    return roi
    yield  # pragma: no cover - makes this a generator for GeneratorWorker


def device_task(*, should_stop: StopFlag) -> Generator[tuple, None, Any]:
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


def score_task(volume: Any, volume_id: int, model_path: str | Path, *, mode: str,
               workspace: Any, roi: Any = None, device: str = "auto",
               interval: float = 0.1, should_stop: StopFlag) -> Generator[tuple, None, dict]:
    """Score ``volume`` slice by slice, store the results, yield them in batches.

    Yields ``("run", {"run_id", "device", "model", "roi", "total"})`` once
    (``total``: the number of slices with a ROI, i.e. to be scored), then
    ``("results", [SliceResult, ...])`` at most every ``interval`` seconds.
    Returns the run summary.
    """
    from ctreview.model import load_model
    from ctreview.roi import extract_roi
    from ctreview.scoring import score_volume

    model = load_model(model_path, device=device)
    _leave_a_core_for_the_ui(model.device)
    if roi is None:  # found here, not inside the stream, so the UI learns the total first
        roi = extract_roi(volume, model.profile, tile_size=model.tile_size)
    model_id = workspace.add_model(Path(model_path), dict(model.meta))
    settings = {"mode": mode, "model": str(model_path)}
    run_id = workspace.start_run(volume_id, model_id, mode, settings, str(model.device))
    yield ("run", {"run_id": run_id, "device": str(model.device), "model": model, "roi": roi,
                   "total": len(roi.slices)})
    stream = score_volume(volume, model, mode=mode, roi=roi, should_stop=should_stop)
    batches = coalesce(stream, interval)
    while True:
        try:
            batch = next(batches)
        except StopIteration as stop:
            summary = dict(stop.value or {})
            break
        workspace.add_results(run_id, batch)
        yield ("results", batch)
        if should_stop():
            raise Cancelled()
    workspace.finish_run(run_id, summary)
    return summary


def export_report(workspace: Any, volume_id: int, run_id: int | None,
                  outputs: dict[str, Path], *, volume: Any = None,
                  progress: Callable[[int, int], None] | None = None,
                  should_stop: StopFlag) -> Generator[tuple, None, dict]:
    """Write the report files named in ``outputs`` (keys ``pdf``, ``csv``, ``json``).

    ``progress(done, total)`` is called from the worker thread (a Qt signal's
    ``emit`` is safe to pass); a stop request ends the export between slices
    and leaves no half-written file.
    """
    from ctreview.report import write_report

    write_report(workspace, volume_id, run_id, volume=volume, progress=progress,
                 should_stop=should_stop, **outputs)
    return outputs
    yield  # pragma: no cover - makes this a generator for GeneratorWorker
