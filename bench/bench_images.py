"""Independent images: image and pixel AUROC of the AnoGAN, the feature model, the head and their fusion.

    .venv/bin/python bench/bench_images.py --set blobs            # smooth blobs, 1-2 small bright spots
    .venv/bin/python bench/bench_images.py --set capacitor        # phantom slices as independent images
    .venv/bin/python bench/bench_images.py --set transformer

Every model is trained on normal images only by ``ctreview train --images`` with its defaults (the
fused engine), and for the earlier default by ``ctreview train --engine anogan --profile whole-image``
on the folder of training images (the AnoGAN trains on volumes only, so the images are one stack);
then scored image by image through :func:`ctreview.scoring.run_scoring`, as ``ctreview score --images``
does.

Sets (written under bench/.cache/images/<set>/ when missing, seeded):
* ``blobs``: 128x128 grey images of smooth random blobs with CT-like noise; anomalies are 1-2
  small bright spots (radius 1.5-3 px) the peers' blob set has. 80 normal to train on,
  40 normal + 40 anomalous to test (seed 5000; the generator is not the phantoms').
* ``capacitor`` / ``transformer``: the ROI slices of ``train-<part>`` (every second one) as normal
  training images and every ROI slice of ``dev-<part>`` as test images, with their defect masks.

Metrics: image AUROC (score = the image's relative score, label = the image holds defect
pixels); pixel AUROC of each map inside the part (the phantom's ROI mask; the whole image for
blobs), anomalous images only. Writes bench/results/images-<set>.json.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
CACHE = ROOT / "bench" / ".cache" / "images"


def blob_image(rng: np.random.Generator, size: int = 128, spots: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A blob image (uint8, (y, x)) and its anomaly mask (bool, (y, x)); ``spots`` bright spots added."""
    field = gaussian_filter(rng.normal(size=(size, size)), sigma=rng.uniform(5.0, 9.0))
    field = (field - field.mean()) / (field.std() + 1e-9)
    image = 0.45 + 0.18 * np.tanh(1.5 * field)
    mask = np.zeros((size, size), bool)
    yy, xx = np.mgrid[:size, :size]
    for _ in range(spots):
        cy, cx = rng.uniform(10, size - 10, 2)
        radius = rng.uniform(1.5, 3.0)
        dist2 = (yy - cy) ** 2 + (xx - cx) ** 2
        image = image + rng.uniform(0.22, 0.35) * np.exp(-dist2 / (2 * (radius / 1.5) ** 2))
        mask |= dist2 <= radius ** 2
    image = gaussian_filter(image, 0.7) + rng.normal(0.0, 0.025, image.shape)
    return np.clip(image * 255, 0, 255).astype(np.uint8), mask


