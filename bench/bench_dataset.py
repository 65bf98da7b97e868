"""Training-set speed: export, append (all duplicates), load, summarise, prune.

    .venv/bin/python bench/bench_dataset.py [--volumes 3] [--size 128] [--slices 64] [--tile 32]

Phantoms are registered in a fresh workspace and every slice is accepted
(no scoring run, so the export takes every slice with a ROI); the timings are
those of the dataset package itself plus the ROI search it runs per volume.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def prepare(root: Path, n: int, size: int, slices: int) -> tuple[Path, list[Path]]:
    from ctreview.io import open_volume
    from ctreview.phantom import write_phantom_set
    from ctreview.review import open_workspace

    paths = write_phantom_set(root / "vols", part="transformer", normal=n, defective=0, seed=0,
                              size=size, slices=slices)
    ws_path = root / "ws.sqlite"
    with open_workspace(ws_path) as ws:
        for p in paths:
            with open_volume(p) as vol:
                vid = ws.add_volume(vol)
                for z in range(len(vol)):
                    ws.decide(vid, z, "accept", reviewer="bench")
    return ws_path, paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", type=int, default=3)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--slices", type=int, default=64)
    parser.add_argument("--tile", type=int, default=32)
    args = parser.parse_args()
    from ctreview.dataset import export_training_set, load_training_tiles, prune, summarise
    from ctreview.review import open_workspace

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (ws_path, paths), t_prep = timed(prepare, root, args.volumes, args.size, args.slices)
        out = root / "set"
        with open_workspace(ws_path) as ws:
            first, t_export = timed(export_training_set, ws, paths, out, tile_size=args.tile,
                                    profile="whole-part")
            again, t_append = timed(export_training_set, ws, paths, out, tile_size=args.tile,
                                    profile="whole-part")
        tiles, t_load = timed(load_training_tiles, out)
        _, t_info = timed(summarise, out)
        drop = list(range(0, len(tiles), 10))
        removed, t_prune = timed(prune, out, tiles=drop)
        mb = tiles.nbytes / 1e6
        print(f"volumes: {args.volumes} x ({args.slices}, {args.size}, {args.size}) uint16, "
              f"tile {args.tile}; set-up (phantoms, workspace, decisions) {t_prep:.1f} s")
        print(f"export: {first.added} tiles from {sum(len(s.slices) for s in first.sources)} "
              f"slices in {t_export:.2f} s ({first.added / t_export:.0f} tiles/s, ROI search included)")
        print(f"append of the same volumes: {again.added} added, {again.duplicates} skipped "
              f"as duplicates in {t_append:.2f} s")
        print(f"load_training_tiles: {tiles.shape} {tiles.dtype} ({mb:.1f} MB) in {t_load * 1e3:.1f} ms "
              f"({mb / max(t_load, 1e-9):.0f} MB/s)")
        print(f"summarise: {t_info * 1e3:.1f} ms; prune {removed} tiles (every 10th): {t_prune * 1e3:.1f} ms")
        assert np.isfinite(tiles).all()


if __name__ == "__main__":
    main()
