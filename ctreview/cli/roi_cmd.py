"""``ctreview roi``: find the part and its per-slice regions of interest."""
from __future__ import annotations

import argparse
import json


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "roi", help="find the part, its pose and the per-slice ROI boxes and tiles",
        description="Segment the part, measure its pose and list every slice's ROI boxes "
                    "and model tiles, following a component profile.")
    p.add_argument("volume", nargs="+",
                   help="CT volume (file or folder of slices); with --images, image files and folders")
    p.add_argument("--images", action="store_true",
                   help="every file (or page) is an independent image, segmented on its own")
    p.add_argument("--profile", default=None,
                   help="bundled profile name, a .toml path, or 'auto' "
                        "(default: whole-part; whole-image with --images)")
    p.add_argument("--tile-size", type=int, default=None, metavar="N", help="tile edge in pixels")
    p.add_argument("--json", action="store_true", help="write the result as JSON to stdout")
    p.add_argument("--preview", metavar="OUT.png", help="save a montage with outline and ROI boxes")
    p.set_defaults(command="roi")


def _images_summary(roi, path: str, count: int) -> str:
    n_tiles = sum(len(s.tiles) for s in roi.slices.values())
    lines = [f"{path}", f"  independent images: {count}, each segmented on its own",
             f"  profile: {roi.profile.name}, tiles {roi.tile_size} px, stride {roi.stride}",
             f"  images with a ROI: {len(roi.slices)}, tiles: {n_tiles}"]
    lines += [f"  warning: {w}" for w in roi.warnings]
    return "\n".join(lines)


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
    from ctreview.errors import CtreviewError
    from ctreview.roi import extract_roi
    from ctreview.roi.preview import write_preview

    if len(args.volume) > 1 and not args.images:
        raise CtreviewError(args.volume[1], "one volume at a time (several inputs are for --images)")
    if args.images:
        from ctreview.io import open_images

        volume = open_images(args.volume)
    else:
        from ctreview.io import open_volume

        volume = open_volume(args.volume[0])
    profile = args.profile or ("whole-image" if args.images else "whole-part")
    roi = extract_roi(volume, profile, tile_size=args.tile_size)
    if args.preview:
        write_preview(volume, roi, args.preview)
    if args.json:
        print(json.dumps(roi.to_json()))
    else:
        name = " ".join(args.volume)
        print(_images_summary(roi, name, volume.shape[0]) if args.images else _summary(roi, name))
        if args.preview:
            print(f"  preview: {args.preview}")
    return 0
