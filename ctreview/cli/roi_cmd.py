"""``ctreview roi``: find the part and its per-slice regions of interest."""
from __future__ import annotations

import argparse
import json


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "roi", help="find the part, its pose and the per-slice ROI boxes and tiles",
        description="Segment the part, measure its pose and list every slice's ROI boxes "
                    "and model tiles, following a component profile.")
    p.add_argument("volume", help="CT volume (file or folder of slices)")
    p.add_argument("--profile", default="whole-part",
                   help="bundled profile name, a .toml path, or 'auto' (default: whole-part)")
    p.add_argument("--tile-size", type=int, default=None, metavar="N", help="tile edge in pixels")
    p.add_argument("--json", action="store_true", help="write the result as JSON to stdout")
    p.add_argument("--preview", metavar="OUT.png", help="save a montage with outline and ROI boxes")
    p.set_defaults(command="roi")


def _summary(roi, path: str) -> str:
    z0, y0, x0, z1, y1, x1 = roi.part_bbox
    n_tiles = sum(len(s.tiles) for s in roi.slices.values())
    angle = f"{roi.angle_deg:.1f} deg" if roi.oriented else f"{roi.angle_deg:.1f} deg (round part: not meaningful)"
    lines = [f"{path}",
             f"  part: z {z0}-{z1}, y {y0}-{y1}, x {x0}-{x1} (half-open)",
             f"  angle: {angle}",
             f"  profile: {roi.profile.name}, tiles {roi.tile_size} px, stride {roi.stride}",
             f"  slices with a ROI: {len(roi.slices)}, tiles: {n_tiles}"]
    lines += [f"  warning: {w}" for w in roi.warnings]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ctreview.io import open_volume
    from ctreview.roi import extract_roi
    from ctreview.roi.preview import write_preview

    volume = open_volume(args.volume)
    roi = extract_roi(volume, args.profile, tile_size=args.tile_size)
    if args.preview:
        write_preview(volume, roi, args.preview)
    if args.json:
        print(json.dumps(roi.to_json()))
    else:
        print(_summary(roi, args.volume))
        if args.preview:
            print(f"  preview: {args.preview}")
    return 0
