"""The worker layer: batching of streamed items, cancel, and the one error handler."""
from __future__ import annotations

import itertools
import time

import pytest

from ctreview.errors import Cancelled, CtreviewError
from ctreview.progress import drain
from ctreview.workers import TaskRunner, coalesce


def test_coalesce_batches_by_time_and_keeps_return_value():
    ticks = itertools.count()  # a fake clock: each item arrives 0.03 s after the last
    clock = lambda: next(ticks) * 0.03  # noqa: E731

    def stream():
        yield from range(10)
        return "summary"

    batches = []
    result = drain(coalesce(stream(), 0.1, clock=clock), batches.append)
    assert batches[0] == [0]  # the first item goes out at once
    assert [x for b in batches for x in b] == list(range(10))
    assert all(len(b) <= 4 for b in batches) and len(batches) < 10
    assert result == "summary"


def test_coalesce_sends_urgent_items_at_once():
    clock = lambda: 0.0  # noqa: E731 - time stands still: only urgency flushes
    batches = []
    drain(coalesce(iter(range(6)), 10.0, urgent=lambda x: x == 3, clock=clock), batches.append)
    assert batches == [[0], [1, 2, 3], [4, 5]]


def test_request_stop_lets_the_task_wind_down_and_report(qtbot):
    runner = TaskRunner()
    seen = []
    runner.start("slow", _counter, 10_000, delay=0.01, on_yield=seen.append)
    qtbot.waitUntil(lambda: len(seen) >= 2, timeout=5000)
    with qtbot.waitSignal(runner.stopped, timeout=5000) as blocker:
        runner.request_stop("slow")
    assert blocker.args == ["slow"] and runner.wait("slow", 5.0)


def _counter(n, *, delay=0.0, fail_at=None, should_stop):
    for i in range(n):
        if should_stop():
            raise Cancelled()
        if i == fail_at:
            raise CtreviewError("thing.tif", f"broken at item {i}")
        time.sleep(delay)  # stands for real work in the worker thread
        yield i
    return n


def test_runner_delivers_yields_and_return(qtbot):
    runner = TaskRunner()
    seen, done = [], []
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.start("count", _counter, 5, on_yield=seen.append, on_return=done.append)
    assert seen == [0, 1, 2, 3, 4] and done == [5]
    assert not runner.is_running("count")


def test_runner_cancel_stops_quickly_and_calls_nothing_more(qtbot):
    runner = TaskRunner()
    seen, done, errors = [], [], []
    runner.errored.connect(lambda name, exc: errors.append(exc))
    worker = runner.start("slow", _counter, 10_000, delay=0.01, on_yield=seen.append,
                          on_return=done.append)
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=5000)
    with qtbot.waitSignal(worker.finished, timeout=1000):
        runner.cancel("slow")
    assert not done and not errors
    assert len(seen) < 10_000


def test_runner_errors_go_to_one_signal(qtbot):
    runner = TaskRunner()
    with qtbot.waitSignal(runner.errored, timeout=5000) as blocker:
        runner.start("bad", _counter, 5, fail_at=2)
    name, exc = blocker.args
    assert name == "bad" and isinstance(exc, CtreviewError) and "broken at item 2" in str(exc)


def test_shutdown_waits_for_running_tasks(qtbot):
    runner = TaskRunner()
    seen = []
    runner.start("slow", _counter, 10_000, delay=0.01, on_yield=seen.append)
    qtbot.waitUntil(lambda: len(seen) >= 1, timeout=5000)
    assert runner.shutdown(timeout=2.0)
    with pytest.raises(RuntimeError):
        runner.start("again", _counter, 1)
