"""On-disk cache of a run's heatmaps, so reopening a volume does not re-score.

Layout: ``<workspace>.heatmaps/<run_id>/<slice:06d>.npz``, one NumPy archive
per slice (and ``<run_id>/expected/<slice:06d>.npz`` for the slices the model
expected, stored alike). The heatmap is for display (ranking uses the stored scores), so it
is stored small: cropped to its non-zero box (it is zero outside the ROI) and
quantised to 8 bits between ``min(0, heatmap.min())`` and its maximum, which
keeps every value within 0.2 % of the slice's value span, and zero exact for
non-negative heatmaps (residual maps).
Measured on 512 x 512 slices this is 4x faster to write and half the size of
float16 (bench/results/review.md). Files are written to a temporary name and
renamed, so a killed process leaves the old file or the new one, never half
of one, and are read with ``allow_pickle=False``: the cache never runs code
from disk.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

LEVELS = 255


def cache_dir_for(workspace_path: Path) -> Path:
    """Return the heatmap folder that belongs to a workspace file."""
    return workspace_path.with_name(workspace_path.name + ".heatmaps")


def encode(heatmap: np.ndarray) -> dict[str, np.ndarray]:
    """Return the arrays stored for a (y, x) heatmap: ``q`` (uint8 crop), ``box``, ``range``."""
    heat = np.nan_to_num(np.asarray(heatmap, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    ys, xs = np.nonzero(heat)
    if ys.size == 0:
        box = np.array([0, 0, 0, 0, *heat.shape], np.int64)
        return {"q": np.zeros((0, 0), np.uint8), "box": box, "range": np.zeros(2, np.float64)}
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = heat[y0:y1, x0:x1]
    lo, hi = min(0.0, float(crop.min())), float(crop.max())
    span = hi - lo if hi > lo else 1.0
    q = np.rint((crop - lo) * (LEVELS / span)).astype(np.uint8)
    return {"q": q, "box": np.array([y0, x0, y1, x1, *heat.shape], np.int64),
            "range": np.array([lo, hi], np.float64)}


def decode(arrays: Mapping[str, np.ndarray]) -> np.ndarray:
    """Return the (y, x) float32 heatmap from :func:`encode`'s arrays."""
    y0, x0, y1, x1, ny, nx = (int(v) for v in arrays["box"])
    lo, hi = (float(v) for v in arrays["range"])
    q = arrays["q"]
    if q.dtype != np.uint8 or q.shape != (y1 - y0, x1 - x0) or not (0 <= y0 <= y1 <= ny and
                                                                 0 <= x0 <= x1 <= nx):
        raise ValueError("inconsistent heatmap archive")
    heat = np.zeros((ny, nx), np.float32)
    span = hi - lo if hi > lo else 1.0
    heat[y0:y1, x0:x1] = lo + q.astype(np.float32) * np.float32(span / LEVELS)
    return heat


class HeatmapStore:
    """Compressed per-slice heatmaps of every run of one workspace.

    Parameters
    ----------
    root : Path
        The cache folder (see :func:`cache_dir_for`); created on first write.
    kind : str
        ``""`` for the heatmaps; another name keeps other per-slice images of a
        run (``"expected"``) in a subfolder of the run's, so they go with it.
    """

    def __init__(self, root: Path, kind: str = "") -> None:
        self.root, self.kind = root, kind

    def _folder(self, run_id: int) -> Path:
        folder = self.root / str(int(run_id))
        return folder / self.kind if self.kind else folder

    def _file(self, run_id: int, index: int) -> Path:
        return self._folder(run_id) / f"{int(index):06d}.npz"

    def put(self, run_id: int, index: int, heatmap: np.ndarray) -> None:
        """Store the (y, x) heatmap of one slice, replacing an older one."""
        target = self._file(run_id, index)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=target.parent)
        try:
            # A plain .npz, but deflate level 1: level 6 costs 2-3x the time for ~1 % fewer bytes.
            with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(
                    fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
                for name, array in encode(heatmap).items():
                    with archive.open(f"{name}.npy", "w") as member:
                        np.lib.format.write_array(member, array, allow_pickle=False)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, run_id: int, index: int) -> np.ndarray | None:
        """Return the cached (y, x) float32 heatmap, or None when missing or unreadable."""
        path = self._file(run_id, index)
        try:
            # Opened here, not by np.load, so a damaged archive cannot leak the handle.
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as archive:
                return decode(archive)
        except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile):
            # A missing or damaged cache file only means: show no heatmap.
            return None

    def drop_run(self, run_id: int) -> None:
        """Delete every cached heatmap of one run (e.g. a reused run id)."""
        shutil.rmtree(self._folder(run_id), ignore_errors=True)

    def slices(self, run_id: int) -> list[int]:
        """Return the slice indices cached for a run, ascending."""
        folder = self._folder(run_id)
        if not folder.is_dir():
            return []
        return sorted(int(p.stem) for p in folder.glob("[0-9]*.npz"))
