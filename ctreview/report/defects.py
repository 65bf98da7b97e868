"""The defects of a report: the run's 3D defect objects with their decisions, a CSV of them, and
crops of each flagged defect in the three planes.

A run's defects are those the scoring service stored in the workspace; a
run without them (scored by an older ctreview) gets no defect section.
A defect's decision is the one made on it, one carried from the same object
in another run of the volume, or that of all its slices when they agree
(:func:`ctreview.defects.defect_verdict`); ``decision_from`` says which.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw

from ctreview.defects import Defect, carried_verdicts, defect_verdict
from ctreview.report._output import atomic_output
from ctreview.report.images import overlay

if TYPE_CHECKING:
    from ctreview.io import VolumeLike
    from ctreview.review import Workspace

DEFECT_COLUMNS = ("id", "rank", "z0", "z1", "centroid_z_mm", "centroid_y_mm", "centroid_x_mm", "voxels",
                  "volume_mm3", "diameter_mm", "peak", "peak_slice", "decision", "decision_from")
"""Columns of the defects CSV (``<report>_defects.csv``) and keys of the JSON's ``defects``."""

BOX_COLOUR = (255, 230, 0)
CROP_PX = 200  # longer side of each plane's picture


def collect_defects(workspace: Workspace, run_id: int, decisions: dict[int, dict]) -> list[dict] | None:
    """The run's defects by rank, each as a dict with its ``decision`` and ``decision_from``; None if the run
    has none stored."""
    found = workspace.run_defects(run_id) if hasattr(workspace, "run_defects") else None
    if found is None:
        return None
    carried = carried_verdicts(found, decisions, run_id, workspace.run_defects)
    verdicts = [defect_verdict(d, decisions, run_id=run_id, carried=carried) for d in found]
    return [{**d.to_dict(), "decision": v.status, "decision_from": v.origin} for d, v in zip(found, verdicts)]


def flagged_defects(defects: Sequence[dict] | None) -> list[dict]:
    return [d for d in defects or [] if d["decision"] == "flag"]


def defects_csv_path(csv_path: str | Path) -> Path:
    """Where the defects table goes beside the slice table: ``report.csv`` -> ``report_defects.csv``."""
    path = Path(csv_path)
    return path.with_name(f"{path.stem}_defects{path.suffix or '.csv'}")


def write_defects_csv(defects: Sequence[dict], path: str | Path) -> None:
    """One row per defect, worst first, with :data:`DEFECT_COLUMNS`."""
    with atomic_output(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(DEFECT_COLUMNS)
            for d in defects:
                writer.writerow([f"{d[c]:.6g}" if isinstance(d[c], float) else d[c] for c in DEFECT_COLUMNS])


def defect_planes(source: VolumeLike, heat: Callable[[int], np.ndarray | None], defect: dict[str, Any],
                  spacing: Sequence[float]) -> dict[str, bytes]:
    """PNG crops of a defect in the axial, XZ and YZ planes through its peak, heatmap in red.

    Parameters
    ----------
    source : Volume
        Read only in the defect's z range (plus a margin).
    heat : callable(int) -> ndarray (y, x) or None
        The run's heatmap of a slice.
    defect : dict
        A :meth:`Defect.to_dict` (with ``z0`` ... ``x1``, ``peak_slice``, ``peak_y``, ``peak_x``).
    spacing : (z, y, x) in mm
        Pictures keep the voxels' proportions.
    """
    d = Defect.from_dict(defect)
    nz, ny, nx = source.shape
    (za, zb), (ya, yb), (xa, xb) = (_around(lo, hi, n) for lo, hi, n in
                                    ((d.z0, d.z1, nz), (d.y0, d.y1, ny), (d.x0, d.x1, nx)))
    block = source.read(za, zb)
    heat_block = np.zeros(block.shape, np.float32)
    for k in range(za, zb):
        h = heat(k)
        if h is not None and h.shape == block.shape[1:]:
            heat_block[k - za] = h
    sz, sy, sx = (float(s) for s in spacing)
    k, py, px = d.peak_slice - za, d.peak_y, d.peak_x
    planes = {
        "axial": (block[k, ya:yb, xa:xb], heat_block[k, ya:yb, xa:xb], sy / sx,
                  (d.y0 - ya, d.x0 - xa, d.y1 - ya, d.x1 - xa)),
        "xz": (block[:, py, xa:xb], heat_block[:, py, xa:xb], sz / sx,
               (d.z0 - za, d.x0 - xa, d.z1 - za, d.x1 - xa)),
        "yz": (block[:, ya:yb, px], heat_block[:, ya:yb, px], sz / sy,
               (d.z0 - za, d.y0 - ya, d.z1 - za, d.y1 - ya)),
    }
    return {name: _png(image, h, aspect, box) for name, (image, h, aspect, box) in planes.items()}


def _around(lo: int, hi: int, n: int) -> tuple[int, int]:
    """The range ``lo:hi`` widened by half its size (at least 6 voxels) each side, within ``0:n``."""
    margin = max(6, (hi - lo) // 2)
    return max(0, lo - margin), min(n, hi + margin)


def _png(image: np.ndarray, heat: np.ndarray, aspect: float, box: tuple[int, int, int, int]) -> bytes:
    """A crop as PNG: rows stretched by ``aspect`` (row mm / column mm), the defect's box in yellow."""
    rgb = overlay(image, heat)
    rows, cols = rgb.shape[:2]
    height, width = rows * aspect, float(cols)
    scale = CROP_PX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    picture = Image.fromarray(rgb, "RGB").resize(size, Image.Resampling.NEAREST)
    fy, fx = size[1] / rows, size[0] / cols
    r0, c0, r1, c1 = box
    ImageDraw.Draw(picture).rectangle([c0 * fx - 1, r0 * fy - 1, c1 * fx, r1 * fy], outline=BOX_COLOUR, width=1)
    out = io.BytesIO()
    picture.save(out, format="PNG", compress_level=1)
    return out.getvalue()
