"""Deep-feature models of normality on the dev phantoms: PatchCore / PaDiM variants beside the twin limit.

    export CTREVIEW_THREADS=1 OMP_NUM_THREADS=1
    .venv/bin/python bench/explore_features.py --part transformer [--variants twin,8-x2-ps1,...]
        [--custom '[{"taps": ["_blocks.2"]}, {"zmedian": true}]'] [--root /work/cache/phantoms]
        [--backbone efficientnet-lite0 --weights PATH] [--seed 0]

Fits on ``ROOT/train-<part>`` (6 normal volumes: every ROI slice of the
``<part>`` profile, cropped to the volume's ROI box plus a margin) and
evaluates on ``ROOT/dev-<part>`` only; holdout sets are never read. Grey
values are windowed like the product (0.5 / 99.5 percentiles of the
training ROI pixels -> [0, 1], a quarter of headroom either side).

Per variant it prints one markdown row: slice AUROC (score: max of the
map inside the slice's ROI mask; label: the slice holds defect voxels)
over every ROI slice of the 12 dev volumes and over the 8 defective ones
(where the twin limit exists), pixel AUROC inside the ROI masks of the
defective volumes, fit seconds, scoring ms per slice, memory bytes. The
twin limit row is max of the Gaussian-smoothed (sigma 1) |x - twin|.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

MARGIN = 16
HEADROOM = 0.25
GREEDY10 = dict(coreset="greedy", coreset_ratio=0.1, scale=1.0, presmooth=0.0)  # every setting pinned
T8, T8_16, T4 = ("_blocks.4",), ("_blocks.4", "_blocks.10"), ("_blocks.2",)
BEST = dict(GREEDY10, taps=T8, scale=2.0, presmooth=1.0)  # the recommended volume default
RESNET_TAPS = {"_blocks.2": "layer1", "_blocks.4": "layer2", "_blocks.10": "layer3"}
Z3 = (0, -3, 3)
ROT4 = (-30.0, -15.0, 15.0, 30.0)
VARIANTS = {  # name -> (FeatureSettings overrides, options of this script)
    # taps and input scale, PatchCore's recipe as published
    "8+16": (dict(GREEDY10, taps=T8_16), {}),
    "8": (dict(GREEDY10, taps=T8), {}),
    "8+16-x2": (dict(GREEDY10, taps=T8_16, scale=2.0), {}),
    "8-x2": (dict(GREEDY10, taps=T8, scale=2.0), {}),
    "4": (dict(GREEDY10, taps=T4), {}),
    # denoising the input first (Gaussian sigma 1 px)
    "4-ps1": (dict(GREEDY10, taps=T4, presmooth=1.0), {}),
    "8-x2-ps1": (BEST, {}),
    "8-x2-ps1-seed1": (dict(BEST, seed=1), {}),
    "8-x2-ps1-imagenet-norm": (BEST, {"imagenet_norm": True}),
    # memory bank
    "8-x2-ps1-greedy1": (dict(BEST, coreset_ratio=0.01), {}),
    "8-x2-ps1-greedy25": (dict(BEST, coreset_ratio=0.25), {}),
    "8-x2-ps1-random10": (dict(BEST, coreset="random"), {}),
    # context along z
    "8-x2-ps1-zconcat": (BEST, {"views": Z3}),
    "8-x2-ps1-zcontrast": (dict(BEST, views="contrast"), {"views": Z3}),
    "8-x2-ps1-zpos": (dict(BEST, position_window=0.1), {}),
    "8-x2-ps1-zmedian": (BEST, {"zmedian": True}),
    # pose: whole slices; with copies of the normal slices turned by +-15 and +-30 degrees;
    # turned into the part's frame by the ROI pose (and a 180-degree copy: the axis has no sign)
    "4-ps1-whole": (dict(GREEDY10, taps=T4, presmooth=1.0), {"full": True}),
    "4-ps1-rot5": (dict(GREEDY10, taps=T4, presmooth=1.0, rotations=ROT4), {"full": True}),
    "8-x2-ps1-whole": (BEST, {"full": True}),
    "8-x2-ps1-rot5": (dict(BEST, rotations=ROT4, coreset_ratio=0.025), {"full": True}),  # bank ~ 8-x2-ps1
    "8-x2-ps1-align": (dict(BEST, rotations=(180.0,)), {"align": True}),
    # PaDiM: one Gaussian per grid position of whole slices
    "padim-8+16": (dict(method="padim", taps=T8_16, scale=1.0, presmooth=0.0), {"full": True}),
    "padim-8-x2-ps1": (dict(method="padim", taps=T8, scale=2.0, presmooth=1.0), {"full": True}),
    "padim-8-x2-ps1-align": (dict(method="padim", taps=T8, scale=2.0, presmooth=1.0, rotations=(180.0,)),
                             {"align": True}),
}


@dataclass
class Scan:
    """One phantom volume with what the benchmark needs of it."""

    stem: str
    volume: np.ndarray            # (z, y, x) uint16
    roi: object                   # RoiResult
    labels: np.ndarray            # (z,) 0/1
    defects: np.ndarray | None    # (z, y, x) uint8, defective volumes only
    twin: np.ndarray | None       # (z, y, x) uint16, defective volumes only

    def box(self, full: bool) -> tuple[int, int, int, int]:
        """Crop (y0, x0, y1, x1): the union of the ROI boxes plus MARGIN, or the whole slice."""
        shape = self.volume.shape[1:]
        if full:
            return 0, 0, shape[0], shape[1]
        boxes = np.array([b for s in self.roi.slices.values() for b in s.boxes])
        y0, x0 = np.maximum(boxes[:, :2].min(0) - MARGIN, 0)
        y1, x1 = np.minimum(boxes[:, 2:].max(0) + MARGIN, shape)
        return int(y0), int(x0), int(y1), int(x1)


def load_set(folder: Path, part: str) -> list[Scan]:
    import tifffile

    from ctreview.io import open_volume
    from ctreview.roi import extract_roi

    labels = json.loads((folder / "labels.json").read_text())
    scans = []
    for stem, info in sorted(labels.items()):
        volume = open_volume(folder / f"{stem}.tif")
        array = volume.read()
        defects = tifffile.imread(folder / "masks" / f"{stem}_defects.tif") if info["defective"] else None
        twin = tifffile.imread(folder / info["twin"]) if info.get("twin") else None
        scans.append(Scan(stem, array, extract_roi(volume, part), np.array(info["slices"]), defects, twin))
    return scans


def window_of(scans: list[Scan]) -> tuple[float, float]:
    """0.5 / 99.5 percentiles of the ROI pixels (every 4th slice), as the product's training does."""
    values = [s.volume[k][r.mask(s.volume.shape[1:])] for s in scans for k, r in s.roi.slices.items()
              if k % 4 == 0]
    lo, hi = np.percentile(np.concatenate(values), (0.5, 99.5))
    return float(lo), float(hi)


