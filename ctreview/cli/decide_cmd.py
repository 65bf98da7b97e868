"""``ctreview decide VOLUME --slice K --status accept|flag|unsure``: record a review decision.

For scripted workflows: writes the same workspace the GUI uses, registering
the volume when the workspace does not know it yet. The decision is on disk
when the command returns; a change of mind is a new decision (the history
keeps both).
"""
from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``decide`` command."""
    parser = subparsers.add_parser(
        "decide", help="record a review decision (accept/flag/unsure) for one slice",
        description="Record a review decision about one slice of a volume in the workspace. "
                    "Earlier decisions stay in the slice's history.")
    parser.add_argument("volume", help="volume file or folder")
    parser.add_argument("--slice", type=int, required=True, metavar="K", help="slice index z")
    # Not argparse choices: a wrong status must be one 'error:' line like every user error.
    parser.add_argument("--status", required=True, metavar="STATUS",
                        help="accept, flag or unsure")
    parser.add_argument("--note", default="", help="free text shown in reports")
    parser.add_argument("--reviewer", default=None, help="reviewer name (default: the OS user)")
    parser.add_argument("--workspace", default=None, metavar="PATH",
                        help="workspace database (default: the per-user workspace)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Record the decision and print it as one line."""
    from ctreview.errors import CtreviewError
    from ctreview.io import open_volume
    from ctreview.results import DECISIONS
    from ctreview.review import open_workspace

    status = args.status.strip().lower()
    if status not in DECISIONS:
        raise CtreviewError("--status", f"unknown status {args.status!r} "
                                        f"(use {', '.join(DECISIONS)})")
    with open_volume(args.volume) as volume:
        if not 0 <= args.slice < len(volume):
            raise CtreviewError(args.volume, f"slice {args.slice} is out of range (the volume "
                                             f"has slices 0 to {len(volume) - 1})")
        with open_workspace(args.workspace) as workspace:
            volume_id = workspace.add_volume(volume)
            row = workspace.decide(volume_id, args.slice, status, args.note,
                                   args.reviewer or None,
                                   run_id=workspace.latest_run(volume_id))
    print(f"slice {row['slice']}: {row['status']} by {row['reviewer']} at {row['decided_at']} "
          f"(decision {row['id']})")
    return 0
