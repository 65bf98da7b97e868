"""Benchmark: first slice of a large TIFF (and a slice folder) with little memory.

Writes a 4 GiB uint16 multi-page TIFF (2048 x 1024 x 1024) to a temporary
folder under /tmp, drops it from the page cache, then in a fresh Python
process opens it with ``open_volume`` and reads slices, reporting the time
and the resident memory (VmRSS / peak VmHWM from /proc). Also measures a
zlib-compressed TIFF (read page by page) and a folder of 2D TIFF slices.
Everything written is deleted afterwards.

Run: ``.venv/bin/python bench/bench_io.py [--small]`` (``--small``: 1/8 size, for a quick check).
Target: first slice of the 4 GiB file in under 1 s with under 300 MB RSS.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import tifffile

from ctreview.io.tiff import tiff_write_options

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from ctreview.io import open_volume
t1 = time.perf_counter()
vol = open_volume(sys.argv[1])
t2 = time.perf_counter()
first = vol.slice(0)
t3 = time.perf_counter()
mid = vol.slice(len(vol) // 2); last = vol.slice(len(vol) - 1)
t4 = time.perf_counter()
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
mb = lambda key: int(status[key].split()[0]) / 1024
print(json.dumps({"shape": vol.shape, "mode": vol.metadata.get("read_mode", vol.format),
                  "import_s": t1 - t0, "open_s": t2 - t1, "first_slice_s": t3 - t2,
                  "open_plus_first_s": t3 - t1, "mid_and_last_s": t4 - t3,
                  "checksum": int(first.sum()) + int(mid.sum()) + int(last.sum()),
                  "rss_mb": mb("VmRSS"), "peak_rss_mb": mb("VmHWM")}))
"""


def _page(k: int, ny: int, nx: int) -> np.ndarray:
    """A cheap, slice-dependent uint16 pattern (compressible, not constant)."""
    y = np.arange(ny, dtype=np.uint16)[:, None]
    x = np.arange(nx, dtype=np.uint16)[None, :]
    return (y * 3 + x * 5 + np.uint16(k * 7)).astype(np.uint16)


def _drop_cache(path: Path) -> None:
    """Evict one file from the page cache so the read below is a cold read."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def write_stack(path: Path, shape: tuple[int, int, int], **extra) -> float:
    """Write a multi-page TIFF page by page (never holding it whole); return seconds."""
    nz, ny, nx = shape
    t = time.perf_counter()
    options = tiff_write_options(shape, np.uint16, (0.05, 0.05, 0.05)) if not extra else \
        dict(photometric="minisblack", bigtiff=True, **extra)
    with warnings.catch_warnings():  # ImageJ metadata in a BigTIFF, as write_tiff does
        warnings.filterwarnings("ignore", message=".*nonconformant BigTIFF ImageJ", category=UserWarning)
        tifffile.imwrite(path, (_page(k, ny, nx) for k in range(nz)), shape=shape, dtype=np.uint16, **options)
    return time.perf_counter() - t


def measure(path: Path, cold: bool = True) -> dict:
    """Open ``path`` and read slices in a fresh interpreter; return its figures."""
    files = [path] if path.is_file() else list(path.iterdir())
    if cold:
        for f in files:
            _drop_cache(f)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                          text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _show(name: str, size_bytes: int, figures: dict, cold: bool) -> None:
    print(f"{name:<34} {size_bytes / 2**30:5.2f} GiB {'cold' if cold else 'warm'}: "
          f"open {figures['open_s']:.3f} s, first slice {figures['first_slice_s']:.3f} s, "
          f"open+first {figures['open_plus_first_s']:.3f} s, middle+last {figures['mid_and_last_s']:.3f} s, "
          f"RSS {figures['rss_mb']:.0f} MB (peak {figures['peak_rss_mb']:.0f} MB), "
          f"import {figures['import_s']:.2f} s, mode {figures['mode']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="1/8 of the sizes, for a quick check")
    args = parser.parse_args()
    nz = 256 if args.small else 2048
    tmp = Path(tempfile.mkdtemp(prefix="ctreview-bench-io-", dir="/tmp"))
    try:
        big = tmp / "big.tif"
        secs = write_stack(big, (nz, 1024, 1024))
        print(f"wrote {big.name} {nz}x1024x1024 uint16 ({big.stat().st_size / 2**30:.2f} GiB) in {secs:.1f} s")
        for cold in (True, False):
            _show("uncompressed multi-page TIFF", big.stat().st_size, measure(big, cold), cold)
        big.unlink()

        packed = tmp / "zlib.tif"
        write_stack(packed, (nz // 4, 1024, 1024), compression="zlib", compressionargs={"level": 1})
        _show("zlib TIFF (read per page)", packed.stat().st_size, measure(packed), True)
        packed.unlink()

        folder = tmp / "slices"
        folder.mkdir()
        for k in range(nz):
            tifffile.imwrite(folder / f"im{k + 1}.tif", _page(k, 512, 512))
        disk = sum(f.stat().st_size for f in folder.iterdir())
        _show(f"folder of {nz} TIFF slices 512x512", disk, measure(folder), True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
