"""The batch service: many volumes, one model, settings -> run folders and a ranked table.

:func:`run_batch` submits one task per volume (:func:`ctreview.batch.task.score_one`)
to an executor (a local process pool, or the workers of a Dask scheduler),
keeps only ``workers`` tasks in flight (so a stop leaves nothing queued and
a lost worker costs the volumes it was running, no more), rewrites
``batch.csv``/``batch.json`` after each volume, and, given a workspace,
records each finished run in it from the client: workers never write the
workspace.
"""
from __future__ import annotations

import concurrent.futures as cf
import logging
import time
from collections import deque
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

from ctreview.batch.events import (
    BatchEvent,
    BatchRow,
    BatchStarted,
    BatchStopping,
    BatchSummary,
    VolumeDone,
    VolumeFailed,
    VolumeImported,
    VolumeRetried,
    VolumeSkipped,
)
from ctreview.batch.executors import BatchExecutor, make_executor
from ctreview.batch.inputs import expand_inputs, model_digest, run_key, run_name
from ctreview.batch.table import earlier_runs, write_table
from ctreview.errors import CtreviewError
from ctreview.progress import StopFlag
from ctreview.review import Workspace
from ctreview.scoring.settings import ScoringSettings
from ctreview.timestamps import now_iso

log = logging.getLogger(__name__)


def run_batch(inputs: Sequence[str | Path], model_dir: str | Path, settings: ScoringSettings | None = None,
              out: str | Path = "runs", *, workers: int | None = None, scheduler: Any = None, retries: int = 2,
              workspace: Workspace | None = None, device: str = "auto", executor: BatchExecutor | None = None,
              should_stop: StopFlag | None = None, images: bool = False,
              force: bool = False) -> Generator[BatchEvent, None, BatchSummary]:
    """Score many volumes into ``out/<name>/`` run folders; rank them in ``out/batch.csv``.

    Parameters
    ----------
    inputs : sequence of path
        Volumes, folders of volumes, or text files with one path per line
        (see :func:`ctreview.batch.inputs.expand_inputs`).
    model_dir : path
        The model folder; each task loads it itself.
    settings : ScoringSettings, optional
    out : path
        The batch folder. A volume whose run folder there is complete for the
        same volume content, model files and settings is skipped.
    workers : int, optional
        Local worker processes (default: one per visible GPU, else one per two cores).
    scheduler : str or distributed.Client, optional
        A Dask scheduler (``tcp://host:port``) to run the tasks on instead.
    retries : int
        Times a volume is resubmitted after its worker died.
    workspace : Workspace, optional
        Record each finished run in it (from this process).
    device : str
        Torch device of the tasks (``auto``: each worker's GPU, else CPU).
    executor : BatchExecutor, optional
        An executor made by the caller (kept open afterwards).
    should_stop : callable, optional
        Polled while waiting: when true nothing more is submitted and the
        running volumes finish. Closing the generator cancels them.
    images : bool
        Each input is a set of independent images (a folder of image files,
        or one multi-page file), scored image by image as ``ctreview score --images``.
    force : bool
        Replace a run folder that holds a run of another volume (without it that
        volume is a ``failed`` row and the folder is left as it was).

    Yields
    ------
    BatchStarted, then per volume VolumeDone, VolumeSkipped or VolumeFailed
    (VolumeRetried, VolumeImported, BatchStopping as they happen).

    Returns
    -------
    BatchSummary
    """
    t0 = time.perf_counter()
    cfg = settings or ScoringSettings()
    out = Path(out).expanduser().absolute()
    volumes = expand_inputs(inputs, images=images)
    model_dir, meta = _check_model(model_dir)
    model_hash = model_digest(model_dir)
    key = run_key(model_hash, cfg, images)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CtreviewError(out, f"cannot create the batch folder ({exc.strerror})") from None
    rows, jobs = _plan(volumes, out, key, earlier_runs(out))
    base = {"model_dir": str(model_dir), "settings": cfg.to_dict(), "key": key, "device": device,
            "boxes": workspace is not None, "images": images, "force": force}
    own = executor is None
    executor = executor or make_executor(workers, scheduler, retries)
    info = {"started": now_iso(), "out": str(out),
            "model": {"path": str(model_dir), "name": meta.get("name"), "hash": model_hash},
            "settings": cfg.to_dict(), "key": key, "layout": "images" if images else "volume",
            "executor": {"kind": executor.kind, "workers": executor.workers, "retries": retries,
                         "scheduler": scheduler if isinstance(scheduler, str) else None,
                         "threads_per_worker": dict(executor.threads)}}
    run = _Run(executor, rows, jobs, base, out, info, retries, workspace, meta)
    finished = False
    try:
        write_table(out, list(rows.values()), info)
        yield BatchStarted(len(volumes), executor.kind, executor.workers, dict(executor.threads), out)
        yield from run.loop(should_stop)
        finished = True
    finally:
        if own:
            executor.close(cancel=not finished)
        elif not finished:
            run.cancel()
        final = write_table(out, list(rows.values()), {**info, "seconds": round(time.perf_counter() - t0, 2)})
    return BatchSummary(out, final, time.perf_counter() - t0, run.stopping, info)


def _check_model(model_dir: str | Path) -> tuple[Path, dict[str, Any]]:
    from ctreview.model import read_meta

    meta = read_meta(model_dir)
    return Path(meta["_dir"]).absolute(), meta


