"""Benchmark of the review store and reports.

Measures: the latency of one durable decision, storing scoring results with
their compressed heatmaps, reading a heatmap back, reopening a big workspace
(integrity check included) and writing a report with flagged slices.

Run: ``.venv/bin/python bench/bench_review.py [--slices 1000] [--size 512]``
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from ctreview.io import Volume
from ctreview.report import write_report
from ctreview.results import SliceResult
from ctreview.review import Workspace


def _results(n: int, size: int, seed: int = 0) -> list[SliceResult]:
    rng = np.random.default_rng(seed)
    box = (size // 8, size // 8, size - size // 8, size - size // 8)
    out = []
    for k in range(n):
        heat = np.zeros((size, size), np.float32)
        y0, x0, y1, x1 = box
        heat[y0:y1, x0:x1] = rng.gamma(2.0, 0.05, (y1 - y0, x1 - x0))
        score = float(heat.max())
        out.append(SliceResult(k, score, score / 0.5, (y0, x0, y0 + 64, x0 + 64), [box], heat))
    return out


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _codec_compare(results: list[SliceResult], folder: Path) -> None:
    """Time float16 ``np.savez_compressed`` against the cache's 8-bit cropped archive."""
    from ctreview.review.heatmap_store import HeatmapStore

    sample = results[:50]
    cache = HeatmapStore(folder / "codec")
    t_f16 = _timed(lambda: [np.savez_compressed(folder / f"f16_{r.index}.npz",
                                                heatmap=r.heatmap.astype(np.float16))
                            for r in sample])
    t_u8 = _timed(lambda: [cache.put(0, r.index, r.heatmap) for r in sample])
    f16 = sum((folder / f"f16_{r.index}.npz").stat().st_size for r in sample) / len(sample)
    u8 = sum(p.stat().st_size for p in (folder / "codec" / "0").glob("*.npz")) / len(sample)
    print(f"heatmap codec, {len(sample)} slices: float16 savez_compressed "
          f"{1000 * t_f16 / len(sample):.1f} ms/slice {f16 / 1024:.0f} KiB; 8-bit crop (used) "
          f"{1000 * t_u8 / len(sample):.1f} ms/slice {u8 / 1024:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slices", type=int, default=1000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--decisions", type=int, default=300)
    args = parser.parse_args()
    n, size = args.slices, args.size
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "ws.sqlite"
        rng = np.random.default_rng(1)
        volume = Volume.from_array(rng.integers(0, 4000, (n, size, size), dtype=np.uint16))
        results = _results(n, size)
        _codec_compare(results, Path(tmp))
        ws = Workspace(db)
        volume_id = ws.add_volume(volume)
        run_id = ws.start_run(volume_id, None, "fast", {}, "cpu")
        t_add = _timed(lambda: ws.add_results(run_id, results))
        ws.finish_run(run_id, {"threshold": 0.5})
        print(f"add_results: {n} slices of {size}x{size} with heatmaps: {t_add:.2f} s "
              f"({1000 * t_add / n:.1f} ms/slice)")
        cache = sum(p.stat().st_size for p in ws.heatmaps.root.rglob("*.npz"))
        print(f"heatmap cache: {cache / 2**20:.1f} MiB ({cache / n / 1024:.0f} KiB/slice, "
              f"raw float32 {size * size * 4 / 1024:.0f} KiB)")
        reads = [_timed(lambda k=k: ws.heatmap(run_id, k)) for k in range(0, n, max(1, n // 100))]
        print(f"heatmap read: median {1000 * statistics.median(reads):.2f} ms")
        lat = [_timed(lambda i=i: ws.decide(volume_id, i % n, "flag" if i % 7 == 0 else "accept",
                                            reviewer="bench")) for i in range(args.decisions)]
        print(f"decide (synchronous=FULL, one transaction): median {1000 * statistics.median(lat):.2f} ms, "
              f"max {1000 * max(lat):.2f} ms over {len(lat)}")
        t_scores = _timed(lambda: ws.run_scores(run_id))
        print(f"run_scores of {n} slices: {1000 * t_scores:.1f} ms")
        ws.close()
        t_open = _timed(lambda: Workspace(db).close())
        print(f"reopen workspace ({db.stat().st_size / 2**20:.1f} MiB, quick_check): {1000 * t_open:.1f} ms")
        ws = Workspace(db)
        flagged = len(ws.decisions(volume_id)) and sum(
            1 for d in ws.decisions(volume_id).values() if d["status"] == "flag")
        t_rep = _timed(lambda: write_report(ws, volume_id, pdf=Path(tmp) / "r.pdf",
                                            csv=Path(tmp) / "r.csv", volume=volume))
        pdf_size = (Path(tmp) / "r.pdf").stat().st_size
        print(f"report: {flagged} flagged slices, PDF {pdf_size / 2**20:.1f} MiB + CSV: {t_rep:.2f} s")
        ws.close()


if __name__ == "__main__":
    main()
