"""Qt workers that run the core's long tasks off the UI thread.

Every long task in the core is a plain generator (or a function taking
``progress``/``should_stop``); this package wraps them in superqt
:class:`~superqt.utils.GeneratorWorker` objects whose ``yielded`` signal
delivers small batches to the UI thread.
"""
from ctreview.workers.batching import coalesce
from ctreview.workers.runner import TaskRunner
from ctreview.workers.tasks import device_task, export_report, load_volume, roi_task, score_task

__all__ = ["TaskRunner", "coalesce", "device_task", "export_report", "load_volume", "roi_task", "score_task"]
