"""How a fused model's scorers are put on one scale: calibration variants measured on the dev set.

    .venv/bin/python bench/explore_fusion.py --part transformer [--model DIR]

Scores a trained fused model's raw (unscaled) maps once, on the normal slices it held out for
calibration (named in its model.json) and on the dev set, caches them under
bench/.cache/fusion/, and then re-calibrates offline: per-scorer scale (the 1 % cut-off as the
product does, or a robust affine scale from the median and the 90 % quantile), height curves on or
off, fusion by max or mean. Prints slice and pixel AUROC of each variant beside each scorer alone.
Only dev is read: the holdout set never is.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def raw_pass(model_dir: Path, part: str, cache: Path) -> dict:
    """Raw slice maxima (+ heights) on the calibration slices and dev slices; ROI pixels of defective ones."""
    if cache.is_file():
        return dict(np.load(cache, allow_pickle=False))
    import tifffile
    from bench_detection import phantom_set

    from ctreview.io import open_volume
    from ctreview.model import load_model
    from ctreview.roi import extract_roi
    from ctreview.scoring.inputs import SliceInputs

    det = load_model(model_dir, "cpu")
    meta = json.loads((model_dir / "model.json").read_text())
    dev = phantom_set("dev", part)
    labels = json.loads((dev / "labels.json").read_text())
    jobs = [(Path(c["source"]), "cal", None) for c in meta["data"]["calibration"]]
    jobs += [(dev / f"{stem}.tif", stem, info) for stem, info in sorted(labels.items())]
    out: dict[str, list] = {}
    for path, role, info in jobs:
        volume = open_volume(path)
        roi = extract_roi(volume, det.profile, tile_size=det.tile_size)
        masks = tifffile.imread(dev / "masks" / f"{role}_defects.tif") if info and info["defective"] else None
        build = SliceInputs(volume, roi, det.offsets)
        keys = sorted(roi.slices)
        for start in range(0, len(keys), 8):
            inputs = [build(k) for k in keys[start:start + 8]]
            raw = det.raw_maps(inputs)
            for i, inp in enumerate(inputs):
                group = "cal" if role == "cal" else "dev"
                out.setdefault(f"{group}_pos", []).append(inp.position)
                out.setdefault(f"{group}_label", []).append(0 if info is None else int(info["slices"][inp.index]))
                out.setdefault(f"{group}_defvol", []).append(bool(info and info["defective"]))
                for name, maps in raw.items():
                    out.setdefault(f"{group}_max_{name}", []).append(float(maps[i][inp.mask].max(initial=0.0)))
                if role != "cal":
                    y0, x0, y1, x1 = inp.box
                    truth = masks[inp.index][y0:y1, x0:x1][inp.mask] > 0 if masks is not None else \
                        np.zeros(int(inp.mask.sum()), bool)
                    out.setdefault("pix_label", []).append(truth)
                    out.setdefault("pix_defvol", []).append(np.full(truth.size, masks is not None))
                    out.setdefault("pix_slice", []).append(np.full(truth.size, len(out["dev_pos"]) - 1))
                    for name, maps in raw.items():
                        out.setdefault(f"pix_{name}", []).append(maps[i][inp.mask].astype(np.float32))
        print(f"{path.name}: {len(keys)} slices", flush=True)
    arrays = {k: (np.concatenate(v) if k.startswith("pix_") else np.asarray(v)) for k, v in out.items()}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **arrays)
    return arrays


def variants(d: dict, names: list[str]) -> dict[str, dict]:
    """Every calibration variant's slice and pixel AUROC on dev."""
    from bench_detection import auroc

    from ctreview.model.detector import Fusion
    from ctreview.training.fusion_calibration import cutoff, height_curves

    cal_pos, dev_pos = d["cal_pos"], d["dev_pos"]
    cal = {n: d[f"cal_max_{n}"] for n in names}
    curves = height_curves({n: list(v) for n, v in cal.items()}, list(cal_pos))
    probe = Fusion(curves=curves)

    def level(n, pos, use):
        return np.array([probe.level(n, p) for p in pos]) if use else np.ones(len(pos))

    rows = {}
    pix_slice, on_def = d["pix_slice"], d["pix_defvol"]
    starts = np.r_[0, np.flatnonzero(np.diff(pix_slice)) + 1]   # pixels are stored slice after slice

    def slice_max(pixels):
        return np.maximum.reduceat(pixels, starts)
    for use_curves in (False, True):
        for scale_kind in ("cutoff", "robust"):
            params = {}
            for n in names:
                v = cal[n] / level(n, cal_pos, use_curves)
                if scale_kind == "cutoff":
                    params[n] = (0.0, cutoff(list(v), 0.01))
                else:
                    m, q = float(np.median(v)), float(np.quantile(v, 0.9))
                    params[n] = (m, max(q - m, 1e-9))
            dev_lv = {n: level(n, dev_pos, use_curves) for n in names}
            slice_scaled = {n: (d[f"dev_max_{n}"] / dev_lv[n] - params[n][0]) / params[n][1] for n in names}
            pix_scaled = {n: (d[f"pix_{n}"] / dev_lv[n][pix_slice] - params[n][0]) / params[n][1] for n in names}
            if scale_kind == "cutoff":
                for n in names:
                    rows[f"{n} alone, curves={use_curves}"] = (auroc(slice_scaled[n], d["dev_label"]),
                                                               auroc(pix_scaled[n][on_def], d["pix_label"][on_def]))
            for rule in ("max", "mean"):
                stack_p = np.stack([pix_scaled[n] for n in names])
                p_score = stack_p.max(0) if rule == "max" else stack_p.mean(0)
                s_score = slice_max(p_score)
                rows[f"{rule}, {scale_kind} scale, curves={use_curves}"] = (
                    auroc(s_score, d["dev_label"]), auroc(p_score[on_def], d["pix_label"][on_def]))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", default="transformer")
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    model = args.model or ROOT / "bench" / ".cache" / "models" / f"fused-{args.part}"
    cache = ROOT / "bench" / ".cache" / "fusion" / f"{model.name}.npz"
    d = raw_pass(model, args.part, cache)
    names = sorted(k[len("cal_max_"):] for k in d if k.startswith("cal_max_"))
    print(f"\n{args.part}, model {model}: {len(d['cal_pos'])} calibration slices, {len(d['dev_pos'])} dev slices")
    print("| variant | slice AUROC | pixel AUROC |\n|---|---|---|")
    for name, (s, p) in variants(d, names).items():
        print(f"| {name} | {s:.3f} | {p:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
