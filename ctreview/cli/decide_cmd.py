"""``ctreview decide VOLUME --slice K --status accept|flag|unsure|none``: record a review decision.

For scripted workflows: writes the same workspace the GUI uses, registering
the volume when the workspace does not know it yet. The decision is on disk
when the command returns; a change of mind is a new decision (the history
keeps both). ``--status none`` marks the slice unreviewed again and
``--undo`` reverts its latest decision; both only touch a workspace that
already knows the volume.
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
    parser.add_argument("--status", metavar="STATUS",
                        help="accept, flag, unsure, or none to mark the slice unreviewed again")
    parser.add_argument("--undo", action="store_true",
                        help="revert the slice's latest decision (as Undo in the window)")
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
    from ctreview.review import CLEARED, open_workspace

    status = _status(args, DECISIONS)
    clearing = args.undo or status == CLEARED
    with open_volume(args.volume) as volume:
        if not 0 <= args.slice < len(volume):
            raise CtreviewError(args.volume, f"slice {args.slice} is out of range (the volume "
                                             f"has slices 0 to {len(volume) - 1})")
        # clearing needs a decision to clear: never create a workspace or a volume for it
        with open_workspace(args.workspace, create=not clearing) as workspace:
            volume_id = workspace.find_volume(volume) if clearing else workspace.add_volume(volume)
            if volume_id is None:
                raise CtreviewError(args.volume, f"not in the workspace {workspace.path}: it has no "
                                                 "decisions to clear")
            if args.undo:
                row = workspace.undo(volume_id, args.slice, args.reviewer or None)
            else:
                row = workspace.decide(volume_id, args.slice, status, args.note, args.reviewer or None,
                                       run_id=workspace.latest_run(volume_id))
    shown = "unreviewed" if row["status"] == CLEARED else row["status"]
    print(f"slice {row['slice']}: {shown} by {row['reviewer']} at {row['decided_at']} "
          f"({'undo, ' if args.undo else ''}decision {row['id']})")
    return 0


def _status(args: argparse.Namespace, decisions: tuple[str, ...]) -> str:
    """The status asked for: one of ``decisions``, ``cleared`` for none/clear, or "" with --undo."""
    from ctreview.errors import CtreviewError
    from ctreview.review import CLEARED

    if args.undo:
        if args.status is not None:
            raise CtreviewError("--undo", "give --undo or --status, not both")
        return ""
    if args.status is None:
        raise CtreviewError("--status", f"say what to record: --status {'|'.join(decisions)}|none, or --undo")
    status = args.status.strip().lower()
    if status in ("none", "clear", CLEARED, "unreviewed"):
        return CLEARED
    if status not in decisions:
        raise CtreviewError("--status", f"unknown status {args.status!r} "
                                        f"(use {', '.join(decisions)}, or none to clear)")
    return status
