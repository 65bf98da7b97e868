"""Train the defect head on train-<part> phantoms and measure it on dev-<part> (never holdout).

    CTREVIEW_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python bench/explore_head.py --part transformer \\
        [--offsets=-6,-3,3,6 | --offsets none] [--extras none|anogan|cond:<dir>] [--iterations 600]
        [--seed 0] [--twin] [--json OUT.json]

Training tiles: the ROI tiles (tile 64, stride 48) of every train volume with
their context tiles. Evaluation: the head runs over each ROI slice's box
(plus a margin) of every dev volume; slice score = max logit inside the
ROI mask, label = the slice holds defect voxels, pooled over all dev
volumes; pixel AUROC inside the ROI masks of the defective volumes; per
defect kind, the share of normal slices scoring below the defect's best
slice. ``--twin`` adds the twin limit (max over the ROI of the sigma-1
smoothed |x - twin|; normal volumes, which have no twin, score 0 there, so
its slice AUROC is over the defective volumes' slices only).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CTREVIEW_THREADS", "1")
DATA = Path(os.environ.get("CTREVIEW_PHANTOMS", "/work/cache/phantoms"))


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    from scipy.stats import rankdata

    labels = np.asarray(labels, bool)
    pos, neg = labels.sum(), (~labels).sum()
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


def volumes(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.tif"))


def training_tiles(part: str, offsets: tuple[int, ...]):
    from ctreview.io import open_volume
    from ctreview.roi import extract_roi
    from ctreview.training.context import concat_context, volume_context_tiles

    sets = []
    for g, path in enumerate(volumes(DATA / f"train-{part}")):
        vol = open_volume(path)
        roi = extract_roi(vol, part, tile_size=64, stride=48)
        sets.append(volume_context_tiles(vol.read(), roi, offsets, group=g))
    return concat_context(sets)


def anogan_extra(model_dir: Path):
    """Extra maps (reconstruction G(E(x)), residual |x - G(E(x))|) of the bundled AnoGAN, any size."""
    import torch

    from ctreview.model import load_model

    model = load_model(model_dir, "cpu")
    model.freeze()

    def tiles64(stacks: np.ndarray) -> np.ndarray:
        x = model.normalise(stacks[:, 0])
        with torch.inference_mode():
            rec = model.generator(model.encoder(x))
        return torch.cat([rec, (x - rec).abs()], 1).numpy()

    return lambda stacks: tiled(tiles64, stacks, 64)


def tiled(fn, stacks: np.ndarray, T: int, stride: int = 32) -> np.ndarray:
    """Apply a fixed-size tile function ``(n, C, T, T) -> (n, E, T, T)`` to stacks of any size.

    Overlapping tiles are blended with a raised-cosine weight; inputs smaller
    than a tile are edge-padded.
    """
    n, C, H, W = stacks.shape
    if (H, W) == (T, T):
        return fn(stacks)
    ph, pw = max(0, T - H), max(0, T - W)
    padded = np.pad(stacks, ((0, 0), (0, 0), (0, ph), (0, pw)), mode="edge")
    Hp, Wp = padded.shape[-2:]
    ys = sorted({*range(0, Hp - T + 1, stride), Hp - T})
    xs = sorted({*range(0, Wp - T + 1, stride), Wp - T})
    w1 = np.sin(np.pi * (np.arange(T) + 0.5) / T) + 1e-3
    weight = np.outer(w1, w1).astype(np.float32)
    out, acc = None, np.zeros((Hp, Wp), np.float32)
    for y in ys:
        cut = np.stack([padded[:, :, y:y + T, x:x + T] for x in xs], 1).reshape(-1, C, T, T)
        maps = fn(cut).reshape(n, len(xs), -1, T, T)
        if out is None:
            out = np.zeros((n, maps.shape[2], Hp, Wp), np.float32)
        for j, x in enumerate(xs):
            out[:, :, y:y + T, x:x + T] += maps[:, j] * weight
            acc[y:y + T, x:x + T] += weight
    return (out / acc)[:, :, :H, :W]


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1


def evaluate(head, part: str, extra_fn, twin: bool) -> dict:
    """Slice and pixel scores of the head (and the twin limit) on every dev volume."""
    import tifffile
    from scipy import ndimage as ndi

    from ctreview.io import open_volume
    from ctreview.roi import extract_roi
    from ctreview.training.context import SliceReader, slice_stack

    data = DATA / f"dev-{part}"
    labels = json.loads((data / "labels.json").read_text())
    r = {"score": [], "twin": [], "label": [], "normal_vol": [], "pix": [], "pix_label": [], "defects": [],
         "seconds": 0.0, "slices": 0}
    for stem, info in sorted(labels.items()):
        vol = open_volume(data / f"{stem}.tif").read().astype(np.float32)
        roi = extract_roi(vol, part, tile_size=64, stride=48)
        keys = sorted(roi.slices)
        mask = tifffile.imread(data / "masks" / f"{stem}_defects.tif") if info["defective"] else None
        tw = tifffile.imread(data / info["twin"]).astype(np.float32) if twin and info.get("twin") else None
        best: dict[int, float] = {}
        reader = SliceReader(vol)
        for k in keys:
            m = roi.slices[k].mask(vol.shape[1:])
            t = time.perf_counter()
            logits = head.slice_logits(slice_stack(reader, k, keys, head.offsets), _box(m), extra_fn=extra_fn)
            r["seconds"] += time.perf_counter() - t
            r["slices"] += 1
            score = float(logits[m].max())
            r["score"].append(score)
            r["label"].append(int(info["slices"][k]))
            r["normal_vol"].append(not info["defective"])
            twin = float(ndi.gaussian_filter(np.abs(vol[k] - tw[k]), 1.0)[m].max()) if tw is not None else 0.0
            r["twin"].append(twin)
            if mask is not None:
                r["pix"].append(logits[m])
                r["pix_label"].append(mask[k][m] > 0)
                for d in np.unique(mask[k][m]):
                    if d:
                        best[int(d)] = max(best.get(int(d), -np.inf), score)
        for d, score in best.items():
            r["defects"].append((info["defects"][d - 1]["kind"], score))
    return r


def summarise(r: dict, twin: bool) -> dict:
    lab = np.array(r["label"], bool)
    score = np.array(r["score"])
    normal = score[~lab]
    out = {"slice_auroc": auroc(score, lab),
           "pixel_auroc": auroc(np.concatenate(r["pix"]), np.concatenate(r["pix_label"])),
           "slices": int(len(lab)), "defective_slices": int(lab.sum()),
           "ms_per_slice": 1000 * r["seconds"] / max(1, r["slices"])}
    kinds: dict[str, list[float]] = {}
    for kind, s in r["defects"]:
        kinds.setdefault(kind, []).append(float((normal < s).mean()))
    out["kinds"] = {k: (float(np.mean(v)), len(v)) for k, v in sorted(kinds.items())}
    if twin:
        dv = ~np.array(r["normal_vol"])
        out["twin_slice_auroc_defective_volumes"] = auroc(np.array(r["twin"])[dv], lab[dv])
        out["head_slice_auroc_defective_volumes"] = auroc(score[dv], lab[dv])
    return out


def _value(text: str):
    """A command-line value: JSON where it parses (numbers, lists, null), else the string."""
    try:
        v = json.loads(text)
    except ValueError:
        return text
    return tuple(v) if isinstance(v, list) else v


def main() -> int:
    import torch

    from ctreview.training.head_train import HeadTrainSettings, train_head
    from ctreview.training.synthetic import DefectSettings

    p = argparse.ArgumentParser()
    p.add_argument("--part", default="transformer")
    p.add_argument("--offsets", default="-6,-3,3,6")
    p.add_argument("--extras", default="none")
    p.add_argument("--iterations", type=int, default=600)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--twin", action="store_true")
    p.add_argument("--json", type=Path)
    p.add_argument("--set", action="append", default=[], help="HeadTrainSettings field=value")
    p.add_argument("--defect", action="append", default=[], help="DefectSettings field=value")
    a = p.parse_args()
    torch.set_num_threads(1)
    offsets = () if a.offsets in ("none", "") else tuple(int(v) for v in a.offsets.split(","))
    t = time.perf_counter()
    data = training_tiles(a.part, offsets)
    extra_fn, names = None, ()
    if a.extras == "anogan":
        extra_fn, names = anogan_extra(ROOT / "resources" / "models" / f"anogan-{a.part}"), ("recon", "residual")
    elif a.extras.startswith("cond:"):
        from explore_cond_gan import cond_extra  # noqa: E402  (bench sibling)

        extra_fn, names = cond_extra(Path(a.extras[5:]), offsets)
    print(f"{len(data)} training stacks {data.tiles.shape[1:]} in {time.perf_counter() - t:.0f} s", flush=True)
    s = HeadTrainSettings(iterations=a.iterations, batch_size=a.batch, seed=a.seed, flip=True,
                          eval_every=max(1, a.iterations // 4),
                          defects=DefectSettings(**{k: _value(v) for k, v in (o.split("=", 1) for o in a.defect)}),
                          **{k: _value(v) for k, v in (o.split("=", 1) for o in a.set)})
    gen = train_head(data, s, extra_fn=extra_fn, extras=names)
    while True:
        try:
            ev = next(gen)
        except StopIteration as stop:
            result = stop.value
            break
        if ev.heldout:
            print(f"  it {ev.iteration}/{ev.total} loss {ev.losses['loss']:.3f} {ev.heldout} {ev.seconds:.0f} s",
                  flush=True)
    r = evaluate(result.model, a.part, extra_fn, a.twin)
    out = {"part": a.part, "offsets": list(offsets), "extras": a.extras, "iterations": a.iterations,
           "batch": a.batch, "seed": a.seed, "set": a.set, "defect": a.defect,
           "train_seconds": round(result.seconds, 1),
           "heldout": result.heldout, **summarise(r, a.twin), "load": os.getloadavg()}
    print(json.dumps(out, indent=1))
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
