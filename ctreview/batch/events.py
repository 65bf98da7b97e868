"""What a batch yields and returns: one row per volume, typed events, the batch summary."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Union

from ctreview.model.domain import OUTSIDE

STATUSES = ("done", "failed", "skipped", "pending")
"""``done``: scored now; ``skipped``: an earlier complete run was kept; ``failed``: see ``error``;
``pending``: not scored (the batch was stopped before it)."""

CSV_COLUMNS = ("volume", "run", "fingerprint", "status", "worst", "above", "defects", "seconds",
               "device", "error", "domain", "domain_reason")
"""Columns of ``batch.csv``, in order."""


@dataclass(frozen=True)
class BatchRow:
    """One volume of a batch, as ``batch.csv`` and ``batch.json`` list it.

    Attributes
    ----------
    volume : str
        Absolute path of the volume (file or folder).
    run : str
        Its run folder's name inside the batch folder.
    fingerprint : str
        Content fingerprint of the volume (empty when it could not be read).
    status : str
        One of :data:`STATUSES`.
    worst : float or None
        Largest relative slice score (1.0 = the calibrated threshold).
    above : int or None
        Slices at or above the threshold.
    defects : int or None
        Defects above the threshold, when the run folder's summary lists defects.
    seconds : float
        Wall time of the volume's task (0 for pending).
    device : str
    error : str
        One line, for ``failed`` rows.
    attempts : int
        Times a task was started for it (more than 1 after a worker died).
    key : str
        Model and settings the run was made with (see :func:`ctreview.batch.inputs.run_key`).
    domain : str
        The run's domain verdict (:func:`ctreview.model.domain.verdict_of`): ``inside``,
        ``outside`` (unlike the model's training data: its scores are not
        comparable with the others', so it ranks after them), ``many slices
        above threshold`` or ``not checked``; empty when not scored.
    domain_reason : str
        The verdict's sentence for the analyst (empty when inside).
    """

    volume: str
    run: str
    fingerprint: str = ""
    status: str = "pending"
    worst: float | None = None
    above: int | None = None
    defects: int | None = None
    seconds: float = 0.0
    device: str = ""
    error: str = ""
    attempts: int = 0
    key: str = ""
    domain: str = ""
    domain_reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchRow:
        """Rebuild a row from :meth:`to_dict` (unknown keys ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def scored(self) -> bool:
        """Whether the row has a complete run (done now or kept from before)."""
        return self.status in ("done", "skipped")

    @property
    def comparable(self) -> bool:
        """Whether its scores rank with the others': not outside the model's domain."""
        return self.domain != OUTSIDE


def rank_key(row: BatchRow) -> tuple[int, float, str]:
    """Sort key of rows: scored worst first, then those outside the model's domain (worst first), then
    failed, then pending; ties by name."""
    group = {"done": 0, "skipped": 0, "failed": 2}.get(row.status, 3)
    if group == 0 and not row.comparable:
        group = 1
    worst = row.worst if row.worst is not None and math.isfinite(row.worst) else -math.inf
    return group, -worst, row.run


@dataclass(frozen=True)
class BatchStarted:
    """The batch is about to submit its volumes.

    Attributes
    ----------
    total : int
        Volumes in the batch.
    executor : str
        ``"local"`` or ``"dask"``.
    workers : int
    threads : dict
        Torch threads per worker (``{"*": n}`` locally, per host on a cluster).
    out : Path
    """

    total: int
    executor: str
    workers: int
    threads: dict[str, int]
    out: Path


@dataclass(frozen=True)
class VolumeDone:
    """A volume was scored; ``done`` of ``total`` volumes are finished."""

    row: BatchRow
    done: int
    total: int


@dataclass(frozen=True)
class VolumeSkipped:
    """A volume's run folder was complete for the same volume, model and settings."""

    row: BatchRow
    done: int
    total: int


@dataclass(frozen=True)
class VolumeFailed:
    """A volume could not be scored (``row.error`` says why); the batch goes on."""

    row: BatchRow
    done: int
    total: int


@dataclass(frozen=True)
class VolumeRetried:
    """A worker died while scoring ``volume``; it is submitted again (attempt ``attempt``)."""

    volume: str
    attempt: int
    reason: str


@dataclass(frozen=True)
class VolumeImported:
    """A finished run was recorded in the workspace (``run_id`` None: it already was)."""

    volume: str
    volume_id: int
    run_id: int | None


@dataclass(frozen=True)
class BatchStopping:
    """A stop was asked for: nothing more is submitted, ``running`` volumes finish."""

    running: int


BatchEvent = Union[BatchStarted, VolumeDone, VolumeSkipped, VolumeFailed, VolumeRetried, VolumeImported,
                   BatchStopping]


@dataclass
class BatchSummary:
    """What a batch did.

    Attributes
    ----------
    out : Path
        The batch folder (run folders, ``batch.csv``, ``batch.json``).
    rows : list of BatchRow
        Every volume, worst first (see :func:`rank_key`).
    seconds : float
        Wall time of the batch.
    stopped : bool
        A stop request ended the batch before every volume ran.
    info : dict
        Executor, workers, threads, model and settings (as in ``batch.json``).
    """

    out: Path
    rows: list[BatchRow] = field(default_factory=list)
    seconds: float = 0.0
    stopped: bool = False
    info: dict[str, Any] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def totals(self) -> dict[str, int]:
        """Volumes per status, and in all."""
        return {"volumes": len(self.rows), **{s: self.count(s) for s in STATUSES}}

    @property
    def csv_path(self) -> Path:
        return self.out / "batch.csv"

    @property
    def json_path(self) -> Path:
        return self.out / "batch.json"
