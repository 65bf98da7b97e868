"""Record a scoring stream into the workspace while passing it on.

``score_volume`` yields slice results and returns a summary; the GUI worker
and a command line that want the run kept in the workspace wrap the stream
with :func:`recorded` and use it exactly as before.
"""
from __future__ import annotations

from typing import Generator

from ctreview.results import SliceResult


def recorded(workspace, run_id: int,
             stream: Generator[SliceResult, None, dict]) -> Generator[SliceResult, None, dict]:
    """Yield the stream's results after storing each in run ``run_id``; return its summary.

    Each result is committed (with its heatmap cached) before it is passed
    on, so what the user has seen is in the workspace even if the process
    dies. When the stream ends, the run is marked finished with the summary.
    A stream closed early (cancelled) leaves the run unfinished, with the
    results it had.

    Examples
    --------
    >>> run_id = ws.start_run(volume_id, model_id, "hybrid", settings, "cpu")  # doctest: +SKIP
    >>> summary = yield from recorded(ws, run_id, score_volume(volume, model))  # doctest: +SKIP
    """
    while True:
        try:
            result = next(stream)
        except StopIteration as stop:
            summary = stop.value if isinstance(stop.value, dict) else {}
            workspace.finish_run(run_id, summary)
            return summary
        workspace.add_results(run_id, [result])
        yield result
