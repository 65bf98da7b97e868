"""The task of one volume, run in a worker process (local pool or Dask worker).

:func:`score_one` takes and returns plain data (paths, the settings as a
dict), so a cluster worker never receives code or objects from a file: it
imports this module from its own ctreview installation. It loads the model
itself (by path, once per process), scores through
:func:`ctreview.scoring.run_scoring` into its run folder and never touches
the workspace. A bad volume is a ``failed`` row, not an exception; only a
dying process leaves the future without a result.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctreview.batch.events import BatchRow

if TYPE_CHECKING:  # a worker process imports what a job needs when it runs one
    from ctreview.io import Volume, VolumeLike
    from ctreview.model.detector import Detector
    from ctreview.scoring import ScoringSettings

CRASH_VOLUME = "CTREVIEW_TEST_CRASH_VOLUME"
"""Tests only: the file name of a volume whose task kills its process (``os._exit``) mid-volume..."""
CRASH_MARKER = "CTREVIEW_TEST_CRASH_MARKER"
"""...the first time only: the marker file this path names records that it did."""

_MODELS: dict[tuple[str, str], Detector] = {}
_MALLOC_TUNED: list[bool] = []


def usable_cores() -> int:
    """CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _host() -> str | None:
    try:
        from urllib.parse import urlparse

        from distributed import get_worker

        return urlparse(get_worker().address).hostname
    except (ImportError, ValueError):
        return None


def set_threads(threads: int | None, by_host: dict[str, int] | None = None) -> int:
    """Give torch ``threads`` (local pool) or this Dask worker's share; return the number set.

    On a cluster a worker's own ``CTREVIEW_THREADS`` wins over the share the
    client computed for its host.
    """
    n = threads
    if n is None:
        env = os.environ.get("CTREVIEW_THREADS", "").strip()
        n = int(env) if env.isdigit() and int(env) > 0 else (by_host or {}).get(_host() or "", 1)
    n = max(1, int(n))
    os.environ["CTREVIEW_THREADS"] = str(n)  # pick_device() gives torch this many
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    return n


def warm_up() -> None:
    """Import torch and the scorers now, so the first volume's seconds are its own."""
    import ctreview.scoring.service  # noqa: F401


def restore_malloc_thresholds() -> None:
    """Undo ``MALLOC_TRIM_THRESHOLD_`` in this process (Linux/glibc), once.

    Dask's nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``,
    which also turns off glibc's dynamic mmap threshold: every array over
    128 KiB is then mapped and unmapped anew, and scoring ran 2-2.5x slower
    in such a worker (bench/bench_batch.py). Large fixed thresholds give the
    speed of a plain process back; freed memory is still returned above them.
    """
    if _MALLOC_TUNED or "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    _MALLOC_TUNED.append(True)
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: arrays up to 32 MiB come from the heap
        libc.mallopt(-1, 64 << 20)  # M_TRIM_THRESHOLD: keep up to 64 MiB of freed heap
    except (OSError, AttributeError):  # not glibc: nothing to undo
        pass


def init_worker(threads: int, gpus: int, counter: Any) -> None:
    """Initializer of a local pool's process: threads, its own GPU, and Ctrl+C left to the client."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the client decides whether running volumes finish
    if gpus > 0:
        with counter.get_lock():
            index, counter.value = counter.value, counter.value + 1
        visible = [d for d in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
        ids = visible or [str(i) for i in range(gpus)]  # the GPUs the client sees, in its numbering
        os.environ["CUDA_VISIBLE_DEVICES"] = ids[index % len(ids)]
    set_threads(threads)
    warm_up()


def _model(model_dir: str, device: str) -> Detector:
    from ctreview.model import load_model

    key = (model_dir, device)
    if key not in _MODELS:
        _MODELS.clear()
        _MODELS[key] = load_model(model_dir, device)
    return _MODELS[key]


def open_input(job: dict[str, Any]) -> Volume:
    """The job's volume, or its set of independent images when the job says ``images``."""
    if job.get("images"):
        from ctreview.io import open_images

        return open_images(job["volume"])
    from ctreview.io import open_volume

    return open_volume(job["volume"])


