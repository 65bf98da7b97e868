"""``ctreview gui [VOLUME] [--model DIR] [--workspace PATH]``: the review window."""
from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``gui`` command (also what a bare ``ctreview`` runs)."""
    parser = subparsers.add_parser(
        "gui", help="open the review window (the default command)",
        description="Open the review window, optionally with a volume. Keys: F1 in the window.")
    parser.add_argument("volume", nargs="?", help="volume file or folder to open")
    parser.add_argument("--model", metavar="MODEL_DIR", help="model folder to select for scoring")
    parser.add_argument("--workspace", metavar="PATH",
                        help="review workspace file (default: the one in your user data folder)")
    parser.add_argument("--score", action="store_true", help="start scoring as soon as the volume is open")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the window until it is closed."""
    from ctreview.gui import run_gui

    return run_gui(args.volume, model=args.model, workspace=args.workspace,
                   autoscore=bool(args.score and args.volume))
