"""Speed of the AnoGAN engine: the seeds' latent search vs batched, fast, hybrid.

    .venv/bin/python bench/bench_model.py [--model resources/models/anogan-transformer]

Prints tiles/s of: the seeds' way (one tile at a time, 500 Adam steps, weights
not frozen, f(x) recomputed every step), the batched search (500 steps, no
early stop, then with early stop), ``fast`` (encoder), and the default
``hybrid`` mode end to end on a 64-slice 128x128 phantom (ROI + scoring +
writing the run folder). Beside them, the arithmetic floor: FLOPs per tile
over the FLOP/s of a timed large matmul.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def matmul_flops(n: int = 1024, reps: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - t)


def seeds_way(model, x: torch.Tensor, steps: int, lam: float = 0.1) -> float:
    """One tile at a time, torch Adam on z, weights with grad, f(x) every step; seconds per tile."""
    G, D = model.generator, model.discriminator
    for p in list(G.parameters()) + list(D.parameters()):
        p.requires_grad_(True)
    t = time.perf_counter()
    for i in range(x.shape[0]):
        z = torch.randn(1, model.latent_dim, requires_grad=True)
        opt = torch.optim.Adam([z], lr=0.02)
        for _ in range(steps):
            opt.zero_grad()
            g = G(z)
            loss = (1 - lam) * (x[i:i + 1] - g).abs().sum() + lam * (D.features(x[i:i + 1]) - D.features(g)).abs().sum()
            loss.backward()
            opt.step()
    model.freeze()
    return (time.perf_counter() - t) / x.shape[0]


def tiles_of(volume_path: Path, model) -> np.ndarray:
    from ctreview.io import open_volume
    from ctreview.training.data import volume_tiles

    tiles, _ = volume_tiles(open_volume(volume_path), model.profile, model.tile_size)
    return tiles


def main() -> int:
    from ctreview.model import load_model
    from ctreview.model.nets.dcgan import count_flops
    from ctreview.phantom import write_phantom_set

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=ROOT / "resources" / "models" / "anogan-transformer")
    parser.add_argument("--ref-tiles", type=int, default=2)
    parser.add_argument("--batch-tiles", type=int, default=32)
    args = parser.parse_args()
    model = load_model(args.model, "cpu")
    print(f"torch threads {torch.get_num_threads()}, CTREVIEW_THREADS={os.environ.get('CTREVIEW_THREADS')}, "
          f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    flops = count_flops(model.config)
    peak = matmul_flops()
    step_flops = 3 * (flops["generator"] + flops["discriminator"])
    fast_flops = flops["encoder"] + flops["generator"] + 2 * flops["discriminator"]
    print(f"model {args.model.name}: tile {model.tile_size}, width {model.config.width}, latent {model.latent_dim}; "
          f"GFLOP/tile forward G {flops['generator'] / 1e9:.4f}, D {flops['discriminator'] / 1e9:.4f}, "
          f"E {flops['encoder'] / 1e9:.4f}")
    print(f"measured matmul: {peak / 1e9:.1f} GFLOP/s")
    print(f"floor: fast {peak / fast_flops:.0f} tiles/s; one search step {step_flops / 1e9:.4f} GFLOP/tile "
          f"-> 500 steps {peak / (500 * step_flops):.2f} tiles/s")

    tmp = Path(tempfile.mkdtemp(prefix="ctreview-bench-"))
    [vol_path] = write_phantom_set(tmp, part="transformer", normal=1, defective=0, seed=4242)
    tiles = tiles_of(vol_path, model)
    x = model.normalise(tiles)
    print(f"phantom: {len(tiles)} ROI tiles")

    ref = seeds_way(model, x[: args.ref_tiles], 500)
    print(f"seeds' way (1 tile at a time, 500 steps): {ref:.2f} s/tile = {1 / ref:.3f} tiles/s")
    batch = tiles[: args.batch_tiles]
    if len(batch) < args.batch_tiles:
        batch = np.concatenate([batch] * (args.batch_tiles // len(batch) + 1))[: args.batch_tiles]
    from ctreview.model import search

    xb = model.normalise(batch)
    z0 = torch.randn(len(batch), model.latent_dim, generator=torch.Generator().manual_seed(0))
    t = time.perf_counter()
    search.latent_search(model.generator, model.discriminator, xb, z0, steps=500, patience=10 ** 9)
    per = (time.perf_counter() - t) / len(batch)
    print(f"anogan batched ({len(batch)} tiles, 500 steps, no early stop): {per:.3f} s/tile = {1 / per:.2f} tiles/s "
          f"({ref / per:.1f}x the seeds' way)")
    t = time.perf_counter()
    _, _, ran = search.latent_search(model.generator, model.discriminator, xb, z0, steps=500)
    per_es = (time.perf_counter() - t) / len(batch)
    print(f"anogan batched with early stop: {per_es:.3f} s/tile = {1 / per_es:.2f} tiles/s (longest tile {ran} steps)")
    many = np.concatenate([tiles] * (512 // len(tiles) + 1))[:512]
    model.score_tiles(many[:64], "fast")
    t = time.perf_counter()
    model.score_tiles(many, "fast")
    fast = len(many) / (time.perf_counter() - t)
    print(f"fast ({len(many)} tiles): {fast:.0f} tiles/s")
    end_to_end(model, vol_path)
    return 0


def end_to_end(model, vol_path: Path) -> None:
    from ctreview.io import open_volume
    from ctreview.progress import drain
    from ctreview.roi import extract_roi
    from ctreview.scoring import ScoringSettings, run_scoring

    t = time.perf_counter()
    volume = open_volume(vol_path)
    roi = extract_roi(volume, model.profile, tile_size=model.tile_size)
    t_roi = time.perf_counter() - t
    run = Path(tempfile.mkdtemp()) / "run"
    summary = drain(run_scoring(volume, model, ScoringSettings(mode="hybrid"), roi=roi, out=run))
    total = time.perf_counter() - t
    print(f"hybrid end to end, {volume.shape} volume: {total:.1f} s (open+ROI {t_roi:.1f} s, "
          f"timings {summary.to_dict()['timings']}, {summary.counts.tiles} tiles, "
          f"{summary.counts.refined_slices} slices refined)")


if __name__ == "__main__":
    raise SystemExit(main())
