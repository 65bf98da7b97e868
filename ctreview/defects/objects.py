"""A defect: one 3D object of the heatmap, with its box, position and size in voxels and mm."""
from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

CSV_COLUMNS = ("id", "z0", "z1", "y0", "y1", "x0", "x1", "centroid_z_mm", "centroid_y_mm", "centroid_x_mm",
               "voxels", "volume_mm3", "diameter_mm", "peak", "peak_slice", "rank", "mean",
               "centroid_z", "centroid_y", "centroid_x", "peak_y", "peak_x")
"""Columns of ``defects.csv``, in order."""


@dataclass(frozen=True)
class Defect:
    """One connected object of a relative heatmap (see :func:`~ctreview.defects.find_defects`).

    Attributes
    ----------
    id : int
        1, 2, ... in the order of the objects' first voxel along (z, y, x):
        stable whatever the list is sorted by.
    rank : int
        1 = highest peak (the worst defect).
    z0, z1, y0, y1, x0, x1 : int
        Half-open bounding box in voxels.
    centroid_z, centroid_y, centroid_x : float
        Centroid of the object's voxels, in voxel indices.
    centroid_z_mm, centroid_y_mm, centroid_x_mm : float
        The centroid in mm: ``origin + index * spacing`` per axis, as the
        window's cursor readout shows positions.
    voxels : int
    volume_mm3 : float
        ``voxels`` times the voxel volume.
    diameter_mm : float
        Diameter of the sphere of that volume.
    peak, mean : float
        Highest and mean relative score of its voxels (1.0 = the threshold).
    peak_slice, peak_y, peak_x : int
        Where the peak is.
    """

    id: int
    rank: int
    z0: int
    z1: int
    y0: int
    y1: int
    x0: int
    x1: int
    centroid_z: float
    centroid_y: float
    centroid_x: float
    centroid_z_mm: float
    centroid_y_mm: float
    centroid_x_mm: float
    voxels: int
    volume_mm3: float
    diameter_mm: float
    peak: float
    mean: float
    peak_slice: int
    peak_y: int
    peak_x: int

    @property
    def slices(self) -> range:
        """The slices the defect spans, ``z0`` to ``z1 - 1``."""
        return range(self.z0, self.z1)

    @property
    def box(self) -> tuple[int, int, int, int, int, int]:
        """``(z0, z1, y0, y1, x0, x1)``."""
        return (self.z0, self.z1, self.y0, self.y1, self.x0, self.x1)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (``summary.json``, the workspace, reports)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Defect:
        """Rebuild a defect from :meth:`to_dict` (unknown keys are ignored)."""
        out: dict[str, Any] = {}
        for spec in fields(cls):
            value = data[spec.name]
            out[spec.name] = int(value) if spec.type == "int" else float(value)
        return cls(**out)


def sphere_diameter(volume: float) -> float:
    """Diameter of the sphere of ``volume`` (any unit cubed -> the unit)."""
    return float((6.0 * max(volume, 0.0) / math.pi) ** (1.0 / 3.0))


def worst_first(defects: Iterable[Defect]) -> list[Defect]:
    """The defects by rank (highest peak first)."""
    return sorted(defects, key=lambda d: d.rank)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def write_defects_csv(path: str | Path, defects: Sequence[Defect]) -> Path:
    """Write ``defects`` worst first with :data:`CSV_COLUMNS` (a temporary name, then renamed)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for defect in worst_first(defects):
            row = defect.to_dict()
            writer.writerow([_cell(row[name]) for name in CSV_COLUMNS])
    os.replace(tmp, path)
    return path