def _plan(volumes: list[Path], out: Path, key: str,
          earlier: dict[str, BatchRow]) -> tuple[dict[str, BatchRow], deque[dict[str, Any]]]:
    """Rows (an earlier run with the same key is kept until checked again) and the jobs, in input order."""
    rows: dict[str, BatchRow] = {}
    jobs: deque[dict[str, Any]] = deque()
    for path in volumes:
        name = run_name(path)
        old = earlier.get(name)
        keep = old is not None and old.scored and old.key == key and old.volume == str(path)
        rows[name] = old if keep and old is not None else BatchRow(str(path), name, key=key)
        jobs.append({"volume": str(path), "run_dir": str(out / name),
                     "keep": {"fingerprint": old.fingerprint} if keep and old is not None else None})
    return rows, jobs


class _Run:
    """The submit/collect loop of one batch (state shared by its steps)."""

    def __init__(self, executor: BatchExecutor, rows: dict[str, BatchRow], jobs: deque[dict[str, Any]],
                 base: dict[str, Any], out: Path, info: dict[str, Any], retries: int,
                 workspace: Workspace | None, meta: dict[str, Any]) -> None:
        self.executor, self.rows, self.jobs, self.base = executor, rows, jobs, base
        self.out, self.info, self.retries, self.workspace, self.meta = out, info, retries, workspace, meta
        self.running: dict[cf.Future[dict[str, Any]], tuple[dict[str, Any], int]] = {}
        self.attempts: dict[str, int] = {}
        self.generation = 0
        self.done = 0
        self.stopping = False
        self.model_id: int | None = None

    def loop(self, should_stop: StopFlag | None) -> Generator[BatchEvent, None, None]:
        while self.jobs or self.running:
            if not self.stopping and should_stop is not None and should_stop():
                self.stopping = True
                self.jobs.clear()
                yield BatchStopping(len(self.running))
            yield from self._submit()
            if not self.running:
                break
            ready, _ = cf.wait(list(self.running), timeout=0.25, return_when=cf.FIRST_COMPLETED)
            for future in ready:
                job, generation = self.running.pop(future)
                yield from self._collect(future, job, generation)

    def _submit(self) -> Generator[BatchEvent, None, None]:
        while self.jobs and len(self.running) < max(1, self.executor.workers):
            job = self.jobs.popleft()
            if job.get("keep"):
                kept = self._kept(job)
                if kept is not None:
                    yield from self._record(job, *kept)
                    continue
            name = Path(job["run_dir"]).name
            self.attempts[name] = self.attempts.get(name, 0) + 1
            self.running[self.executor.submit({**self.base, **job})] = (job, self.generation)

    def _kept(self, job: dict[str, Any]) -> tuple[dict[str, Any], Any] | None:
        """Check here, without a worker, whether an earlier run is still good: ``(result, volume)``."""
        from ctreview.batch.task import kept_result, open_input

        try:
            volume = open_input({**self.base, **job})
            result = kept_result({**self.base, **job}, volume)
        except CtreviewError:
            return None  # its task says what is wrong
        return None if result is None else (result, volume)

    def cancel(self) -> None:
        for future in self.running:
            future.cancel()

    def _collect(self, future: cf.Future[dict[str, Any]], job: dict[str, Any],
                 generation: int) -> Generator[BatchEvent, None, None]:
        name = Path(job["run_dir"]).name
        attempts = self.attempts[name]
        try:
            result = future.result()
        except cf.CancelledError:
            return
        except Exception as exc:  # noqa: BLE001 - a lost worker, or anything the executor raised
            if self.executor.lost_worker(exc):
                if generation == self.generation:  # the first of its pool's futures to fail
                    self.executor.recover()
                    self.generation += 1
                if attempts <= self.retries:
                    if not self.stopping:  # else it stays as it was: a rerun scores it
                        self.jobs.appendleft(job)
                        yield VolumeRetried(job["volume"], attempts + 1, "its worker process died")
                    return
                text = f"its worker process died ({attempts} attempt{'s' * (attempts > 1)})"
            else:
                text = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
            result = {"row": BatchRow(job["volume"], name, status="failed", error=text,
                                      key=self.base["key"]).to_dict(), "record": None, "boxes": None}
        yield from self._record(job, result)

    def _record(self, job: dict[str, Any], result: dict[str, Any],
                volume: Any = None) -> Generator[BatchEvent, None, None]:
        name = Path(job["run_dir"]).name
        row = BatchRow.from_dict({**result["row"], "attempts": self.attempts.get(name, 0)})
        self.rows[name] = row
        self.done += 1
        write_table(self.out, list(self.rows.values()), self.info)
        kind = VolumeDone if row.status == "done" else VolumeSkipped if row.status == "skipped" else VolumeFailed
        yield kind(row, self.done, len(self.rows))
        if self.workspace is not None and row.scored and result.get("record"):
            try:
                yield self._import(self.workspace, row, result, volume)
            except CtreviewError as exc:  # the run folder stays; `ctreview batch` can import it again
                log.warning("not recorded in the workspace: %s", exc)

    def _import(self, workspace: Workspace, row: BatchRow, result: dict[str, Any], volume: Any) -> VolumeImported:
        from ctreview.batch.importing import import_run

        if self.model_id is None:
            self.model_id = workspace.add_model(self.base["model_dir"], self.meta)
        volume_id, run_id, new = import_run(workspace, self.out / row.run, record=result["record"], volume=volume,
                                            boxes=result.get("boxes"), model_id=self.model_id)
        return VolumeImported(row.volume, volume_id, run_id if new else None)