def turn(image: np.ndarray, center, angle_deg: float, *, order: int, back: bool = False) -> np.ndarray:
    """Resample a slice so the direction ``angle_deg`` (from +x towards +y) at ``center`` lies along +x
    through the slice centre; ``back`` undoes it (for maps)."""
    from scipy.ndimage import affine_transform

    a = np.radians(angle_deg)
    m = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    mid, c = (np.array(image.shape) - 1) / 2.0, np.asarray(center, float)
    if back:
        m, mid, c = m.T, c, mid
    return affine_transform(image, m, offset=c - m @ mid, order=order, mode="nearest")


def inputs(scan: Scan, window, options: dict):
    """Per ROI slice: image (views, h, w) float32, mask (h, w), position; plus the crop box and turn angles.

    With ``align`` each (whole) slice is turned into the part's frame: major axis along +x, centred.
    """
    lo, hi = window
    align = options.get("align", False)
    y0, x0, y1, x1 = scan.box(options.get("full", False) or align)
    z0, z1 = scan.roi.part_bbox[0], scan.roi.part_bbox[3]
    images, masks, positions, angles = [], [], [], []
    for k, sroi in scan.roi.slices.items():
        ks = [min(max(k + d, 0), len(scan.volume) - 1) for d in options.get("views", (0,))]
        grey = np.clip((scan.volume[ks, y0:y1, x0:x1].astype(np.float32) - lo) / (hi - lo),
                       -HEADROOM, 1 + HEADROOM)
        mask = sroi.mask(scan.volume.shape[1:])[y0:y1, x0:x1]
        if align:
            angle = scan.roi.angle_deg
            grey = np.stack([turn(g, scan.roi.center, angle, order=1) for g in grey])
            mask = turn(mask.astype(np.uint8), scan.roi.center, angle, order=0) > 0
        images.append(grey)
        masks.append(mask)
        positions.append((k - z0 + 0.5) / max(1, z1 - z0))
        angles.append(scan.roi.angle_deg if align else None)
    return images, masks, positions, (y0, x0, y1, x1), angles