def make_blobs(out: Path, seed: int = 5000) -> None:
    """80 normal training images; 40 normal + 40 anomalous test images with masks."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    (out / "train").mkdir(parents=True)
    (out / "test").mkdir()
    labels = {}
    for k in range(80):
        Image.fromarray(blob_image(rng)[0]).save(out / "train" / f"blob_{k:03d}.png")
    for k in range(80):
        spots = 0 if k % 2 == 0 else int(rng.integers(1, 3))
        image, mask = blob_image(rng, spots=spots)
        name = f"test_{k:03d}.png"
        Image.fromarray(image).save(out / "test" / name)
        np.save(out / "test" / f"{name}.mask.npy", mask)
        np.save(out / "test" / f"{name}.roi.npy", np.ones_like(mask))
        labels[name] = bool(mask.any())
    (out / "labels.json").write_text(json.dumps(labels, indent=1))


def make_phantom_images(out: Path, part: str) -> None:
    """ROI slices of the cached phantom sets as independent 16-bit TIFF images (with masks and ROI masks)."""
    import tifffile
    from bench_detection import phantom_set

    from ctreview.io import open_volume
    from ctreview.roi import extract_roi

    (out / "train").mkdir(parents=True)
    (out / "test").mkdir()
    labels = {}
    for name, step in (("train", 2), ("dev", 1)):
        data = phantom_set(name, part)
        info = json.loads((data / "labels.json").read_text())
        for stem in sorted(info):
            volume = open_volume(data / f"{stem}.tif")
            roi = extract_roi(volume, part)
            masks = tifffile.imread(data / "masks" / f"{stem}_defects.tif") if info[stem]["defective"] else None
            for k in sorted(roi.slices)[::step]:
                image = np.asarray(volume.slice(k))
                if name == "train":
                    tifffile.imwrite(out / "train" / f"{stem}_{k:03d}.tif", image)
                    continue
                file = f"{stem}_{k:03d}.tif"
                tifffile.imwrite(out / "test" / file, image)
                mask = masks[k] > 0 if masks is not None else np.zeros(image.shape, bool)
                np.save(out / "test" / f"{file}.mask.npy", mask)
                np.save(out / "test" / f"{file}.roi.npy", roi.slices[k].mask(image.shape))
                labels[file] = bool(mask.any())
    (out / "labels.json").write_text(json.dumps(labels, indent=1))


def image_set(name: str) -> Path:
    out = CACHE / name
    if not (out / "labels.json").is_file():
        make_blobs(out) if name == "blobs" else make_phantom_images(out, name)
    return out


def train(data: Path, name: str, engine: str) -> tuple[Path, float]:
    """Train with ``ctreview train --images`` defaults (cached); return the folder and the seconds."""
    from ctreview.cli import main

    out = CACHE / "models" / f"{name}-{engine}"
    stamp = out / "train_seconds.txt"
    if not stamp.is_file():
        t = time.perf_counter()
        argv = ["train", "--images", str(data / "train"), "--out", str(out), "--device", "cpu", "--force"]
        if engine == "anogan":  # the AnoGAN trains on volumes only: the images as one stack, as before --images
            argv = ["train", str(data / "train"), "--engine", "anogan", "--profile", "whole-image", "--out", str(out),
                    "--device", "cpu", "--force"]
        if main(argv):
            raise SystemExit(f"training {engine} failed")
        stamp.write_text(f"{time.perf_counter() - t:.1f}\n")
    return out, float(stamp.read_text())


def evaluate(model_dir: Path, data: Path, labels: dict[str, bool]) -> tuple[dict[str, dict], float]:
    """Score the test images; per method (the product and each scorer alone) image and pixel AUROC."""
    from bench_detection import auroc

    from ctreview.io import open_images
    from ctreview.model import load_model
    from ctreview.results import SliceResult
    from ctreview.scoring import ScoringSettings, run_scoring

    names = sorted(labels)
    volume = open_images([data / "test" / n for n in names])
    model = load_model(model_dir, "cpu")
    t = time.perf_counter()
    results = {e.index: e for e in run_scoring(volume, model, ScoringSettings()) if isinstance(e, SliceResult)}
    seconds = time.perf_counter() - t
    tallies: dict[str, tuple[list, list, list, list]] = {}
    for k, name in enumerate(names):
        r = results.get(k)
        if r is None:
            continue
        mask = np.load(data / "test" / f"{name}.mask.npy")
        inside = np.load(data / "test" / f"{name}.roi.npy")
        h, w = mask.shape
        maps = {"product": (r.relative, r.heatmap)}
        maps.update({f"{s} alone": (float(m[:h, :w][inside].max(initial=0.0)), m) for s, m in r.maps.items()})
        for method, (score, heat) in maps.items():
            t4 = tallies.setdefault(method, ([], [], [], []))
            t4[0].append(score)
            t4[1].append(labels[name])
            if labels[name]:
                t4[2].append(heat[:h, :w][inside])
                t4[3].append(mask[inside])
    out = {}
    for method, (scores, labs, pix, pix_lab) in tallies.items():
        out[method] = {"image_auroc": auroc(scores, labs),
                       "pixel_auroc": auroc(np.concatenate(pix), np.concatenate(pix_lab)) if pix else float("nan"),
                       "images": len(scores), "anomalous": int(sum(labs))}
    return out, seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", default="blobs", choices=("blobs", "capacitor", "transformer"))
    parser.add_argument("--engines", default="fused,anogan")
    args = parser.parse_args()
    print(f"load {os.getloadavg()[0]:.1f}, torch threads {os.environ.get('CTREVIEW_THREADS', 'auto')}", flush=True)
    data = image_set(args.set)
    labels = json.loads((data / "labels.json").read_text())
    n_train = len(list((data / "train").iterdir()))
    rows, costs = {}, {}
    for engine in args.engines.split(","):
        model, train_s = train(data, args.set, engine)
        figures, score_s = evaluate(model, data, labels)
        prefix = "AnoGAN (previous default)" if engine == "anogan" else "fused (default)"
        for method, f in figures.items():
            rows[prefix if method == "product" else f"{prefix}: {method}"] = f
        costs[engine] = {"train_s": round(train_s, 1), "score_s": round(score_s, 1),
                         "score_ms_per_image": round(1000 * score_s / max(1, len(labels)), 1)}
    print(f"\n{args.set}: {n_train} normal training images, {len(labels)} test images "
          f"({sum(labels.values())} anomalous)")
    print("| method | image AUROC | pixel AUROC |\n|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['image_auroc']:.3f} | {r['pixel_auroc']:.3f} |")
    print("cost:", costs, f"load {os.getloadavg()[0]:.1f}", flush=True)
    (ROOT / "bench" / "results" / f"images-{args.set}.json").write_text(json.dumps(
        {"set": args.set, "train_images": n_train, "test_images": len(labels), "methods": rows, "cost": costs,
         "load": os.getloadavg()[0]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
