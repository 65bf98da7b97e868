"""Detection quality on phantoms no model saw: every scorer alone and fused, the previous default, the twin limit.

    .venv/bin/python bench/bench_detection.py --part transformer --set dev [--model DIR] [--baseline DIR]

Sets (made here when missing, with the seeds of /work/cache/phantoms/README.md):
``train`` 6 normal volumes (seed 100), ``dev`` 4 normal + 8 defective with twins (seed 2000; every
choice is made on it), ``holdout`` the same kind (seed 4000; never used for a choice). Without
``--model`` the default fused model is trained on ``train`` with ``ctreview train``'s defaults
(cached in bench/.cache/models/<part>).

Metrics, pooled over the set's volumes (one ranking across a worklist):
* slice AUROC: label = the slice holds defect voxels, score = the slice's relative score;
  on all ROI slices, and on the defective volumes' slices alone (where the twin limit exists);
* pixel AUROC: the heatmap inside the ROI masks of the defective volumes, label = defect voxel;
* twin limit: each defective volume against its defect-free twin (same part and pose, independent
  noise), max over the ROI of the Gaussian-smoothed (sigma 1) |x - twin| per slice;
* per defect kind: the share of normal slices below the defect's best slice (1.0 = it tops them all).
Writes bench/results/detection-<part>-<set>.json and histograms of normal vs defective slice scores.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter
from scipy.stats import rankdata

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SEEDS = {"train": (100, 6, 0), "dev": (2000, 4, 8), "holdout": (4000, 4, 8)}


def auroc(scores, labels) -> float:
    """Rank-based AUROC (Mann-Whitney U), ties counted half."""
    scores, labels = np.asarray(scores, float), np.asarray(labels, bool)
    pos, neg = labels.sum(), (~labels).sum()
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


def histogram_png(path: Path, normal, defective, title: str) -> None:
    """Two overlaid histograms (normal grey, defective red) drawn with PIL."""
    from PIL import Image, ImageDraw

    normal, defective = np.asarray(normal, float), np.asarray(defective, float)
    w, h, pad = 480, 260, 30
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    hi = float(np.quantile(np.concatenate([normal, defective]), 0.99)) * 1.1 + 1e-9
    bins = np.linspace(0, hi, 31)
    hn = np.histogram(np.clip(normal, 0, hi), bins)[0] / max(1, len(normal))
    hd = np.histogram(np.clip(defective, 0, hi), bins)[0] / max(1, len(defective))
    top, bw = max(hn.max(), hd.max(), 1e-9), (w - 2 * pad) / 30
    for i in range(30):
        for frac, colour, off in ((hn[i], (120, 120, 120), 0), (hd[i], (220, 30, 30), bw / 2)):
            x0 = pad + i * bw + off
            draw.rectangle([x0, h - pad - frac / top * (h - 2 * pad), x0 + bw / 2 - 1, h - pad], fill=colour)
    draw.line([pad, h - pad, w - pad, h - pad], fill="black")
    if hi > 1.0:
        x1 = pad + (1.0 / hi) * (w - 2 * pad)
        draw.line([x1, pad, x1, h - pad], fill=(0, 0, 200))
    draw.text((pad, 5), f"{title}  grey: normal ({len(normal)})  red: defective ({len(defective)})", fill="black")
    draw.text((pad, h - pad + 5), f"0 .. {hi:.2f} (blue line: threshold 1.0)", fill="black")
    img.save(path)


def phantom_set(name: str, part: str) -> Path:
    """The cached set, made with the same seeds as /work/cache/phantoms when missing."""
    shared = Path("/work/cache/phantoms") / f"{name}-{part}"
    if (shared / "labels.json").is_file():
        return shared
    here = ROOT / "bench" / ".cache" / "phantoms" / f"{name}-{part}"
    if not (here / "labels.json").is_file():
        from ctreview.phantom import write_phantom_set

        seed, normal, defective = SEEDS[name]
        write_phantom_set(here, part=part, normal=normal, defective=defective, seed=seed, twins=defective > 0)
    return here


def default_model(part: str, train: Path) -> Path:
    """The fused model ``ctreview train`` makes by default from the 6 training volumes (cached)."""
    out = ROOT / "bench" / ".cache" / "models" / f"fused-{part}"
    if not (out / "model.json").is_file():
        from ctreview.cli import main

        t = time.perf_counter()
        code = main(["train", str(train), "--out", str(out), "--profile", part, "--device", "cpu"])
        if code:
            raise SystemExit(f"training failed ({code})")
        print(f"trained {out} in {time.perf_counter() - t:.0f} s", flush=True)
    return out


def twin_scores(volume, twin, roi) -> dict[int, tuple[float, np.ndarray]]:
    """Per ROI slice: max over the ROI of the smoothed |x - twin|, and that map inside the ROI."""
    out = {}
    for k, sroi in roi.slices.items():
        diff = gaussian_filter(np.abs(volume.slice(k).astype(np.float32) - twin.slice(k).astype(np.float32)), 1.0)
        mask = sroi.mask(volume.shape[1:])
        out[k] = (float(diff[mask].max(initial=0.0)), diff[mask])
    return out


class Tally:
    """Slice scores and ROI pixels of one method, over all volumes of a set."""

    def __init__(self) -> None:
        self.slices: list[tuple[str, int, float, int]] = []   # (stem, slice, score, label)
        self.pix: list[np.ndarray] = []
        self.pix_label: list[np.ndarray] = []

    def add(self, stem: str, k: int, score: float, label: int, pixels=None, pixel_labels=None) -> None:
        self.slices.append((stem, k, float(score), int(label)))
        if pixels is not None:
            self.pix.append(np.asarray(pixels, np.float32))
            self.pix_label.append(np.asarray(pixel_labels, bool))

    def figures(self, defective_stems: set[str]) -> dict:
        s = np.array([x[2] for x in self.slices])
        lab = np.array([x[3] for x in self.slices])
        in_def = np.array([x[0] in defective_stems for x in self.slices])
        pixel = auroc(np.concatenate(self.pix), np.concatenate(self.pix_label)) if self.pix else float("nan")
        return {"slice_auroc": auroc(s, lab), "slice_auroc_defective_volumes": auroc(s[in_def], lab[in_def]),
                "pixel_auroc": pixel, "slices": int(len(s)), "defective_slices": int(lab.sum())}


def evaluate(model_dir: Path, data: Path, labels: dict, methods: dict[str, Tally], prefix: str) -> float:
    """Score every volume of the set with a model; fill the fused/relative tally and one per scorer."""
    import tifffile

    from ctreview.io import open_volume
    from ctreview.model import load_model
    from ctreview.results import SliceResult
    from ctreview.scoring import ScoringSettings, run_scoring

    model = load_model(model_dir, "cpu")
    seconds = 0.0
    for stem, info in sorted(labels.items()):
        volume = open_volume(data / f"{stem}.tif")
        mask = tifffile.imread(data / "masks" / f"{stem}_defects.tif") if info["defective"] else None
        results: dict[int, SliceResult] = {}
        roi_box = {}
        t = time.perf_counter()
        for event in run_scoring(volume, model, ScoringSettings()):
            if isinstance(event, SliceResult):
                results[event.index] = event
            else:
                roi_box = event.roi
        seconds += time.perf_counter() - t
        for k, r in sorted(results.items()):
            roi_mask = roi_box.slices[k].mask(volume.shape[1:])
            truth = None if mask is None else mask[k][roi_mask] > 0
            label = int(info["slices"][k])
            methods.setdefault(prefix, Tally()).add(stem, k, r.relative, label,
                                                    None if truth is None else r.heatmap[roi_mask], truth)
            for name, m in r.maps.items():
                methods.setdefault(f"{prefix}: {name} alone", Tally()).add(
                    stem, k, float(m[roi_mask].max(initial=0.0)), label,
                    None if truth is None else m[roi_mask], truth)
            paper = getattr(r, "paper", None)  # the AnoGAN scorer's paper score: its loss summed over the tiles
            if "anogan" in r.maps and paper is not None and np.isfinite(paper):
                methods.setdefault(f"{prefix}: anogan paper score", Tally()).add(stem, k, float(paper), label)
    return seconds


def per_kind(tally: Tally, labels: dict, data: Path) -> dict[str, list[float]]:
    """For each planted defect: the share of normal slices scoring below its best slice."""
    import tifffile

    normal = np.array([s for stem, k, s, lab in tally.slices if not lab])
    by_slice = {(stem, k): s for stem, k, s, _ in tally.slices}
    out: dict[str, list[float]] = {}
    for stem, info in labels.items():
        if not info["defective"]:
            continue
        mask = tifffile.imread(data / "masks" / f"{stem}_defects.tif")
        for i, defect in enumerate(info["defects"], start=1):
            ks = np.flatnonzero((mask == i).any(axis=(1, 2)))
            best = max((by_slice.get((stem, int(k)), 0.0) for k in ks), default=0.0)
            out.setdefault(defect["kind"], []).append(float((normal < best).mean()))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", default="transformer")
    parser.add_argument("--set", default="dev", choices=("dev", "holdout"))
    parser.add_argument("--model", type=Path, default=None, help="a model folder (default: train the default)")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="the previous default (default: resources/models/anogan-<part>, hybrid z-contrast)")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    print(f"load {os.getloadavg()[0]:.1f}, torch threads {os.environ.get('CTREVIEW_THREADS', 'auto')}", flush=True)
    data = phantom_set(args.set, args.part)
    labels = json.loads((data / "labels.json").read_text())
    model = args.model or default_model(args.part, phantom_set("train", args.part))
    methods: dict[str, Tally] = {}
    seconds = {"fused": evaluate(model, data, labels, methods, "product")}
    if not args.no_baseline:
        baseline = args.baseline or ROOT / "resources" / "models" / f"anogan-{args.part}"
        seconds["baseline"] = evaluate(baseline, data, labels, methods, "previous default")
    twin = _twin_tally(data, labels, args.part)
    defective = {s for s, i in labels.items() if i["defective"]}
    rows = {"twin limit": twin.figures(defective), **{k: t.figures(defective) for k, t in methods.items()}}
    kinds = per_kind(methods["product"], labels, data)
    _print(args, rows, kinds, seconds, model)
    out = ROOT / "bench" / "results" / f"detection-{args.part}-{args.set}.json"
    out.write_text(json.dumps({"part": args.part, "set": args.set, "model": str(model), "methods": rows,
                               "per_kind": kinds, "seconds": seconds}, indent=1))
    for name, key in (("product", "fused"), ("previous default", "baseline")):
        if name in methods:
            s = methods[name].slices
            histogram_png(ROOT / "bench" / "results" / f"detection_hist_{args.part}_{args.set}_{key}.png",
                          [x[2] for x in s if not x[3]], [x[2] for x in s if x[3]],
                          f"{args.part} {args.set} {name}")
    return 0


def _twin_tally(data: Path, labels: dict, part: str) -> Tally:
    import tifffile

    from ctreview.io import open_volume
    from ctreview.roi import extract_roi

    tally = Tally()
    for stem, info in sorted(labels.items()):
        if not info["defective"]:
            continue
        volume, twin = open_volume(data / f"{stem}.tif"), open_volume(data / info["twin"])
        roi = extract_roi(volume, part)
        mask = tifffile.imread(data / "masks" / f"{stem}_defects.tif")
        for k, (score, pixels) in twin_scores(volume, twin, roi).items():
            tally.add(stem, k, score, int(info["slices"][k]), pixels, mask[k][roi.slices[k].mask(volume.shape[1:])] > 0)
    return tally


def _print(args, rows: dict, kinds: dict, seconds: dict, model: Path) -> None:
    print(f"\n{args.part}, {args.set} set, model {model}")
    print("| method | slice AUROC (all volumes) | slice AUROC (defective volumes) | pixel AUROC | slices (defective) |")
    print("|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['slice_auroc']:.3f} | {r['slice_auroc_defective_volumes']:.3f} | "
              f"{r['pixel_auroc']:.3f} | {r['slices']} ({r['defective_slices']}) |")
    print("\nper defect kind (product): share of normal slices below the defect's best slice")
    for kind, shares in sorted(kinds.items()):
        print(f"  {kind}: mean {np.mean(shares):.3f}, worst {min(shares):.3f} ({len(shares)} defects)")
    print("scoring seconds:", {k: round(v, 1) for k, v in seconds.items()}, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
