"""Fusion rules for a model with the features, head and AnoGAN scorers, compared on the dev phantoms.

    .venv/bin/python bench/explore_fusion_weights.py PART MODEL_DIR

One scoring pass of the dev set (bench_detection's, seed 2000) keeps every scorer's scaled map; each rule
fuses them per pixel; slice and pixel AUROC as bench_detection.py measures them. A rule's own threshold
only rescales its map, so the AUROCs are those of a model trained with that rule. Results and the choice
made from them: bench/results/fusion-weights.md.
"""
import json
import sys
from pathlib import Path

import numpy as np
import tifffile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import bench_detection as b  # noqa: E402

from ctreview.io import open_volume  # noqa: E402
from ctreview.model import load_model  # noqa: E402
from ctreview.results import SliceResult  # noqa: E402
from ctreview.scoring import ScoringSettings, run_scoring  # noqa: E402

part = sys.argv[1]
model = load_model(sys.argv[2], "cpu")
data = b.phantom_set("dev", part)
labels = json.loads((data / "labels.json").read_text())
rules = {
 "mean3": lambda m: (m["features"] + m["head"] + m["anogan"]) / 3,
 "mean2": lambda m: (m["features"] + m["head"]) / 2,
 "max3": lambda m: np.maximum(np.maximum(m["features"], m["head"]), m["anogan"]),
 "w0.5": lambda m: (m["features"] + m["head"] + 0.5 * m["anogan"]) / 2.5,
 "w0.25": lambda m: (m["features"] + m["head"] + 0.25 * m["anogan"]) / 2.25,
 "geo3": lambda m: np.cbrt(np.maximum(m["features"], 0) * np.maximum(m["head"], 0) * np.maximum(m["anogan"], 0)),
 "mean2+gate": lambda m: (m["features"] + m["head"]) / 2 * np.clip(m["anogan"], 0.5, 2.0) ** 0.5,
}
tallies = {k: b.Tally() for k in rules}
for stem, info in sorted(labels.items()):
    volume = open_volume(data / f"{stem}.tif")
    mask = tifffile.imread(data / "masks" / f"{stem}_defects.tif") if info["defective"] else None
    roi = None
    for ev in run_scoring(volume, model, ScoringSettings()):
        if not isinstance(ev, SliceResult):
            roi = ev.roi
            continue
        k = ev.index
        rm = roi.slices[k].mask(volume.shape[1:])
        truth = None if mask is None else mask[k][rm] > 0
        for name, rule in rules.items():
            f = rule(ev.maps)[rm]
            tallies[name].add(stem, k, float(f.max(initial=0.0)), int(info["slices"][k]),
                              None if truth is None else f, truth)
defective = {s for s, i in labels.items() if i["defective"]}
for name, t in tallies.items():
    r = t.figures(defective)
    print(f"{part} {name}: slice {r['slice_auroc']:.3f} pixel {r['pixel_auroc']:.3f}", flush=True)
