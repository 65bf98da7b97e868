"""Fusion rules for a model with the features, head and AnoGAN scorers, compared on one phantom set.

    .venv/bin/python bench/explore_fusion_weights.py PART MODEL_DIR [--set dev|holdout] [--rules all|report]

One scoring pass of the set (bench_detection's phantoms: dev seed 2000, holdout seed 4000) keeps every
scorer's scaled map inside the ROI, cached in bench/.cache/fusion-maps/<set>-<part>-<model>.npz so the rules
can be tried again without scoring; each rule fuses the maps into a pixel map (pixel AUROC) and a slice score
(slice AUROC), as bench_detection.py measures them. A rule's own thresholds only rescale its map and its
slice score, so the AUROCs are those of a model trained with that rule. Rules are chosen on dev only; the
holdout set is for the final side-by-side (``--rules report``). Results: bench/results/fusion-weights.md.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import bench_detection as b  # noqa: E402

SCORERS = ("features", "head", "anogan")
Maps = dict[str, np.ndarray]


def collect(part: str, model_dir: Path, which: str) -> dict[str, np.ndarray]:
    """Every ROI slice's scaled maps (flattened ROI pixels), labels and the AnoGAN's paper score, cached."""
    cache = ROOT / "bench" / ".cache" / "fusion-maps" / f"{which}-{part}-{model_dir.name}.npz"
    if cache.is_file():
        return dict(np.load(cache))
    import tifffile

    from ctreview.io import open_volume
    from ctreview.model import load_model
    from ctreview.results import SliceResult
    from ctreview.scoring import ScoringSettings, run_scoring

    model = load_model(model_dir, "cpu")
    data = b.phantom_set(which, part)
    labels = json.loads((data / "labels.json").read_text())
    rows: dict[str, list] = {k: [] for k in ("stem", "slice", "label", "paper", "size", "truth", *SCORERS)}
    for stem, info in sorted(labels.items()):
        volume = open_volume(data / f"{stem}.tif")
        mask = tifffile.imread(data / "masks" / f"{stem}_defects.tif") if info["defective"] else None
        roi = None
        for ev in run_scoring(volume, model, ScoringSettings()):
            if not isinstance(ev, SliceResult):
                roi = ev.roi
                continue
            rm = roi.slices[ev.index].mask(volume.shape[1:])
            rows["stem"].append(stem)
            rows["slice"].append(ev.index)
            rows["label"].append(int(info["slices"][ev.index]))
            rows["paper"].append(ev.paper)
            rows["size"].append(int(rm.sum()))
            rows["truth"].append(np.zeros(int(rm.sum()), bool) if mask is None else mask[ev.index][rm] > 0)
            for name in SCORERS:
                rows[name].append(ev.maps[name][rm].astype(np.float32))
        print(f"scored {stem}", flush=True)
    out = {k: (np.concatenate(v) if k in ("truth", *SCORERS) else np.asarray(v)) for k, v in rows.items()}
    out["defective"] = np.asarray([bool(labels[s]["defective"]) for s in out["stem"]])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **out)
    return out


def weighted(w: dict[str, float]) -> Callable[[Maps], np.ndarray]:
    total = sum(w.values())
    return lambda m: sum(w[k] * m[k] for k in w) / total


def top_mean(k: int) -> Callable[[np.ndarray], float]:
    return lambda v: float(np.sort(v)[-k:].mean()) if v.size else 0.0


MEAN2 = weighted({"features": 1, "head": 1})
W = {a: weighted({"features": 1, "head": 1, "anogan": a}) for a in (0.1, 0.25, 0.5, 1.0)}
MAX = top_mean(1)

# name -> (pixel map, slice map, slice statistic); the slice map is None when it is the pixel map
Rule = tuple[Callable[[Maps], np.ndarray], Callable[[Maps], np.ndarray] | None, Callable[[np.ndarray], float]]
RULES: dict[str, Rule] = {
    "without AnoGAN: mean of features, head": (MEAN2, None, MAX),
    "AnoGAN alone: max of its map": (lambda m: m["anogan"], None, MAX),
    "mean of the three": (W[1.0], None, MAX),
    "weighted mean, AnoGAN 0.25 (old default)": (W[0.25], None, MAX),
    "weighted mean, AnoGAN 0.5": (W[0.5], None, MAX),
    "weighted mean, AnoGAN 0.1": (W[0.1], None, MAX),
    "pixel: AnoGAN 0.5; slice: max of AnoGAN 0.1": (W[0.5], W[0.1], MAX),
    "pixel: AnoGAN 0.5; slice: max of AnoGAN 0.25": (W[0.5], W[0.25], MAX),
    "pixel: AnoGAN 1; slice: max of AnoGAN 0.25": (W[1.0], W[0.25], MAX),
}
for _k in (4, 16, 64):
    for _a in (0.25, 0.5, 1.0):
        RULES[f"pixel: AnoGAN 0.5; slice: top-{_k} mean of AnoGAN {_a}"] = (W[0.5], W[_a], top_mean(_k))
    RULES[f"without AnoGAN, slice: top-{_k} mean"] = (MEAN2, None, top_mean(_k))


def per_scorer_mean(weights: dict[str, float]) -> Rule:
    """Slice score: the weighted mean of each scorer's own slice maximum (each already on its 1 % scale)."""
    total = sum(weights.values())

    def stat_maps(m: Maps) -> np.ndarray:  # a stand-in map whose max is the statistic
        return np.asarray([sum(w * float(m[k].max(initial=0.0)) for k, w in weights.items()) / total])
    return (W[0.5], stat_maps, MAX)


for _a in (0.25, 0.5, 1.0):
    RULES[f"pixel: AnoGAN 0.5; slice: mean of per-scorer maxima, AnoGAN {_a}"] = per_scorer_mean(
        {"features": 1, "head": 1, "anogan": _a})


def evaluate(d: dict[str, np.ndarray], rule: Rule, which: str) -> tuple[float, float]:
    """Slice and pixel AUROC of one rule, pooled over the set (pixels of the defective volumes only)."""
    pixel_map, slice_map, stat = rule
    ends = np.cumsum(d["size"])
    starts = ends - d["size"]
    scores, pix, truth = [], [], []
    for i in range(len(d["size"])):
        m = {k: d[k][starts[i]:ends[i]] for k in SCORERS}
        p = pixel_map(m)
        scores.append(stat(p if slice_map is None else slice_map(m)))
        if d["defective"][i]:
            pix.append(p)
            truth.append(d["truth"][starts[i]:ends[i]])
    return b.auroc(scores, d["label"]), b.auroc(np.concatenate(pix), np.concatenate(truth))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("part")
    parser.add_argument("model", type=Path)
    parser.add_argument("--set", default="dev", choices=("dev", "holdout"))
    args = parser.parse_args()
    d = collect(args.part, args.model, args.set)
    for name, rule in RULES.items():
        s, p = evaluate(d, rule, args.set)
        print(f"| {args.part} | {args.set} | {name} | {s:.3f} | {p:.3f} |", flush=True)
    paper = d["paper"]
    print(f"| {args.part} | {args.set} | AnoGAN alone: the seeds' paper score | {b.auroc(paper, d['label']):.3f} | - |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
