"""Detection quality on phantoms the model never saw: slice and pixel AUROC per mode.

    .venv/bin/python bench/bench_detection.py [--part transformer] [--normal 4] [--defective 4]
        [--data DIR] [--modes fast,hybrid,anogan] [--anogan-steps 100]

Test phantoms use seed 1000 (the demo model trained on seed 0). For each
mode it prints slice-level AUROC of the ranking score (local statistic) and
of the paper's summed score side by side, and pixel-level AUROC of the
heatmap inside the ROI of the defective volumes; it draws score histograms
of normal vs defective slices to bench/results/model_hist_<part>_<mode>.png.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Rank-based AUROC (Mann-Whitney U), ties counted half."""
    labels = np.asarray(labels, bool)
    pos, neg = labels.sum(), (~labels).sum()
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


def histogram_png(path: Path, normal: np.ndarray, defective: np.ndarray, title: str) -> None:
    """Two overlaid histograms (normal grey, defective red) drawn with PIL."""
    from PIL import Image, ImageDraw

    w, h, pad = 480, 260, 30
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    both = np.concatenate([normal, defective])
    hi = float(np.quantile(both, 0.99)) * 1.1 + 1e-9
    bins = np.linspace(0, hi, 31)
    hn, _ = np.histogram(np.clip(normal, 0, hi), bins)
    hd, _ = np.histogram(np.clip(defective, 0, hi), bins)
    hn, hd = hn / max(1, len(normal)), hd / max(1, len(defective))
    top = max(hn.max(), hd.max(), 1e-9)
    bw = (w - 2 * pad) / 30
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


def collect(model, data: Path, mode: str, steps: int | None) -> dict:
    """Score every test volume; return per-slice scores/labels and pixel values/labels."""
    import tifffile

    from ctreview.io import open_volume
    from ctreview.roi import extract_roi
    from ctreview.scoring import ScoringSettings, score_volume

    labels = json.loads((data / "labels.json").read_text())
    out = {"rel": [], "paper": [], "label": [], "pix": [], "pix_label": [], "seconds": 0.0}
    for stem, info in sorted(labels.items()):
        volume = open_volume(data / f"{stem}.tif")
        roi = extract_roi(volume, model.profile, tile_size=model.tile_size)
        t = time.perf_counter()
        final = {}
        stream = score_volume(volume, model, ScoringSettings(mode=mode, steps=steps), roi=roi)
        for res in stream:
            final[res.index] = res
        out["seconds"] += time.perf_counter() - t
        mask = tifffile.imread(data / "masks" / f"{stem}_defects.tif") if info["defective"] else None
        for k, res in sorted(final.items()):
            out["rel"].append(res.relative)
            out["paper"].append(res.paper_relative)
            out["label"].append(int(info["slices"][k]))
            if mask is not None:
                roi_mask = roi.slices[k].mask(volume.shape[1:])
                out["pix"].append(res.heatmap[roi_mask])
                out["pix_label"].append(mask[k][roi_mask] > 0)
    return out


def main() -> int:
    from ctreview.model import bundled_model_path, load_model
    from ctreview.phantom import write_phantom_set

    parser = argparse.ArgumentParser()
    parser.add_argument("--part", default="transformer")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--normal", type=int, default=4)
    parser.add_argument("--defective", type=int, default=4)
    parser.add_argument("--data", type=Path, default=None, help="reuse/keep test phantoms here")
    parser.add_argument("--modes", default="fast,hybrid,anogan")
    parser.add_argument("--anogan-steps", type=int, default=100)
    args = parser.parse_args()
    model = load_model(args.model or bundled_model_path(args.part), "cpu")
    data = args.data or ROOT / "bench" / ".cache" / f"test-{args.part}"
    if not (data / "labels.json").is_file():
        data.mkdir(parents=True, exist_ok=True)
        write_phantom_set(data, part=args.part, normal=args.normal, defective=args.defective, seed=1000)
    print(f"model {model.meta.get('name')} ({model.profile}), test data {data}")
    print("| part | mode | slice AUROC (ours) | slice AUROC (paper score) | pixel AUROC "
          "| slices (defective) | scoring s |")
    print("|---|---|---|---|---|---|---|")
    for mode in args.modes.split(","):
        r = collect(model, data, mode, args.anogan_steps if mode == "anogan" else None)
        lab = np.array(r["label"])
        ours, paper = auroc(np.array(r["rel"]), lab), auroc(np.array(r["paper"]), lab)
        pix = auroc(np.concatenate(r["pix"]), np.concatenate(r["pix_label"])) if r["pix"] else float("nan")
        print(f"| {args.part} | {mode} | {ours:.3f} | {paper:.3f} | {pix:.3f} | {len(lab)} ({lab.sum()}) "
              f"| {r['seconds']:.0f} |", flush=True)
        rel = np.array(r["rel"])
        histogram_png(ROOT / "bench" / "results" / f"model_hist_{args.part}_{mode}.png",
                      rel[lab == 0], rel[lab == 1], f"{args.part} {mode}: relative slice score")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
