"""``ctreview score``: rank the slices of a volume with an anomaly model."""
from __future__ import annotations

import argparse
import sys


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "score", help="score every slice of a volume with an anomaly model",
        description="Find the part's ROI, score its tiles with the model and write RUN_DIR/scores.csv, "
                    "RUN_DIR/heatmap.tif and RUN_DIR/summary.json.")
    p.add_argument("volume", metavar="VOLUME")
    p.add_argument("--model", metavar="MODEL_DIR", default=None,
                   help="model folder (default: the bundled model for the ROI profile's part)")
    p.add_argument("--out", metavar="RUN_DIR", default=None,
                   help="folder for scores.csv, heatmap.tif and summary.json")
    p.add_argument("--workspace", metavar="PATH", default=None, nargs="?", const="",
                   help="also record the run in a review workspace (no PATH: the per-user one), "
                        "so the window and `ctreview report` open it without re-scoring")
    p.add_argument("--mode", choices=("hybrid", "fast", "anogan"), default="hybrid")
    p.add_argument("--steps", type=int, default=None,
                   help="latent-search steps (default 500 for anogan, 100 for hybrid refinement)")
    p.add_argument("--lambda", dest="lam", type=float, default=0.1, help="weight of the feature term")
    p.add_argument("--top-k", type=int, default=8, help="hybrid: slices refined by latent search")
    p.add_argument("--refine-above", type=float, default=None,
                   help="hybrid: also refine every slice whose relative fast score is at least this")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    p.add_argument("--profile", default=None, help="ROI profile (default: the model's)")
    p.set_defaults(command="score")


def resolve(volume, model_dir, profile, device):
    """Return ``(model, roi)`` for a volume: the given model or the bundled one for the part."""
    from ctreview.model import bundled_model_path, load_model
    from ctreview.roi import extract_roi

    if model_dir is None:
        roi = extract_roi(volume, profile or "auto")
        part = getattr(roi.profile, "part", None) or "transformer"
        model = load_model(bundled_model_path(part), device)
        if roi.tile_size != model.tile_size:
            roi = extract_roi(volume, roi.profile, tile_size=model.tile_size)
        return model, roi
    model = load_model(model_dir, device)
    return model, extract_roi(volume, profile or model.profile, tile_size=model.tile_size)


def run(args: argparse.Namespace) -> int:
    from ctreview.errors import CtreviewError
    from ctreview.io import open_volume
    from ctreview.scoring import score_volume

    if args.out is None and args.workspace is None:
        raise CtreviewError(args.volume, "say where the run goes: --out RUN_DIR, --workspace [PATH], or both")
    volume = open_volume(args.volume)
    model, roi = resolve(volume, args.model, args.profile, args.device)
    settings = {"mode": args.mode, "steps": args.steps, "lambda": args.lam, "top_k": args.top_k,
                "refine_above": args.refine_above, "profile": getattr(roi.profile, "name", None)}
    stream = score_volume(volume, model, mode=args.mode, roi=roi, steps=args.steps, lam=args.lam,
                          top_k=args.top_k, refine_above=args.refine_above)
    if args.workspace is None:
        summary = _record(args.out, volume, _echo(stream))
        where = args.out
    else:
        from ctreview.review import open_workspace, recorded

        with open_workspace(args.workspace or None) as ws:
            volume_id = ws.add_volume(volume)
            model_id = ws.add_model(model.meta.get("_dir", args.model or ""), dict(model.meta))
            run_id = ws.start_run(volume_id, model_id, args.mode, settings, str(model.device))
            summary = _record(args.out, volume, _echo(recorded(ws, run_id, stream)))
            where = f"run {run_id} in {ws.path}" + (f" and {args.out}" if args.out else "")
    t = summary["timings"]["total_s"]
    c = summary["counts"]
    print(f"scored {c['scored_slices']} slices ({c['tiles']} tiles) in {t:.1f} s on {summary['device']}; "
          f"{c['above_threshold']} above threshold; wrote {where}")
    return 0


def _record(out, volume, stream) -> dict:
    """Write the run folder when asked for, else just drain the stream (the workspace keeps it)."""
    from ctreview.scoring import record_run

    if out is not None:
        return record_run(out, volume, stream)
    relative = {}  # hybrid yields a slice again once refined; the last result counts
    while True:
        try:
            result = next(stream)
        except StopIteration as stop:
            summary = dict(stop.value or {})
            summary.setdefault("counts", {})["above_threshold"] = sum(r >= 1.0 for r in relative.values())
            return summary
        relative[int(result.index)] = float(result.relative)


def _echo(stream):
    """Pass results through, printing a counter on a terminal."""
    tty = sys.stderr.isatty()
    result = None
    try:
        while True:
            result = next(stream)
            if tty:
                print(f"\rslice {result.index} ({result.stage})\033[K", end="", file=sys.stderr, flush=True)
            yield result
    except StopIteration as stop:
        if tty:
            print(file=sys.stderr)
        return stop.value
