"""Recalibrate a trained model's scoring statistics without retraining its networks.

    .venv/bin/python bench/recalibrate_demo.py MODEL_DIR NORMAL_DATA_DIR [--contrast-only]

Used when only the scoring statistic changes: recomputes the same
calibration ``train`` would (same data, same hold-out split, same seed):
the per-tile statistics and thresholds, then the z-contrast thresholds on
the whole normal volumes. ``--contrast-only`` keeps the first and adds or
replaces only the z-contrast block.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from ctreview.model import load_model, save_model
    from ctreview.scoring import ScoringSettings
    from ctreview.training.calibrate import calibrate, split_groups
    from ctreview.training.contrast_calibration import calibrate_contrast
    from ctreview.training.data import collect_tiles

    model_dir, data = Path(sys.argv[1]), Path(sys.argv[2])
    model = load_model(model_dir, "cpu")
    s = model.meta["training"]
    tileset = collect_tiles([data], model.profile, model.tile_size, s.get("stride"))
    if "--contrast-only" in sys.argv:
        meta = {k: v for k, v in model.meta.items() if not k.startswith("_")}
        model.meta["calibration"].pop("contrast", None)
        block = calibrate_contrast(model, tileset.volumes, model.profile, fpr=s["fpr"],
                                   settings=ScoringSettings(seed=s["seed"]))
        meta["calibration"]["contrast"] = block
        save_model(model, model_dir, meta)
        print("contrast", block["fast"]["threshold"], block["search"]["threshold"], block["slices"], "slices")
        return 0
    held = split_groups(tileset.groups, s["holdout"], s["seed"])
    if held.all() or not held.any():
        held = np.zeros(len(held), bool)
    cal_tiles = tileset.tiles[held] if held.any() else tileset.tiles
    cal_groups = tileset.groups[held] if held.any() else tileset.groups
    meta = {k: v for k, v in model.meta.items() if not k.startswith("_")}
    meta["calibration"] = calibrate(model, cal_tiles, cal_groups, fpr=s["fpr"], seed=s["seed"],
                                    stat_tiles=tileset.tiles[~held])
    model.meta["calibration"] = meta["calibration"]
    meta["calibration"]["contrast"] = calibrate_contrast(model, tileset.volumes, model.profile,
                                                         fpr=s["fpr"], settings=ScoringSettings(seed=s["seed"]))
    save_model(model, model_dir, meta)
    print(meta["calibration"]["fast"]["threshold"], meta["calibration"]["search"]["threshold"],
          meta["calibration"]["contrast"]["fast"]["threshold"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
