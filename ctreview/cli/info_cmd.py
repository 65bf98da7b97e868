"""``ctreview info PATH [--json]``: what a volume is, without reading it whole."""
from __future__ import annotations

import argparse
import json
import sys

__all__ = ["add_parser", "run", "describe"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``info`` command."""
    parser = subparsers.add_parser(
        "info", help="show shape, dtype, spacing, format, value range and size of a volume",
        description="Open a CT volume (file or folder) and print what it is. Warnings about "
                    "the file go to stderr as 'warning: <file>: <what>'.")
    parser.add_argument("path", help="volume file or folder of slices / DICOM series")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return parser


def describe(volume) -> dict:
    """Return the facts ``info`` prints about a :class:`~ctreview.io.Volume`."""
    lo, hi = volume.value_range()
    is_int = volume.dtype.kind in "ui"
    return {
        "path": None if volume.path is None else str(volume.path),
        "format": volume.format,
        "shape": list(volume.shape),
        "dtype": str(volume.dtype),
        "spacing": list(volume.spacing),
        "origin": list(volume.origin),
        "min": int(lo) if is_int else lo,
        "max": int(hi) if is_int else hi,
        "range_sampled": volume.range_is_sampled,
        "size_bytes": volume.disk_bytes(),
        "memory_bytes": volume.nbytes,
        "warnings": list(volume.warnings),
    }


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _text(facts: dict) -> str:
    z, y, x = facts["shape"]
    sz, sy, sx = facts["spacing"]
    sampled = " (sampled)" if facts["range_sampled"] else ""
    return "\n".join([
        f"path:     {facts['path']}",
        f"format:   {facts['format']}",
        f"shape:    {z} x {y} x {x} (z, y, x)",
        f"dtype:    {facts['dtype']}",
        f"spacing:  {sz:g} x {sy:g} x {sx:g} mm (z, y, x)",
        f"range:    {facts['min']:g} .. {facts['max']:g}{sampled}",
        f"size:     {_human(facts['size_bytes'])} on disk, {_human(facts['memory_bytes'])} in memory",
    ])


def run(args: argparse.Namespace) -> int:
    """Print the description of ``args.path``; CtreviewError is reported by the CLI."""
    from ctreview.io import open_volume

    with open_volume(args.path) as volume:
        facts = describe(volume)  # warnings were logged to stderr while opening/reading
    if args.json:
        json.dump(facts, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(_text(facts))
    return 0
