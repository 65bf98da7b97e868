"""Run training off the UI thread on the window's :class:`TaskRunner` and stream its progress.

:func:`ctreview.training.iter_train` yields a :class:`~ctreview.training.TrainEvent`
per iteration; they are batched so a fast tiny model does not flood the
event loop, and a batch leaves early whenever it carries sample images or
a phase change.
"""
from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from ctreview.progress import StopFlag
from ctreview.training.settings import TrainEvent
from ctreview.workers.batching import coalesce
from ctreview.workers.runner import TaskRunner

FLUSH_SECONDS = 0.1
TASK = "train"


def _urgent(event: TrainEvent) -> bool:
    return event.samples is not None or event.phase not in ("gan", "encoder", "head", "features", "calibrate",
                                                             "cond-gan", "cond-encoder")


def train_task(inputs: list[Any], out: Path, options: dict, *, resume: bool,
               should_stop: StopFlag) -> Generator[list[TrainEvent], None, Path]:
    """Train into ``out``; yields batches of events, returns the model folder.

    ``options["engine"]`` is ``"fused"`` (the default: deep features and a
    defect head) or ``"anogan"``; the other options are that engine's settings.
    """
    opts = dict(options)
    engine = opts.pop("engine", "fused")
    kwargs = {k: opts.pop(k) for k in ("profile", "device", "name") if k in opts}
    if engine == "fused":
        from ctreview.training.detector_settings import detector_settings_from
        from ctreview.training.detector_train import iter_train_detector

        settings = detector_settings_from(opts)  # as `ctreview train` builds them from its flags
        events = iter_train_detector(inputs, out, settings, should_stop=should_stop, **kwargs)
    else:
        from ctreview.training import iter_train, settings_from

        events = iter_train(inputs, out, settings_from(**opts), resume=resume, should_stop=should_stop, **kwargs)
    return (yield from coalesce(events, FLUSH_SECONDS, urgent=_urgent))


class TrainingJob(QObject):
    """One training run (possibly resumed) of a model into a folder.

    Parameters
    ----------
    inputs : list
        What ``iter_train`` accepts: training-set folders, volumes, arrays.
    out : path
        The model folder (its ``checkpoint.pt`` makes a later resume possible).
    options : dict
        :class:`~ctreview.training.TrainSettings` fields plus ``profile``,
        ``device`` and ``name``.

    Signals
    -------
    progress(list)
        A batch of :class:`ctreview.training.TrainEvent`, oldest first.
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
        self.runner = TaskRunner(self)
        self.runner.errored.connect(lambda _name, exc: self.failed.emit(exc))
        self.runner.stopped.connect(lambda _name: self.cancelled.emit())

    def can_resume(self) -> bool:
        """Return whether a checkpoint of a stopped run is there to resume from."""
        return (self.out / "checkpoint.pt").is_file()

    def is_running(self) -> bool:
        return self.runner.is_running(TASK)

    def start(self, resume: bool = False) -> None:
        """Start (or with ``resume`` continue) training in the global thread pool."""
        if self.is_running():
            raise RuntimeError("training is already running")
        self.runner.start(TASK, train_task, self.inputs, self.out, self.options, resume=resume,
                          on_yield=self.progress.emit, on_return=lambda path: self.finished.emit(str(path)))

    def cancel(self) -> None:
        """Ask training to stop at its next iteration (it keeps a checkpoint)."""
        self.runner.request_stop(TASK)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker thread has left training; return whether it did."""
        return self.runner.wait(TASK, timeout)
