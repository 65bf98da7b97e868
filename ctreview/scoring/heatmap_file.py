"""The run folder's heatmap: compact, compressed and never larger than the volume.

A heatmap is in relative units (1.0 = the calibrated threshold), non-negative,
zero outside the ROI and mostly small. It is stored as uint16 with a fixed
scale (``value = stored * SCALE``, so 1/4096 relative units apart, up to
:data:`TOP`), in a zlib-compressed, tiled TIFF whose description says so. While
a run streams, each slice is kept compressed in memory (a few kB, since most
of a slice is zero) so a later result for a slice can replace it; the file is
written at the end, page by page, so memory stays bounded whatever the volume.

:func:`open_heatmap` reads it back as float32 slabs (a float32 file of an
earlier ctreview reads as it is).
"""
from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

SCALE = 1.0 / 4096
"""Relative units per stored step."""
TOP = 65535 * SCALE
"""Largest value kept (about 16 thresholds); anything above is stored as this."""
FORMAT = "ctreview-heatmap"
TILE = 256


def encode(heat: np.ndarray) -> np.ndarray:
    """Quantise a ``(y, x)`` relative heatmap to uint16 steps of :data:`SCALE` (clipped at 0 and :data:`TOP`)."""
    values = np.nan_to_num(np.asarray(heat, np.float32), nan=0.0, posinf=TOP, neginf=0.0)
    return np.rint(np.clip(values, 0.0, TOP) / SCALE).astype(np.uint16)


def decode(stored: np.ndarray, scale: float = SCALE) -> np.ndarray:
    """The float32 heatmap of stored uint16 steps."""
    return stored.astype(np.float32) * np.float32(scale)


class HeatmapWriter:
    """Collect slice heatmaps of a ``(z, y, x)`` volume and write them as one compact TIFF.

    Parameters
    ----------
    path : Path
        The TIFF to write at :meth:`close`.
    shape : (z, y, x)
    """

    def __init__(self, path: Path, shape: tuple[int, int, int]) -> None:
        self.path, self.shape = Path(path), tuple(int(s) for s in shape)
        self._slices: dict[int, bytes] = {}

    def put(self, k: int, heat: np.ndarray) -> None:
        """Keep slice ``k``'s heatmap (a later call for ``k`` replaces it)."""
        self._slices[int(k)] = zlib.compress(encode(heat).tobytes(), 1)

    def slice(self, k: int) -> np.ndarray:
        """Slice ``k`` as float32 (zero when not scored)."""
        return decode(self._stored(k))

    def _stored(self, k: int) -> np.ndarray:
        data = self._slices.get(int(k))
        if data is None:
            return np.zeros(self.shape[1:], np.uint16)
        return np.frombuffer(zlib.decompress(data), np.uint16).reshape(self.shape[1:])

    def __getitem__(self, index: Any) -> np.ndarray:
        """A slab ``[z0:z1]`` (or one slice ``[k]``) as float32, for labelling defects at the end of a run."""
        if isinstance(index, slice):
            return np.stack([self.slice(k) for k in range(*index.indices(self.shape[0]))])
        return self.slice(int(index))

    @property
    def nbytes_held(self) -> int:
        """Compressed bytes held in memory."""
        return sum(len(b) for b in self._slices.values())

    def close(self) -> Path:
        """Write the TIFF (uint16, zlib, tiled), page by page, then forget the slices."""
        tmp = self.path.with_suffix(".tmp.tif")
        description = json.dumps({"format": FORMAT, "scale": SCALE, "units": "relative (1.0 = threshold)"})
        big = int(np.prod(self.shape)) * 2 > 2**31
        ny, nx = self.shape[1:]
        tile = (TILE, TILE) if ny >= TILE and nx >= TILE else None
        with tifffile.TiffWriter(tmp, bigtiff=big) as tif:
            for k in range(self.shape[0]):
                # level 1: the cell run (100 x 728 x 728) ended 3.4 s sooner than at level 6, its file 5 % larger
                tif.write(self._stored(k), compression="zlib", compressionargs={"level": 1}, tile=tile,
                          photometric="minisblack",
                          description=description if k == 0 else None, metadata=None)
        tmp.replace(self.path)
        self._slices.clear()
        return self.path


class HeatmapFile:
    """A run folder's heatmap read slab by slab as float32, ``(z, y, x)``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with tifffile.TiffFile(self.path) as tif:
            pages = tif.pages
            first = pages[0]
            self.shape = (len(pages), int(first.shape[0]), int(first.shape[1]))
            self.scale = _scale(first.description)
            self.dtype = np.dtype(first.dtype)

    def __getitem__(self, index: Any) -> np.ndarray:
        ks = range(*index.indices(self.shape[0])) if isinstance(index, slice) else [int(index)]
        with tifffile.TiffFile(self.path) as tif:
            planes = [tif.pages[k].asarray() for k in ks]
        out = np.stack(planes)
        out = decode(out, self.scale) if self.scale is not None else out.astype(np.float32)
        return out if isinstance(index, slice) else out[0]

    def read(self) -> np.ndarray:
        """The whole heatmap as float32 (for small volumes and tests)."""
        return self[0:self.shape[0]]


def _scale(description: str | None) -> float | None:
    try:
        info = json.loads(description or "")
    except ValueError:
        return None
    return float(info["scale"]) if isinstance(info, dict) and info.get("format") == FORMAT else None


def open_heatmap(path: str | Path) -> HeatmapFile:
    """Open a run folder's ``heatmap.tif`` (or ``heatmap-<scorer>.tif``) for reading."""
    return HeatmapFile(path)


def read_heatmap(path: str | Path) -> np.ndarray:
    """Read a whole heatmap file as float32 ``(z, y, x)`` in relative units."""
    return open_heatmap(path).read()