def auroc(scores, labels) -> float:
    from bench_detection import auroc as rank_auroc

    return rank_auroc(np.asarray(scores, float), np.asarray(labels, bool))


def metrics(dev: list[Scan], maps: dict[str, dict[int, np.ndarray]]) -> dict:
    """Slice AUROC (all dev ROI slices; defective volumes only) and pixel AUROC (defective volumes)."""
    rows = {"all": ([], []), "defective": ([], [])}
    pix, pix_label = [], []
    for scan in dev:
        for k, sroi in scan.roi.slices.items():
            mask = sroi.mask(scan.volume.shape[1:])
            score, label = float(maps[scan.stem][k][mask].max()), int(scan.labels[k])
            for key in ("all", "defective") if scan.defects is not None else ("all",):
                rows[key][0].append(score)
                rows[key][1].append(label)
            if scan.defects is not None:
                pix.append(maps[scan.stem][k][mask])
                pix_label.append(scan.defects[k][mask] > 0)
    out = {f"slice_{key}": auroc(*rows[key]) for key in rows}
    out["pixel"] = auroc(np.concatenate(pix), np.concatenate(pix_label))
    out["slices"] = len(rows["all"][0])
    return out


def twin_maps(dev: list[Scan], window) -> dict:
    from scipy.ndimage import gaussian_filter

    lo, hi = window
    out = {}
    for scan in dev:
        if scan.twin is not None:
            diff = np.abs(scan.volume.astype(np.float32) - scan.twin) / (hi - lo)
            out[scan.stem] = {k: gaussian_filter(diff[k], 1.0) for k in scan.roi.slices}
    return out


def zmedian(per_slice: dict[int, np.ndarray], scan: Scan) -> dict[int, np.ndarray]:
    """Each slice's map minus the per-pixel median of the maps of ROI slices 3-6 away (format 1's z-contrast)."""
    ks = sorted(per_slice)
    shape = scan.volume.shape[1:]
    out = {}
    for k in ks:
        near = [per_slice[j] for j in ks if 3 <= abs(j - k) <= 6]
        m = per_slice[k] - (np.median(np.stack(near), axis=0) if near else 0.0)
        out[k] = np.where(scan.roi.slices[k].mask(shape), np.maximum(m, 0.0), 0.0).astype(np.float32)
    return out


