"""``ctreview score``: rank the slices of a volume with an anomaly model."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Generator
from typing import TYPE_CHECKING

from ctreview.cli._options import add_settings_flags, settings_from_args
from ctreview.scoring.settings import ScoringSettings

if TYPE_CHECKING:
    from ctreview.scoring import RunSummary, ScoringEvent


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "score", help="score every slice of a volume with an anomaly model",
        description="Find the part's ROI, score its tiles with the model and write RUN_DIR/scores.csv, "
                    "RUN_DIR/heatmap.tif and RUN_DIR/summary.json.")
    p.add_argument("volume", metavar="VOLUME", nargs="+",
                   help="the volume (file or folder of slices); with --images, image files and folders")
    p.add_argument("--images", action="store_true",
                   help="every file (or TIFF page) is an independent image, scored on its own")
    p.add_argument("--maps", default="", metavar="NAMES",
                   help="fused models: also write each named scorer's own map (heatmap-<name>.tif), "
                        "comma-separated, or 'all'")
    p.add_argument("--model", metavar="MODEL_DIR", default=None,
                   help="model folder (default: the bundled model for the ROI profile's part)")
    p.add_argument("--out", metavar="RUN_DIR", default=None,
                   help="folder for scores.csv, heatmap.tif and summary.json")
    p.add_argument("--workspace", metavar="PATH", default=None, nargs="?", const="",
                   help="also record the run in a review workspace (no PATH: the per-user one), "
                        "so the window and `ctreview report` open it without re-scoring")
    p.add_argument("--force", action="store_true",
                   help="replace a run already in RUN_DIR (refused otherwise)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    add_settings_flags(p, ScoringSettings)
    p.set_defaults(command="score")


def run(args: argparse.Namespace) -> int:
    import time

    from ctreview.errors import CtreviewError
    from ctreview.io import open_volume

    if args.out is None and args.workspace is None:
        raise CtreviewError(args.volume[0], "say where the run goes: --out RUN_DIR, --workspace [PATH], or both")
    if len(args.volume) > 1 and not args.images:
        raise CtreviewError(args.volume[1], "one volume at a time (several inputs are for --images, "
                                            "or use ctreview batch)")
    started = time.perf_counter()  # the summary line gives the seconds the user waited, loading included
    settings = settings_from_args(ScoringSettings, args)
    if args.images:
        from ctreview.io import open_images

        volume = open_images(args.volume)
        if settings.profile is None and args.model is None:
            settings = settings.changed(profile="whole-image")  # a model's own profile otherwise
    else:
        volume = open_volume(args.volume[0])
    # user errors first: the scoring imports (torch) take seconds
    if args.model is not None:
        from ctreview.model import read_meta

        read_meta(args.model)
    from ctreview.model.device import describe
    from ctreview.scoring import resolve_model, run_scoring

    model, roi = resolve_model(volume, args.model, profile=settings.profile, device=args.device)
    if args.out is not None:  # before anything is written: a used run folder is refused
        from ctreview.io import volume_fingerprint
        from ctreview.scoring import refuse_used_run_dir

        refuse_used_run_dir(args.out, volume_fingerprint(volume), volume.path, model.path, force=args.force)
    if args.model is None:
        from ctreview.scoring import model_choice

        print(f"model: {model_choice(model, roi, settings.profile)}", file=sys.stderr)
    print(f"device: {describe(model.device)}", file=sys.stderr)
    for note in getattr(model, "notes", ()):
        print(f"note: {note}", file=sys.stderr)
    maps = tuple(getattr(model, "scorers", {})) if args.maps == "all" else \
        tuple(m.strip() for m in args.maps.split(",") if m.strip())
    workspace = None
    if args.workspace is not None:
        from ctreview.review import open_workspace

        workspace = open_workspace(args.workspace or None)
    try:
        events = run_scoring(volume, model, settings, roi=roi, workspace=workspace, out=args.out, maps=maps)
        summary = _drain_with_counter(events)
    finally:
        if workspace is not None:
            workspace.close()
    where = " and ".join(w for w in (f"run {summary.run_id} in {workspace.path}" if workspace else "",
                                     str(args.out or "")) if w)
    c = summary.counts
    if summary.domain and not summary.domain.get("ok", True):
        print(f"warning: {' '.join(args.volume)}: {summary.domain['reason']}", file=sys.stderr)
    what = "images" if summary.layout == "images" else "slices"
    print(f"scored {c.scored_slices} {what} in {time.perf_counter() - started:.1f} s on "
          f"{describe(model.device)}; {c.above_threshold} above threshold; wrote {where}")
    return 0


def _drain_with_counter(events: Generator[ScoringEvent, None, RunSummary]) -> RunSummary:
    """Run the scoring events to their end with a progress bar (slices, rate, time left); return the summary."""
    from ctreview.cli._progress import ProgressBar
    from ctreview.progress import drain
    from ctreview.results import SliceResult

    bar = ProgressBar("slices")
    seen: set[int] = set()

    def show(event: ScoringEvent) -> None:
        if isinstance(event, SliceResult):
            if event.stage == "refined":
                bar.update(bar.done, f"refining slice {event.index}")
            else:
                seen.add(event.index)
                bar.update(len(seen))
        else:  # RunStarted: the ROI is known, so is the number of slices and the scale
            if event.scale:
                print(event.scale, flush=True)
            bar.start(event.total, "scoring")

    summary = drain(events, show)
    bar.end()
    return summary
