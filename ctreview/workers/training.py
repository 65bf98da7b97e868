"""Run :func:`ctreview.model.train` off the UI thread and stream its progress.

``train`` is a plain function with ``callback`` / ``should_stop`` hooks, not
a generator, so it runs in a superqt :class:`~superqt.utils.FunctionWorker`
and its callback emits Qt signals (queued to the UI thread). Events come
every iteration; they are batched so a fast tiny model does not flood the
event loop, and a batch leaves early whenever it carries sample images or a
phase change.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from superqt.utils import FunctionWorker

from ctreview.errors import Cancelled

FLUSH_SECONDS = 0.1


class TrainingJob(QObject):
    """One training run (possibly resumed) of a model into a folder.

    Parameters
    ----------
    inputs : list
        What ``train`` accepts: training-set folders, volumes, arrays.
    out : path
        The model folder (its ``checkpoint.pt`` makes a later resume possible).
    options : dict
        Keyword arguments of ``train`` (``profile``, ``tile_size``, ``epochs``...).

    Signals
    -------
    progress(list)
        A batch of :class:`ctreview.model.TrainEvent`, oldest first.
    finished(str)
        The path of the saved model folder.
    failed(object)
        The exception that stopped training (never :class:`Cancelled`).
    cancelled()
        Training stopped on request; a checkpoint was kept for resuming.
    """

    progress = Signal(list)
    finished = Signal(str)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(self, inputs: list[Any], out: str | Path, options: dict,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.inputs, self.out, self.options = list(inputs), Path(out), dict(options)
        self._stop = threading.Event()
        self._done = threading.Event()
        self._done.set()
        self._buffer: list = []
        self._last_flush = 0.0
        self._worker: FunctionWorker | None = None

    def can_resume(self) -> bool:
        """Return whether a checkpoint of a stopped run is there to resume from."""
        return (self.out / "checkpoint.pt").is_file()

    def is_running(self) -> bool:
        return not self._done.is_set()

    def start(self, resume: bool = False) -> None:
        """Start (or with ``resume`` continue) training in the global thread pool."""
        if self.is_running():
            raise RuntimeError("training is already running")
        self._stop.clear()
        self._done.clear()
        self._buffer, self._last_flush = [], time.monotonic()
        worker = FunctionWorker(self._run, resume)
        worker.returned.connect(lambda path: self.finished.emit(str(path)))
        worker.errored.connect(self._errored)
        self._worker = worker
        worker.start()

    def cancel(self) -> None:
        """Ask training to stop at its next iteration (it keeps a checkpoint)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker thread has left ``train``; return whether it did."""
        return self._done.wait(timeout)

    def _run(self, resume: bool) -> Path:
        from ctreview.model import train

        try:
            path = train(self.inputs, self.out, callback=self._on_event,
                         should_stop=self._stop.is_set, resume=resume, **self.options)
            self._flush()
            return path
        finally:
            self._done.set()

    def _on_event(self, event: Any) -> None:
        # Runs in the worker thread: emitting queues the batch to the UI thread.
        self._buffer.append(event)
        now = time.monotonic()
        urgent = event.samples is not None or event.phase not in ("gan", "encoder")
        if urgent or now - self._last_flush >= FLUSH_SECONDS:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self._last_flush = time.monotonic()
            self.progress.emit(batch)

    def _errored(self, exc: BaseException) -> None:
        self._flush()
        if isinstance(exc, Cancelled):
            self.cancelled.emit()
        else:
            self.failed.emit(exc)