def run_variant(name: str, train, dev, window, args) -> dict:
    import torch

    from ctreview.model.features import FeatureSettings, build_feature_model
    from ctreview.model.nets.backbone import IMAGENET_MEAN, IMAGENET_STD, load_backbone

    overrides, options = VARIANTS[name] if name in VARIANTS else json.loads(name)
    overrides = {"backbone": args.backbone, "weights": args.weights, "seed": args.seed, **overrides}
    if args.backbone != "efficientnet-lite0" and overrides.get("taps"):  # the same strides on a ResNet
        overrides["taps"] = tuple(RESNET_TAPS[t] for t in overrides["taps"])
    settings = FeatureSettings(**overrides)
    backbone = load_backbone(settings.backbone, weights=settings.weights, taps=settings.taps)
    if options.get("imagenet_norm"):
        backbone.mean.copy_(torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        backbone.std.copy_(torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
    model = build_feature_model(settings, backbone=backbone)
    fit = [inputs(scan, window, options) for scan in train]
    model.fit([i for f in fit for i in f[0]], [m for f in fit for m in f[1]], [p for f in fit for p in f[2]])
    maps, seconds, count = {}, 0.0, 0
    for scan in dev:
        images, masks, positions, (y0, x0, y1, x1), angles = inputs(scan, window, options)
        t = time.perf_counter()
        result = model.score(images, masks, positions)
        seconds += time.perf_counter() - t
        count += len(images)
        per_slice = {}
        for k, crop, angle in zip(scan.roi.slices, result.maps, angles):
            if angle is not None:
                crop = turn(crop, scan.roi.center, angle, order=1, back=True)
            full = np.zeros(scan.volume.shape[1:], np.float32)
            full[y0:y1, x0:x1] = crop
            per_slice[k] = full
        maps[scan.stem] = zmedian(per_slice, scan) if options.get("zmedian") else per_slice
    out = metrics(dev, maps)
    out.update(fit_s=model.fit_seconds, ms_per_slice=1000 * seconds / count, bytes=model.nbytes)
    return out


def load_avg() -> str:
    out = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    return out.split("load average:")[-1].strip()


def main() -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="transformer", choices=("transformer", "capacitor"))
    parser.add_argument("--root", type=Path, default=Path("/work/cache/phantoms"))
    parser.add_argument("--variants", default="twin,8-x2-ps1",
                        help="comma-separated names: twin, " + ", ".join(VARIANTS))
    parser.add_argument("--custom", action="append", default=[], metavar="JSON",
                        help='an ad hoc variant: \'[{FeatureSettings fields}, {options}]\' (repeatable)')
    parser.add_argument("--backbone", default="efficientnet-lite0")
    parser.add_argument("--weights", default=None, help="local weights file for --backbone")
    parser.add_argument("--seed", type=int, default=0, help="seeds the coreset and projections")
    args = parser.parse_args()
    torch.set_num_threads(1)
    names = [n for n in args.variants.split(",") if n] + args.custom
    unknown = [n for n in names if n != "twin" and n not in VARIANTS and not n.startswith("[")]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: twin, {', '.join(VARIANTS)}")
    train = load_set(args.root / f"train-{args.part}", args.part)
    dev = load_set(args.root / f"dev-{args.part}", args.part)
    window = window_of(train)
    print(f"{args.part}: train {len(train)} volumes, dev {len(dev)}, window {window[0]:.0f}..{window[1]:.0f}, "
          f"load {load_avg()}", flush=True)
    print("| part | variant | slice AUROC (12 vols) | slice AUROC (8 defective) | pixel AUROC | fit s "
          "| score ms/slice | memory bytes | load |\n|---|---|---|---|---|---|---|---|---|", flush=True)
    for name in names:
        if name == "twin":
            r = metrics([s for s in dev if s.twin is not None], twin_maps(dev, window))
            r.update(slice_all=float("nan"), fit_s=0.0, ms_per_slice=0.0, bytes=0)
        else:
            r = run_variant(name, train, dev, window, args)
        print(f"| {args.part} | {name} | {r['slice_all']:.3f} | {r['slice_defective']:.3f} | {r['pixel']:.3f} "
              f"| {r['fit_s']:.1f} | {r['ms_per_slice']:.1f} | {r['bytes']:,} | {load_avg().split(',')[0]} |",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
