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
import functools
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
    return lambda v: float(np.partition(v, v.size - k)[-k:].mean()) if v.size > k else float(v.mean())


@functools.cache  # one function per weight: pixel AUROCs are kept per function
def mean_with(anogan: float) -> Callable[[Maps], np.ndarray]:
    """The weighted mean of the three scaled maps, features and head 1, the AnoGAN ``anogan``."""
    return weighted({"features": 1, "head": 1, "anogan": anogan}) if anogan else weighted({"features": 1, "head": 1})


def per_scorer_mean(anogan: float) -> Callable[[Maps], np.ndarray]:
    """A stand-in map whose max is the weighted mean of each scorer's own slice maximum (each on its 1 % scale)."""
    w = {"features": 1.0, "head": 1.0, "anogan": anogan}
    return lambda m: np.asarray([sum(v * float(m[k].max(initial=0.0)) for k, v in w.items()) / sum(w.values())])


ALONE = lambda m: m["anogan"]  # noqa: E731
# name -> (pixel map, slice map, top pixels averaged for the slice score)
Rule = tuple[Callable[[Maps], np.ndarray], Callable[[Maps], np.ndarray], int]
RULES: dict[str, Rule] = {
    "without AnoGAN: mean of features, head": (mean_with(0), mean_with(0), 1),
    "AnoGAN alone: max of its map": (ALONE, ALONE, 1),
    "mean of the three": (mean_with(1), mean_with(1), 1),
    "weighted mean, AnoGAN 0.5": (mean_with(0.5), mean_with(0.5), 1),
    "weighted mean, AnoGAN 0.25 (old default)": (mean_with(0.25), mean_with(0.25), 1),
    "weighted mean, AnoGAN 0.1": (mean_with(0.1), mean_with(0.1), 1),
}
for _a in (0.05, 0.1, 0.15, 0.25):
    RULES[f"pixel: AnoGAN 0.5; slice: max of AnoGAN {_a}" + (" (new default)" if _a == 0.1 else "")] = (
        mean_with(0.5), mean_with(_a), 1)
for _k in (4, 16, 64):
    RULES[f"without AnoGAN, slice: top-{_k} mean"] = (mean_with(0), mean_with(0), _k)
    for _a in (0.1, 0.25, 0.5, 1.0):
        RULES[f"pixel: AnoGAN 0.5; slice: top-{_k} mean of AnoGAN {_a}"] = (mean_with(0.5), mean_with(_a), _k)
for _a in (0.25, 0.5, 1.0):
    RULES[f"pixel: AnoGAN 0.5; slice: mean of per-scorer maxima, AnoGAN {_a}"] = (
        mean_with(0.5), per_scorer_mean(_a), 1)
RULES["pixel: AnoGAN 1; slice: max of AnoGAN 0.1"] = (mean_with(1.0), mean_with(0.1), 1)


class Evaluation:
    """One set's slices, split once; pixel AUROCs kept per pixel rule (the costly part)."""

    def __init__(self, d: dict[str, np.ndarray]) -> None:
        ends = np.cumsum(d["size"])
        self.slices = [{k: d[k][a:e] for k in SCORERS} for a, e in zip(ends - d["size"], ends)]
        self.truth = [d["truth"][a:e] for a, e in zip(ends - d["size"], ends)]
        self.labels, self.defective = d["label"], d["defective"]
        self._pixel: dict[int, float] = {}

    def figures(self, rule: Rule) -> tuple[float, float]:
        """Slice and pixel AUROC of one rule, pooled over the set (pixels of the defective volumes only)."""
        pixel_map, slice_map, k = rule
        stat = top_mean(k)
        scores = [stat(slice_map(m)) for m in self.slices]
        if id(pixel_map) not in self._pixel:
            chosen = [i for i in range(len(self.slices)) if self.defective[i]]
            self._pixel[id(pixel_map)] = b.auroc(np.concatenate([pixel_map(self.slices[i]) for i in chosen]),
                                                 np.concatenate([self.truth[i] for i in chosen]))
        return b.auroc(scores, self.labels), self._pixel[id(pixel_map)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("part")
    parser.add_argument("model", type=Path)
    parser.add_argument("--set", default="dev", choices=("dev", "holdout"))
    args = parser.parse_args()
    d = collect(args.part, args.model, args.set)
    ev = Evaluation(d)
    for name, rule in RULES.items():
        s, p = ev.figures(rule)
        print(f"| {args.part} | {args.set} | {name} | {s:.3f} | {p:.3f} |", flush=True)
    paper = d["paper"]
    print(f"| {args.part} | {args.set} | AnoGAN alone: the seeds' paper score | {b.auroc(paper, d['label']):.3f} | - |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
