"""``ctreview dataset export|info|prune``: build and clean training sets of normal tiles."""
from __future__ import annotations

import argparse
import json
import sys

from ctreview.errors import CtreviewError


def _n(count: int, word: str) -> str:
    """``"1 tile"``, ``"2 tiles"``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def _int_list(text: str) -> list[int]:
    """Parse ``"1,4,7-9"`` into ``[1, 4, 7, 8, 9]``."""
    out: list[int] = []
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            lo, _, hi = part.partition("-")
            out += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from None
    return out


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "dataset", help="build training sets from accepted slices (export, info, prune)",
        description="Training sets hold the ROI tiles of slices reviewers accepted as normal.")
    sub = parser.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)

    exp = sub.add_parser("export", help="export tiles of accepted slices into a set (or append)")
    exp.add_argument("volumes", nargs="+", metavar="VOLUME", help="reviewed volume files")
    exp.add_argument("--out", required=True, metavar="SET_DIR", help="training-set folder")
    exp.add_argument("--workspace", metavar="PATH", help="review workspace (default: the user's)")
    exp.add_argument("--run", action="append", metavar="RUN_DIR", dest="runs",
                     help="a `ctreview score` run folder per volume (repeat, same order); "
                          "default: the latest run recorded in the workspace")
    exp.add_argument("--profile", help="ROI profile (default: the one of the latest scoring run)")
    exp.add_argument("--tile-size", type=int, help="tile size (default: the run's model's)")
    exp.add_argument("--include-above-threshold", action="store_true",
                     help="keep accepted slices the model scored above threshold (confirm them "
                          "as normal); by default they are dropped with a warning")
    exp.add_argument("--crops", action="store_true", help="also store whole ROI crops")
    exp.add_argument("--json", action="store_true", help="print the export summary as JSON")

    info = sub.add_parser("info", help="summarise a training set")
    info.add_argument("set_dir", metavar="SET_DIR")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.add_argument("--tiles", action="store_true", help="also list every tile")

    prune = sub.add_parser("prune", help="remove tiles from a training set")
    prune.add_argument("set_dir", metavar="SET_DIR")
    prune.add_argument("--tiles", type=_int_list, default=[], metavar="I,J,K-L",
                       help="tile indices as `info --tiles` lists them")
    prune.add_argument("--source", metavar="FINGERPRINT",
                       help="a source's fingerprint (or unique prefix, or file name)")
    prune.add_argument("--slices", type=_int_list, metavar="Z,...",
                       help="only these slices (of --source, else of every source)")
    parser.set_defaults(parser=parser)


def _export(args) -> int:
    from ctreview.dataset import export_training_set
    from ctreview.review import open_workspace

    with open_workspace(args.workspace, create=False) as ws:
        summary = export_training_set(
            ws, args.volumes, args.out, include_above_threshold=args.include_above_threshold,
            profile=args.profile, tile_size=args.tile_size, crops=args.crops, runs=args.runs)
    if args.json:
        print(json.dumps(summary.to_json(), indent=1))
        return 0
    for src in summary.sources:
        refused = len(src.flagged) + len(src.unsure)
        print(f"{src.name}: {_n(src.accepted, 'accepted slice')}, {len(src.slices)} exported, "
              f"{_n(src.tiles_added, 'tile')} added, {src.duplicates} already present, "
              f"{refused} flagged/unsure refused")
    print(f"{summary.out}: {_n(summary.total, 'tile')} in the set ({summary.added} added)")
    return 0


def _info(args) -> int:
    from ctreview.dataset import format_summary, open_training_set, summarise

    info = summarise(args.set_dir)
    if args.tiles:
        info["tile_list"] = [{"index": i, **rec} for i, rec in
                             enumerate(open_training_set(args.set_dir).records)]
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    print(format_summary(info))
    for rec in info.get("tile_list", []):
        score = (rec.get("run") or {}).get("relative")
        print(f"  {rec['index']:6d}  {rec['source'][:15]}  slice {rec['slice']:5d}  "
              f"box {rec['tile_box']}  relative {'-' if score is None else f'{score:.2f}'}")
    return 0


def _prune(args) -> int:
    from ctreview.dataset import prune

    if not args.tiles and not args.source and args.slices is None:
        raise CtreviewError(args.set_dir, "say what to remove: --tiles, --source or --slices")
    removed = prune(args.set_dir, tiles=args.tiles, source=args.source, slices=args.slices)
    print(f"{args.set_dir}: removed {removed} tiles", file=sys.stdout)
    return 0


def run(args) -> int:
    return {"export": _export, "info": _info, "prune": _prune}[args.dataset_command](args)