def _maybe_crash(volume: str) -> None:
    name, marker = os.environ.get(CRASH_VOLUME), os.environ.get(CRASH_MARKER)
    if name and marker and Path(volume).name == name and not Path(marker).exists():
        Path(marker).write_text(f"{os.getpid()}\n")
        os._exit(77)


def score_one(job: dict[str, Any]) -> dict[str, Any]:
    """Score one volume into its run folder, or keep the run already there.

    Parameters
    ----------
    job : dict
        ``volume``, ``run_dir``, ``model_dir``, ``settings`` (``ScoringSettings.to_dict()``),
        ``key``, ``device``, ``threads`` (None on a cluster) and ``threads_by_host``,
        ``images`` (open the input as independent images),
        ``keep`` (the fingerprint of an earlier complete run, or None), ``boxes``
        (also return the ROI boxes, for a workspace import).

    Returns
    -------
    dict
        ``row`` (a :class:`BatchRow` as a dict), ``record`` (the volume's
        fingerprint, path, format, shape, spacing, dtype) and ``boxes``
        (``{slice: [box, ...]}``, or None).
    """
    t0 = time.perf_counter()
    name = Path(job["run_dir"]).name
    try:
        restore_malloc_thresholds()
        set_threads(job.get("threads"), job.get("threads_by_host"))
        return _score(job, t0)
    except Exception as exc:  # noqa: BLE001 - a failed volume is a row; the batch goes on
        from ctreview.errors import CtreviewError

        text = str(exc) if isinstance(exc, CtreviewError) else f"{type(exc).__name__}: {exc}"
        row = BatchRow(job["volume"], name, status="failed", seconds=time.perf_counter() - t0,
                       error=" ".join(text.split())[:500], key=job["key"])
        return {"row": row.to_dict(), "record": None, "boxes": None}


def _score(job: dict[str, Any], t0: float) -> dict[str, Any]:
    from ctreview.io import volume_fingerprint
    from ctreview.progress import drain
    from ctreview.results import SliceResult
    from ctreview.scoring import ScoringSettings, refuse_used_run_dir, run_scoring

    volume = open_input(job)
    fingerprint = volume_fingerprint(volume)
    kept = kept_result(job, volume, fingerprint, t0)
    if kept is not None:
        if job.get("boxes"):
            kept["boxes"] = roi_boxes(volume, read_summary(Path(job["run_dir"])))
        return kept
    model = _model(job["model_dir"], job.get("device", "auto"))
    boxes: dict[str, list[list[int]]] = {}

    def seen(event: Any) -> None:
        if isinstance(event, SliceResult):
            _maybe_crash(job["volume"])
            boxes[str(event.index)] = [list(map(int, b)) for b in event.boxes]

    settings = ScoringSettings.from_dict(job["settings"])
    # its own earlier run may be replaced (new settings or model); another volume's never silently
    refuse_used_run_dir(job["run_dir"], fingerprint, job["volume"], job["model_dir"], force=bool(job.get("force")),
                        same_volume_ok=True)
    drain(run_scoring(volume, model, settings, out=job["run_dir"]), seen)
    return _result(job, volume, fingerprint, "done", t0, boxes if job.get("boxes") else None)


def kept_result(job: dict[str, Any], volume: Volume | None = None, fingerprint: str | None = None,
                t0: float | None = None) -> dict[str, Any] | None:
    """The ``skipped`` result of a job whose run folder is already complete, else None.

    Complete means: the job names the fingerprint of an earlier run with
    the same model and settings (``keep``), the volume still has that
    content, and the folder's summary was written for those settings.
    Raises CtreviewError when the volume cannot be read.
    """
    from ctreview.io import volume_fingerprint
    from ctreview.scoring import ScoringSettings

    t0 = time.perf_counter() if t0 is None else t0
    keep = job.get("keep")
    if not keep or not complete_run(Path(job["run_dir"]), ScoringSettings.from_dict(job["settings"])):
        return None
    volume = open_input(job) if volume is None else volume
    fingerprint = volume_fingerprint(volume) if fingerprint is None else fingerprint
    if keep.get("fingerprint") != fingerprint:
        return None
    return _result(job, volume, fingerprint, "skipped", t0, None)


