"""``ctreview phantom``: write simulated CT volumes with labelled defects."""
from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "phantom", help="simulate CT volumes of a part, normal and with planted defects",
        description="Simulate CT scans (radon, photon noise, FBP) of a current-sense transformer "
                    "or a capacitor in random poses; write volumes, defect masks and labels.json.")
    p.add_argument("out", help="output folder")
    p.add_argument("--part", choices=("transformer", "capacitor"), default="transformer")
    p.add_argument("--normal", type=int, default=4, metavar="N", help="number of normal volumes")
    p.add_argument("--defective", type=int, default=2, metavar="M", help="number of defective volumes")
    p.add_argument("--seed", type=int, default=0, help="volume i is the same for a seed whatever N and M")
    p.add_argument("--size", type=int, default=128, help="slice width and height in pixels")
    p.add_argument("--slices", type=int, default=64, help="number of slices")
    p.add_argument("--twins", action="store_true",
                   help="also write the defect-free twin of each defective volume (same part and "
                        "pose, independent noise) to OUT/twins/")
    p.set_defaults(command="phantom")


def run(args: argparse.Namespace) -> int:
    from ctreview.errors import CtreviewError
    from ctreview.phantom import write_phantom_set

    if args.size < 32 or args.slices < 8:
        raise CtreviewError(None, "--size must be >= 32 and --slices >= 8")

    def progress(done: int, total: int) -> None:
        print(f"\r{done}/{total} volumes", end="", flush=True)

    paths = write_phantom_set(args.out, part=args.part, normal=args.normal,
                              defective=args.defective, seed=args.seed, size=args.size,
                              slices=args.slices, twins=args.twins, progress=progress)
    extra = ", twins/" if args.twins and args.defective else ""
    print(f"\nwrote {len(paths)} volumes, masks/{extra} and labels.json to {args.out}")
    return 0
