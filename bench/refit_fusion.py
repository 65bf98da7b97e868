"""Calibrate a trained fused model again with today's fusion defaults, into a new folder.

    .venv/bin/python bench/refit_fusion.py MODEL TRAIN_DATA --profile PART --out NEW

The scorers are fitted before and apart from the fusion (nothing in their fit reads a fusion setting), so
a model trained with new fusion defaults has the same scorers as one trained before them; only the
calibration differs. This repeats training's calibration (the same normal volumes, working scale and
held-out split, from the settings stored in model.json) with the fusion settings of this day's
``DetectorSettings`` and writes the model with the new ``fusion`` block, calibration quantiles and domain
scores to NEW (the old folder is left as it is). Every scorer's scale must come out as stored: a check that
the held-out slices are the training's.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import asdict, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ctreview.model import load_model  # noqa: E402
from ctreview.progress import drain  # noqa: E402
from ctreview.training import detector_train as dt  # noqa: E402
from ctreview.training.detector_settings import DetectorSettings  # noqa: E402
from ctreview.training.normal_data import gather_volumes, split  # noqa: E402
from ctreview.training.scale import to_working_scale  # noqa: E402

KEPT = ("scorers", "offsets", "fusion", "fusion_weights", "height_curves", "holdout", "fpr", "tile_size",
        "max_side", "binning", "seed")
"""Settings taken from the trained model (they decide its scorers and the held-out slices)."""
NEW = ("fusion_weights", "slice_weights", "slice_top")
"""Settings taken from this day's defaults (the fusion's rule)."""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("model", type=Path)
    parser.add_argument("train", type=Path)
    parser.add_argument("--profile", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.out.exists():
        raise SystemExit(f"error: {args.out}: already exists")
    meta = json.loads((args.model / "model.json").read_text())
    stored = meta["training"]
    s = replace(DetectorSettings(), **{k: _tuple(stored[k]) for k in KEPT if k not in NEW and k in stored})
    detector = load_model(args.model, "cpu")
    normals = gather_volumes(args.train, args.profile, s.tile_size)
    normals, _, _ = to_working_scale(normals, max_side=s.max_side, forced=s.binning, tile_size=s.tile_size)
    fit, held = split(normals, s.holdout, s.seed)
    old_scales = dict(detector.fusion.scales)
    maxima, fused = drain(dt._calibrate(detector, normals, held, s, "volume", None))
    for name, scale in old_scales.items():
        if abs(detector.fusion.scales[name] - scale) > 1e-4 * scale:
            raise SystemExit(f"error: {args.model}: {name}'s scale {detector.fusion.scales[name]} is not the "
                             f"stored {scale}: not the training's held-out slices")
    meta["detector"]["fusion"] = asdict(detector.fusion)
    meta["training"].update({k: getattr(s, k) for k in NEW})
    meta["training"]["refit"] = f"fusion calibrated again by bench/refit_fusion.py from {args.model}"
    new = dt._meta(s, normals, fit, held, meta["profile"], "volume", maxima, fused, 0.0, "cpu", None)
    meta["calibration"] = new["calibration"]
    meta["domain"] = dt._domain(normals, fit, detector, fused, meta["profile"], s)
    shutil.copytree(args.model, args.out)
    (args.out / "model.json").write_text(json.dumps(meta, indent=1))
    print(json.dumps(meta["detector"]["fusion"], indent=1))
    return 0


def _tuple(value):
    """JSON lists back to the tuples the settings hold (nested for the weights)."""
    if isinstance(value, list):
        return tuple(_tuple(v) for v in value)
    return value


if __name__ == "__main__":
    raise SystemExit(main())
