"""``ctreview demo``: a simulated part with defects, the bundled model, scoring at once."""
from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser", "run", "demo_volume"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``demo`` command."""
    parser = subparsers.add_parser(
        "demo", help="open a simulated defective part and score it with the bundled model",
        description="Simulate a CT scan of a part with planted defects (saved as a TIFF in your "
                    "user data folder), open it in the review window and score it at once.")
    parser.add_argument("--part", choices=("transformer", "capacitor"), default="transformer",
                        help="which part to simulate (default: transformer)")
    parser.add_argument("--seed", type=int, default=7, help="phantom seed (default: 7)")
    parser.add_argument("--workspace", metavar="PATH", help="review workspace file")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="once scored, flag the top slice, save a screenshot there and quit")
    return parser


def demo_volume(part: str = "transformer", seed: int = 7, *, size: int = 128,
                slices: int = 64) -> Path:
    """Return the path of the demo phantom TIFF, simulating it on first use."""
    from ctreview.paths import data_dir

    path = data_dir() / "demo" / f"{part}_demo_seed{seed}_{size}x{slices}.tif"
    if not path.is_file():
        from ctreview.io import write_tiff
        from ctreview.phantom import make_phantom

        phantom = make_phantom(part, size=size, slices=slices, defective=True, seed=seed)
        write_tiff(path, phantom.volume, spacing=phantom.spacing)
    return path


def run(args: argparse.Namespace) -> int:
    """Open the demo in the review window and score it."""
    from ctreview.gui import run_gui
    from ctreview.model import bundled_model_path

    model = bundled_model_path(args.part)
    return run_gui(demo_volume(args.part, args.seed), model=model, workspace=args.workspace,
                   autoscore=True, screenshot=args.screenshot)
