"""Start, cancel and clean up the background tasks of one window.

:class:`TaskRunner` owns every worker a window starts. Each task is a
generator function taking a ``should_stop`` keyword; the runner wraps it in a
superqt :class:`~superqt.utils.GeneratorWorker`, so a cancel is honoured both
at each yield (superqt's ``quit``) and inside the core (``should_stop``).
All errors of all tasks go to one signal, :attr:`TaskRunner.errored`.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import GeneratorWorker

from ctreview.errors import Cancelled, CtreviewError

log = logging.getLogger(__name__)


@dataclass
class _Task:
    name: str
    worker: GeneratorWorker
    stop: threading.Event
    done: threading.Event = field(default_factory=threading.Event)


class TaskRunner(QObject):
    """Run named generator tasks in the global thread pool.

    Signals
    -------
    errored(str, object)
        ``(task name, exception)`` for every task that failed (not for a
        cancelled one).
    stopped(str)
        A task asked to wind down (:meth:`request_stop`) stopped itself
        (raised :class:`~ctreview.errors.Cancelled`).
    finished(str)
        A task ended, whichever way (after its own callbacks ran).
    """

    errored = Signal(str, object)
    stopped = Signal(str)
    finished = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: dict[str, _Task] = {}
        self._closed = False

    def start(self, name: str, func: Callable[..., Any], *args: Any,
              on_yield: Callable[[Any], None] | None = None,
              on_return: Callable[[Any], None] | None = None,
              **kwargs: Any) -> GeneratorWorker:
        """Start ``func(*args, should_stop=..., **kwargs)`` as task ``name``.

        A running task of the same name is cancelled first. ``on_yield`` and
        ``on_return`` run in the UI thread.
        """
        if self._closed:
            raise RuntimeError("the task runner is shut down")
        self.cancel(name)
        stop = threading.Event()
        worker = GeneratorWorker(func, *args, should_stop=stop.is_set, **kwargs)
        task = _Task(name, worker, stop)
        if on_yield is not None:
            worker.yielded.connect(lambda value: self._deliver(task, on_yield, value))
        if on_return is not None:
            worker.returned.connect(lambda value: self._deliver(task, on_return, value))
        worker.errored.connect(lambda exc: self._failed(task, exc))
        # superqt types ``finished`` as SigInst[None] (a slot of one argument) though it emits none
        worker.finished.connect(lambda *_: self._ended(task))
        # the pool thread sets ``done`` itself, so shutdown() can wait on it
        # without needing the UI event loop to deliver ``finished``
        original_work = worker.work

        def work() -> Any:
            try:
                return original_work()
            finally:
                task.done.set()

        worker.work = work  # type: ignore[method-assign]
        self._tasks[name] = task
        worker.start()
        return worker

    @property
    def closed(self) -> bool:
        """Whether :meth:`shutdown` ran (the window is closing); no task starts after it."""
        return self._closed

    def is_running(self, name: str) -> bool:
        """Return whether task ``name`` exists and has not ended."""
        task = self._tasks.get(name)
        return task is not None and not task.done.is_set()

    def worker(self, name: str) -> GeneratorWorker | None:
        """Return the worker of task ``name`` if it is still the current one."""
        task = self._tasks.get(name)
        return task.worker if task is not None else None

    def request_stop(self, name: str) -> None:
        """Ask task ``name`` to wind down by itself (its ``should_stop`` turns true).

        Unlike :meth:`cancel`, its callbacks still run: a task that saves its
        state before stopping (training keeps a checkpoint) reports through
        :attr:`stopped` or its return.
        """
        task = self._tasks.get(name)
        if task is not None:
            task.stop.set()

    def wait(self, name: str, timeout: float | None = None) -> bool:
        """Block until task ``name`` has left its generator; return whether it did (or none runs)."""
        task = self._tasks.get(name)
        return True if task is None else task.done.wait(timeout)

    def cancel(self, name: str) -> None:
        """Ask task ``name`` to stop; its callbacks are not called any more."""
        task = self._tasks.pop(name, None)
        if task is not None:
            task.stop.set()
            task.worker.quit()

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Cancel every task and wait for their threads; return whether all ended."""
        self._closed = True
        tasks = list(self._tasks.values())
        for name in list(self._tasks):
            self.cancel(name)
        ok = all(task.done.wait(timeout) for task in tasks)
        QThreadPool.globalInstance().waitForDone(100)
        return ok

    def _current(self, task: _Task) -> bool:
        return not self._closed and self._tasks.get(task.name) is task

    def _deliver(self, task: _Task, callback: Callable[[Any], None], value: Any) -> None:
        if self._current(task):
            callback(value)

    def _failed(self, task: _Task, exc: BaseException) -> None:
        if not self._current(task):
            return
        if isinstance(exc, Cancelled):
            self.stopped.emit(task.name)
            return
        # a user error is one line; anything else deserves its traceback in the log
        log.error("%s failed: %s", task.name, exc,
                  exc_info=None if isinstance(exc, CtreviewError) else exc)
        self.errored.emit(task.name, exc)

    def _ended(self, task: _Task) -> None:
        if self._current(task):
            del self._tasks[task.name]
            self.finished.emit(task.name)
