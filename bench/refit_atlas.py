"""Rebuild the atlas scorer of a trained model with today's AtlasSettings and set its thresholds again.

    CTREVIEW_THREADS=1 .venv/bin/python bench/refit_atlas.py MODEL_DIR OUT_DIR

The other scorers are kept as trained: only the atlas is built again (the same normal volumes, the same
fit / held-out split, the same working scale) and every threshold, the fused one included, is set again
on the held-out normal volumes, as ``ctreview train`` does. So a change of the atlas settings is measured
without training the deep-feature model and the head again (ten minutes per part on two shared cores).
"""
from __future__ import annotations

import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from ctreview.atlas import AtlasSettings
    from ctreview.model import read_meta
    from ctreview.model.store import load_detector, save_detector
    from ctreview.progress import drain
    from ctreview.training.atlas_fit import fit_atlas
    from ctreview.training.detector_settings import detector_settings_from
    from ctreview.training.detector_train import _calibrate
    from ctreview.training.normal_data import gather_volumes, split
    from ctreview.training.scale import to_working_scale

    model_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    meta = read_meta(model_dir)
    trained = meta["training"]
    s = detector_settings_from({k: trained[k] for k in ("holdout", "seed", "max_side", "binning", "tile_size")})
    s = replace(s, scorers=tuple(meta["detector"]["scorers"]), atlas=AtlasSettings())
    t = time.perf_counter()
    normals = gather_volumes(meta["data"]["sources"], meta["profile"], s.tile_size)
    normals, _, _ = to_working_scale(normals, max_side=s.max_side, forced=s.binning, tile_size=s.tile_size)
    fit, held = split(normals, s.holdout, s.seed)
    detector = load_detector(model_dir, "cpu")
    detector.scorers["atlas"] = drain(fit_atlas(normals, fit, held, s.atlas))
    maxima, fused = drain(_calibrate(detector, normals, held, s, "volume", None))
    meta = {k: v for k, v in meta.items() if not k.startswith("_")}
    meta["training"] = {**trained, "atlas": asdict(s.atlas), "atlas_refit": "bench/refit_atlas.py"}
    meta["calibration"]["scorers"]["atlas"] = {q: float(np.quantile(maxima["atlas"], float(q)))
                                               for q in ("0.5", "0.9", "0.99")}
    save_detector(detector, out, meta)
    print(f"wrote {out} in {time.perf_counter() - t:.0f} s; fusion {asdict(detector.fusion)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