def _result(job: dict[str, Any], volume: Volume, fingerprint: str, status: str, t0: float,
            boxes: dict[str, list[list[int]]] | None) -> dict[str, Any]:
    run_dir = Path(job["run_dir"])
    summary = read_summary(run_dir)
    verdict, reason = domain_verdict(summary)
    row = BatchRow(job["volume"], run_dir.name, fingerprint, status, worst_relative(run_dir / "scores.csv"),
                   int(summary["counts"]["above_threshold"]), count_defects(summary),
                   time.perf_counter() - t0, str(summary.get("device", "")), key=job["key"], domain=verdict,
                   domain_reason=reason)
    record = {"fingerprint": fingerprint, "path": str(Path(job["volume"]).absolute()), "format": volume.format,
              "shape": [int(s) for s in volume.shape], "spacing": [float(s) for s in volume.spacing],
              "dtype": str(volume.dtype)}
    return {"row": row.to_dict(), "record": record, "boxes": boxes}


def read_summary(run_dir: Path) -> dict[str, Any]:
    """The run folder's ``summary.json``; CtreviewError when missing or unreadable."""
    from ctreview.errors import CtreviewError

    path = Path(run_dir) / "summary.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CtreviewError(path, f"no readable run summary ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or "counts" not in data or "settings" not in data:
        raise CtreviewError(path, "not a ctreview run summary")
    return data


def domain_verdict(summary: dict[str, Any]) -> tuple[str, str]:
    """``(verdict, reason)`` of a run summary's domain check (:func:`ctreview.model.domain.verdict_of`)."""
    from ctreview.model.domain import verdict_of

    domain = summary.get("domain") if isinstance(summary.get("domain"), dict) else None
    return verdict_of(domain), " ".join(str((domain or {}).get("reason", "")).split())


def complete_run(run_dir: Path, settings: ScoringSettings) -> bool:
    """Whether ``run_dir`` holds a finished, uncancelled run made with ``settings``.

    The scoring service deletes ``summary.json`` when a run starts and
    writes it last, so its presence means every other file is whole.
    """
    from ctreview.errors import CtreviewError

    try:
        summary = read_summary(run_dir)
    except CtreviewError:
        return False
    wanted = settings.to_dict()
    stored = summary["settings"]
    same = all(stored.get(k) == v for k, v in wanted.items() if not (k == "profile" and v is None))
    files = all((Path(run_dir) / f).is_file() for f in (summary.get("files") or {}).values())
    return bool(same and files and not summary.get("cancelled"))


def worst_relative(scores_csv: Path) -> float | None:
    """The largest finite ``relative_score`` of a run's ``scores.csv`` (None when no slice was scored)."""
    import csv

    worst = None
    with open(scores_csv, newline="", encoding="utf-8") as fh:
        for line in csv.DictReader(fh):
            try:
                value = float(line["relative_score"])
            except (TypeError, ValueError):
                continue
            if math.isfinite(value) and (worst is None or value > worst):
                worst = value
    return worst


def count_defects(summary: dict[str, Any]) -> int | None:
    """Defects above threshold in a summary that lists defects; None when it lists none."""
    defects = summary.get("defects")
    if isinstance(defects, dict):
        for key in ("above_threshold", "above", "count"):
            if isinstance(defects.get(key), int):
                return int(defects[key])
        defects = defects.get("items") or defects.get("defects")
    if isinstance(defects, int):
        return defects
    if isinstance(defects, list):
        def above(d: Any) -> bool:
            value = d.get("relative", d.get("score_relative")) if isinstance(d, dict) else None
            return value is None or float(value) >= 1.0
        return sum(1 for d in defects if above(d))
    return None


def roi_boxes(volume: VolumeLike, summary: dict[str, Any]) -> dict[str, list[list[int]]]:
    """The ROI boxes of each slice as the run found them (its profile, its model's tile size)."""
    from ctreview.roi import extract_roi

    roi = extract_roi(volume, summary["settings"].get("profile") or "auto",
                      tile_size=int(summary["model"]["tile_size"]))
    return {str(k): [list(map(int, b)) for b in s.boxes] for k, s in roi.slices.items()}
