"""``ctreview report VOLUME --out report.pdf [--csv F] [--json F] [--run ID]``: export a review.

The volume is looked up in the workspace by content, so a moved or renamed
file still finds its scores and decisions.
"""
from __future__ import annotations

import argparse
import sys

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``report`` command."""
    parser = subparsers.add_parser(
        "report", help="write the PDF/CSV/JSON report of a scored and reviewed volume",
        description="Write a report of a volume's scoring run and review decisions: a PDF "
                    "(summary, score plot, one block per flagged slice with its heatmap), "
                    "a CSV and/or a JSON file with every scored slice.")
    parser.add_argument("volume", help="volume file or folder (as scored)")
    parser.add_argument("--out", metavar="PDF", help="PDF report to write")
    parser.add_argument("--csv", metavar="CSV", help="CSV of every scored slice")
    parser.add_argument("--json", metavar="JSON", help="JSON report")
    parser.add_argument("--run", type=int, default=None, metavar="ID",
                        help="scoring run id (default: the volume's latest)")
    parser.add_argument("--workspace", default=None, metavar="PATH",
                        help="workspace database (default: the per-user workspace)")
    parser.add_argument("--force", action="store_true",
                        help="replace report files that already exist (refused otherwise)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the asked-for files and print what they hold."""
    from ctreview.errors import CtreviewError
    from ctreview.io import open_volume
    from ctreview.report import write_report
    from ctreview.review import open_workspace

    if not (args.out or args.csv or args.json):
        raise CtreviewError(args.volume, "nothing to write: give --out PDF, --csv or --json")
    _refuse_existing_outputs(args)
    with open_volume(args.volume) as volume, open_workspace(args.workspace, create=False) as workspace:
        volume_id = workspace.find_volume(volume)
        if volume_id is None:
            raise CtreviewError(args.volume, f"not in the workspace {workspace.path}: it was "
                                             "never scored or reviewed there")
        workspace.add_volume(volume)  # records where the file is now
        data = write_report(workspace, volume_id, args.run, pdf=args.out, csv=args.csv,
                            json=args.json, volume=volume)
    counts = data.counts
    written = ", ".join(p for p in (args.out, args.csv, args.json) if p)
    print(f"run {data.run['id']}: {counts['scored']} slices scored, {counts['above_threshold']} "
          f"above threshold, {counts['flagged']} flagged, {counts['accepted']} accepted, "
          f"{counts['unsure']} unsure, {counts['unreviewed']} unreviewed -> {written}")
    for note in data.notes:
        print(f"warning: {note}", file=sys.stderr)
    return 0


def _refuse_existing_outputs(args: argparse.Namespace) -> None:
    """Before anything is read: every file the report would write must be new, or ``--force`` given."""
    from pathlib import Path

    from ctreview.paths import refuse_existing
    from ctreview.report.defects import defects_csv_path

    for path in (args.out, args.csv, defects_csv_path(args.csv) if args.csv else None, args.json):
        if path and not Path(path).is_dir():  # a folder is refused with its own line when written
            refuse_existing(path, force=args.force)
