"""Many volumes on an executor (a local process pool, or a Dask cluster): run folders, resume, batch.csv.

Core package: never imports Qt. :func:`run_batch` is the service the
command line (``ctreview batch``) and scripts call; the window's worklist
reads what it wrote (:func:`read_table`, :mod:`ctreview.batch.worklist`).
"""
from ctreview.batch.events import (
    CSV_COLUMNS,
    STATUSES,
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
from ctreview.batch.executors import BatchExecutor, DaskExecutor, LocalExecutor, make_executor
from ctreview.batch.importing import import_run, read_scores
from ctreview.batch.inputs import expand_inputs, model_digest, run_key, run_name
from ctreview.batch.service import run_batch
from ctreview.batch.table import read_table, write_table

__all__ = [
    "CSV_COLUMNS", "STATUSES", "BatchEvent", "BatchExecutor", "BatchRow", "BatchStarted", "BatchStopping",
    "BatchSummary", "DaskExecutor", "LocalExecutor", "VolumeDone", "VolumeFailed", "VolumeImported",
    "VolumeRetried", "VolumeSkipped", "expand_inputs", "import_run", "make_executor", "model_digest",
    "read_scores", "read_table", "run_batch", "run_key", "run_name", "write_table",
]
