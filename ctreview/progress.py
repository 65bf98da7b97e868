"""The one progress and cancel protocol of the core.

Every long core operation (ROI, scoring, training, reports, exports) is a
generator: it yields small typed event dataclasses as it goes and returns
its result. A front end either walks the events (the GUI's workers forward
them to the UI thread, the CLI draws a progress bar) or calls
:func:`drain` when it only wants the result. Cancelling is closing the
generator, or a ``should_stop`` callable that the operation polls where one
step takes long (a latent search, a training epoch).
"""
from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TypeVar, cast

E = TypeVar("E")
F = TypeVar("F")
R = TypeVar("R")

StopFlag = Callable[[], bool]
"""Polled by long steps; when it returns True the operation stops early."""


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` steps of one stage of a long operation.

    Attributes
    ----------
    stage : str
        What is being done, e.g. ``"roi"``, ``"report"``, ``"export"``.
    done, total : int
        Steps finished and steps in all (``total`` 0 when unknown).
    message : str
        One line for a status bar, may be empty.
    """

    stage: str
    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        """``done / total`` in [0, 1]; 0 when the total is unknown."""
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0


def drain(task: Generator[E, None, R], on_event: Callable[[E], None] | None = None) -> R:
    """Run a core generator to its end and return what it returns.

    Parameters
    ----------
    task : generator
        A long core operation (see the module docstring).
    on_event : callable, optional
        Called with every event the operation yields, in order.

    Returns
    -------
    The operation's result (the generator's return value).
    """
    while True:
        try:
            event = next(task)
        except StopIteration as stop:
            return cast("R", stop.value)
        if on_event is not None:
            on_event(event)


def mapped(task: Generator[E, None, R], convert: Callable[[E], F]) -> Generator[F, None, R]:
    """Yield ``convert(event)`` for every event of ``task``; return ``task``'s result."""
    while True:
        try:
            event = next(task)
        except StopIteration as stop:
            return cast("R", stop.value)
        yield convert(event)


def relay(task: Generator[E, None, R], on_event: Callable[[E], None]) -> Generator[E, None, R]:
    """Yield every event of ``task`` after handing it to ``on_event``; return ``task``'s result.

    For a stage that records what passes through (a run folder, a
    workspace) and passes it on unchanged.
    """
    def seen(event: E) -> E:
        on_event(event)
        return event

    return (yield from mapped(task, seen))


def never() -> bool:
    """A :data:`StopFlag` that never asks to stop."""
    return False
