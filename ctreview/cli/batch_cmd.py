"""``ctreview batch``: score many volumes, here or on a Dask cluster, and rank them worst first."""
from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from ctreview.cli._options import add_settings_flags, settings_from_args
from ctreview.scoring.settings import ScoringSettings

EXIT_SOME_FAILED = 1
EXIT_STOPPED = 130


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "batch", help="score many volumes (on this machine or a Dask cluster), worst first in batch.csv",
        description="Score every volume into RUNS_DIR/<name>/ (the files `ctreview score --out` writes) and "
                    "rank them worst first in RUNS_DIR/batch.csv and batch.json. A rerun skips every volume "
                    "already scored with the same model and settings. Exit status: 0 all scored, 1 some failed, "
                    "2 bad arguments, 130 stopped (Ctrl+C: running volumes finish; twice: they are cancelled).")
    p.add_argument("inputs", metavar="INPUT", nargs="+",
                   help="a volume, a folder of volumes (a folder of slices is one volume), or a text file "
                        "with one path per line")
    p.add_argument("--model", metavar="MODEL_DIR", required=True, help="model folder")
    p.add_argument("--out", metavar="RUNS_DIR", required=True, help="batch folder: run folders and batch.csv")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="local worker processes (default: one per GPU, else one per two CPU cores)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                   help="run on the workers of this Dask scheduler (pip install 'ctreview[dask]')")
    p.add_argument("--retries", type=int, default=2, metavar="N",
                   help="resubmit a volume whose worker died up to N times (default: 2; on Dask the "
                        "scheduler reruns a lost worker's volume itself, up to its allowed-failures)")
    p.add_argument("--workspace", metavar="PATH", default=None, nargs="?", const="",
                   help="also record every finished run in a review workspace (no PATH: the per-user one), "
                        "so the window opens them without re-scoring")
    p.add_argument("--device", default="auto", help="auto (each worker's GPU, else CPU), cpu, cuda")
    p.add_argument("--images", action="store_true",
                   help="each INPUT (a folder of image files, or a multi-page file) is a set of independent "
                        "images, scored image by image as with 'ctreview score --images'")
    p.add_argument("--force", action="store_true",
                   help="replace a run folder in RUNS_DIR that holds a run of another volume (refused otherwise)")
    add_settings_flags(p, ScoringSettings)
    p.set_defaults(command="batch")


def run(args: argparse.Namespace) -> int:
    from ctreview.batch import run_batch
    from ctreview.errors import CtreviewError
    from ctreview.progress import drain

    if args.workers is not None and args.workers < 1:
        raise CtreviewError(None, f"--workers must be at least 1, not {args.workers}")
    if args.retries < 0:
        raise CtreviewError(None, f"--retries must be at least 0, not {args.retries}")
    settings = settings_from_args(ScoringSettings, args)
    workspace = None
    if args.workspace is not None:
        from ctreview.review import open_workspace

        workspace = open_workspace(args.workspace or None)
    stop = _StopOnCtrlC()
    show = _Display(sys.stderr)
    try:
        with stop:
            events = run_batch(args.inputs, args.model, settings, args.out, workers=args.workers,
                               scheduler=args.scheduler, retries=args.retries, workspace=workspace,
                               device=args.device, should_stop=stop, images=args.images,
                               force=args.force)
            summary = drain(events, show)
    finally:
        show.end()
        if workspace is not None:
            workspace.close()
    t = summary.totals
    worst = next((r for r in summary.rows if r.scored and r.comparable), None)
    outside = sum(1 for r in summary.rows if r.scored and not r.comparable)
    print(f"batch: {t['done']} scored, {t['skipped']} skipped (already scored with this model and settings), "
          f"{t['failed']} failed" + (f", {t['pending']} not started" if t["pending"] else "")
          + f" in {summary.seconds:.0f} s"
          + (f"; worst: {worst.volume} ({worst.worst:.2f})" if worst and worst.worst is not None else "")
          + (f"; {outside} outside the model's training domain, ranked last (not comparable)" if outside else "")
          + f"; wrote {summary.csv_path}")
    if summary.stopped:
        return EXIT_STOPPED
    return EXIT_SOME_FAILED if t["failed"] else 0


class _StopOnCtrlC:
    """First Ctrl+C: stop submitting (running volumes finish). Second: KeyboardInterrupt cancels them."""

    def __init__(self) -> None:
        self.asked = False
        self._old: Any = None

    def __call__(self) -> bool:
        return self.asked

    def _handle(self, _signum: int, _frame: Any) -> None:
        self.asked = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def __enter__(self) -> _StopOnCtrlC:
        try:
            self._old = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: no Ctrl+C to catch
            self._old = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


class _Display:
    """A progress bar (volumes, rate, ETA) on a terminal; one plain line per volume otherwise."""

    def __init__(self, stream: Any) -> None:
        from ctreview.cli._progress import ProgressBar

        self.bar = ProgressBar("volumes", stream)
        self.tty = self.bar.tty

    def __call__(self, event: Any) -> None:
        from ctreview.batch import (
            BatchStarted,
            BatchStopping,
            VolumeDone,
            VolumeFailed,
            VolumeRetried,
            VolumeSkipped,
        )

        if isinstance(event, BatchStarted):
            threads = ", ".join(f"{h}: {n}" if h != "*" else str(n) for h, n in event.threads.items())
            self.bar.line(f"batch: {event.total} volumes on {event.workers} {event.executor} worker(s), "
                          f"{threads} torch thread(s) each")
            self.bar.start(event.total, "batch")
        elif isinstance(event, (VolumeDone, VolumeSkipped, VolumeFailed)):
            row = event.row
            if isinstance(event, VolumeFailed):
                text = row.error if row.error.startswith(row.volume) else f"{row.volume}: {row.error}"
                self.bar.line(f"failed: {text}")
            elif not self.tty or _domain_note(row):
                worst = "" if row.worst is None else f"worst {row.worst:.2f}, "
                self.bar.line(f"{event.done}/{event.total} {row.status}: {row.volume} ({worst}{row.above} above, "
                              f"{row.seconds:.1f} s){_domain_note(row)}")
            if self.tty:
                self.bar.update(event.done)
        elif isinstance(event, VolumeRetried):
            self.bar.line(f"retrying {event.volume}: {event.reason} (attempt {event.attempt})")
        elif isinstance(event, BatchStopping):
            self.bar.line(f"stopping: {event.running} running volume(s) finish; Ctrl+C again cancels them")

    def end(self) -> None:
        self.bar.end()


def _domain_note(row: Any) -> str:
    """What the volume's domain verdict means for its rank ("" when inside or not checked)."""
    from ctreview.model.domain import MANY_ABOVE, OUTSIDE, OUTSIDE_PREFIX

    if row.domain == OUTSIDE:
        reason = row.domain_reason.removeprefix(OUTSIDE_PREFIX)
        return f"; OUTSIDE the model's training domain, not comparable: {reason}"
    if row.domain == MANY_ABOVE:
        return "; many slices above threshold"
    return ""


