"""Coalesce a fast stream of items into batches the UI can digest.

A scoring stream may yield hundreds of small results a second; emitting a Qt
signal for each would flood the UI thread's event queue. :func:`coalesce`
runs in the worker thread and hands the items on in lists, at most every
``interval`` seconds, the first one at once so the user sees progress
immediately.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def coalesce(
    stream: Generator[T, None, R],
    interval: float = 0.1,
    *,
    urgent: Callable[[T], bool] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Generator[list[T], None, R]:
    """Yield the items of ``stream`` in lists, at most one list per ``interval``.

    Parameters
    ----------
    stream : generator
        The source; its return value becomes this generator's return value
        (any iterator works at run time, and returns None).
    interval : float
        Seconds between two yielded batches (the last batch is yielded as
        soon as the stream ends, whatever the interval).
    urgent : callable, optional
        An item for which it returns True leaves at once with its batch.
    clock : callable
        Monotonic clock in seconds (tests may pass a fake one).

    Yields
    ------
    list
        One or more consecutive items of ``stream``, in order.
    """
    batch: list[T] = []
    last = float("-inf")  # the first item goes out at once
    iterator = iter(stream)
    while True:
        try:
            item = next(iterator)
        except StopIteration as stop:
            if batch:
                yield batch
            result: R = stop.value
            return result
        batch.append(item)
        now = clock()
        if now - last >= interval or (urgent is not None and urgent(item)):
            yield batch
            batch, last = [], now
