"""Old AnoGAN vs context-conditioned AnoGAN: reconstruction MSE on the same held-out normal tiles.

    CTREVIEW_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python bench/explore_cond_gan.py \\
        [--old-iters 300] [--new-iters 600] [--encoder-iters 300] [--out bench/results/cond-gan.json]

Training: the normal transformer phantoms of ``write_phantom_set(part="transformer",
normal=6, defective=0, seed=100)`` (default sizes), ROI tiles 64 px, stride 48,
context offsets -6, -3, 3, 6. Held out: 2 normal phantoms of seed 200. The old
model is :func:`ctreview.training.anogan.iter_fit_gan` with the default
:class:`TrainSettings` (DCGAN, tile 64, latent 100, width 32, batch 64) for
``--old-iters`` GAN and encoder iterations; the new one is
:func:`ctreview.training.cond_gan.train_cond_gan` for ``--new-iters`` GAN and
``--encoder-iters`` encoder iterations. Both reconstruct with z = E(x) (fast
mode, no search). MSE is in raw intensity units squared and as a share of the
held-out centre tiles' variance, so the two models' windows do not matter.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CTREVIEW_THREADS", "1")
DATA = Path(os.environ.get("CTREVIEW_PHANTOMS_COND", "/tmp/ctreview-cond-phantoms"))
OFFSETS = (-6, -3, 3, 6)


def stacks(folder: Path, seed: int, normal: int) -> np.ndarray:
    """Context stacks ``(n, 5, 64, 64)`` of every ROI tile of freshly simulated normal phantoms."""
    from ctreview.io import open_volume
    from ctreview.phantom import write_phantom_set
    from ctreview.roi import extract_roi
    from ctreview.training.context import concat_context, volume_context_tiles

    if not sorted(folder.glob("*.tif")):
        write_phantom_set(folder, part="transformer", normal=normal, defective=0, seed=seed)
    sets = []
    for g, path in enumerate(sorted(folder.glob("*.tif"))):
        vol = open_volume(path)
        roi = extract_roi(vol, "transformer", tile_size=64, stride=48)
        sets.append(volume_context_tiles(vol.read(), roi, OFFSETS, group=g))
    return concat_context(sets).tiles


def old_gan(train: np.ndarray, held: np.ndarray, iters: int) -> tuple[np.ndarray, float]:
    """Train the existing AnoGAN on centre tiles; return raw reconstructions of ``held`` and seconds."""
    import torch

    from ctreview.progress import drain
    from ctreview.training.anogan import iter_fit_gan
    from ctreview.training.settings import TrainSettings

    t0 = time.perf_counter()
    s = TrainSettings(epochs=1, encoder_epochs=1, min_iters_per_epoch=iters)
    with tempfile.TemporaryDirectory() as tmp:
        model = drain(iter_fit_gan(train[:, 0], s, profile="transformer", checkpoint=Path(tmp) / "ckpt.pt"))
    x = model.normalise(held[:, 0])
    with torch.inference_mode():
        g = model.generator(model.encoder(x))[:, 0].numpy()
    lo, hi = model.window
    return (g + 1) / 2 * (hi - lo) + lo, time.perf_counter() - t0


def new_gan(train: np.ndarray, held: np.ndarray, iters: int, enc_iters: int) -> tuple[np.ndarray, float, dict]:
    """Train the conditioned AnoGAN on context stacks; return raw reconstructions of ``held``, seconds, log."""
    from ctreview.training.cond_gan import CondGanSettings, GanWarning, train_cond_gan

    t0 = time.perf_counter()
    s = CondGanSettings(iterations=iters, encoder_iterations=enc_iters, eval_every=max(1, iters // 5))
    warns: list[str] = []
    gan = train_cond_gan(train, s, held_out=held[:64],
                         on_event=lambda e: warns.append(e.message) if isinstance(e, GanWarning) else None)
    _, g = gan.reconstruct(held)
    lo, hi = gan.window
    return (g + 1) / 2 * (hi - lo) + lo, time.perf_counter() - t0, {"history": gan.history, "warnings": warns}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--old-iters", type=int, default=300)
    ap.add_argument("--new-iters", type=int, default=600)
    ap.add_argument("--encoder-iters", type=int, default=300)
    ap.add_argument("--out", default=str(ROOT / "bench/results/cond-gan.json"))
    a = ap.parse_args()
    import torch

    torch.set_num_threads(int(os.environ["CTREVIEW_THREADS"]))
    train, held = stacks(DATA / "train", 100, 6), stacks(DATA / "held", 200, 2)
    x = held[:, 0]
    var = float(x.var())
    g_old, t_old = old_gan(train, held, a.old_iters)
    g_new, t_new, log = new_gan(train, held, a.new_iters, a.encoder_iters)
    res = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join(sys.argv),
        "load": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
        "train_tiles": int(len(train)), "held_tiles": int(len(held)), "offsets": list(OFFSETS),
        "old": {"iters": a.old_iters, "seconds": round(t_old, 1), "mse": float(np.mean((x - g_old) ** 2))},
        "new": {"iters": a.new_iters, "encoder_iters": a.encoder_iters, "seconds": round(t_new, 1),
                "mse": float(np.mean((x - g_new) ** 2)), **log},
        "held_variance": var,
    }
    for k in ("old", "new"):
        res[k]["mse_share_of_variance"] = res[k]["mse"] / var
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(json.dumps({k: v for k, v in res.items() if k != "new"}, indent=1))
    print("new:", {k: v for k, v in res["new"].items() if k != "history"})


if __name__ == "__main__":
    main()
