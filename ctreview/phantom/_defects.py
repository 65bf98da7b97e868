"""Planting small defects with per-voxel ground truth.

Each defect is a small region (a few to a few tens of pixels across, a few
slices deep) whose material changes: voids, cracks and missing material
become air, inclusions tungsten, stray solder balls and bridges add metal.
A defect is always placed in or on the part, so it lies inside the ROI.
"""
from __future__ import annotations

import numpy as np

from ctreview.phantom._materials import AIR, ALU, BOARD, COPPER, FERRITE, FOIL, PAPER, SOLDER, TUNGSTEN

# kind -> (materials the centre is drawn from, materials the defect may replace, new material)
KINDS = {
    "transformer": {
        "void": ((FERRITE, SOLDER), (FERRITE, SOLDER), AIR),
        "crack": ((FERRITE,), (FERRITE,), AIR),
        "inclusion": ((FERRITE, BOARD), (FERRITE, BOARD), TUNGSTEN),
        "missing": ((COPPER, SOLDER), (COPPER, SOLDER), AIR),
        "bridged": ((COPPER,), (AIR,), COPPER),
        "solder_ball": ((BOARD,), (AIR,), SOLDER),
    },
    "capacitor": {
        "void": ((PAPER, FOIL), (PAPER, FOIL), AIR),
        "crack": ((ALU,), (ALU,), AIR),
        "inclusion": ((PAPER, FOIL), (PAPER, FOIL), TUNGSTEN),
        "missing": ((FOIL,), (FOIL, PAPER), AIR),
        "bridged": ((FOIL,), (PAPER,), ALU),
    },
}


def _region(kind: str, center: np.ndarray, radius: float, shape, rng) -> tuple[tuple[slice, ...], np.ndarray]:
    """Return the bounding slices of a defect and its boolean shape inside them."""
    reach = int(np.ceil(radius)) + 1
    lo = np.maximum(center.astype(int) - reach, 0)
    hi = np.minimum(center.astype(int) + reach + 1, shape)
    box = tuple(slice(a, b) for a, b in zip(lo, hi))
    z, y, x = np.ogrid[box]
    d = (z - center[0], y - center[1], x - center[2])
    if kind == "crack":
        # a thin slab: ~1.5 voxels thick, ``radius`` long, at most 3 slices deep
        a = rng.uniform(0, np.pi)
        normal = np.cos(a) * d[2] + np.sin(a) * d[1]
        along = -np.sin(a) * d[2] + np.cos(a) * d[1]
        shape_ = (abs(normal) <= 0.8) & (abs(along) <= radius) & (abs(d[0]) <= 1.5)
    else:
        flat = 0.7 if kind in ("bridged", "missing") else 1.0
        shape_ = (d[0] / (flat * radius)) ** 2 + (d[1] / radius) ** 2 + (d[2] / radius) ** 2 <= 1
    return box, shape_


def _center(kind: str, labels: np.ndarray, sources, rng) -> np.ndarray | None:
    """Draw a defect centre on a voxel of the source materials, away from the stack ends."""
    candidates = np.flatnonzero(np.isin(labels[2:-2], sources))
    if candidates.size == 0:
        return None
    z, y, x = np.unravel_index(rng.choice(candidates), labels[2:-2].shape)
    center = np.array([z + 2, y, x], float)
    if kind == "solder_ball":  # sit on the board, not inside it
        center[0] += 2
    return center


def plant_defects(labels: np.ndarray, part: str, rng: np.random.Generator,
                  count: int) -> tuple[np.ndarray, list[dict]]:
    """Plant ``count`` defects into a label volume, in place.

    Parameters
    ----------
    labels : ndarray of uint8, shape (z, y, x)
        Material ids; changed in place.
    part : str
        ``"transformer"`` or ``"capacitor"``.
    rng : numpy.random.Generator
    count : int
        Number of defects wanted.

    Returns
    -------
    defect_mask : ndarray of uint8, shape (z, y, x)
        0 = none, k = the k-th defect (1-based).
    defects : list of dict
        ``{"kind", "center": [z, y, x], "radius", "voxels", "material"}`` per defect.
    """
    size = labels.shape[1]
    mask = np.zeros(labels.shape, np.uint8)
    defects: list[dict] = []
    kinds = list(KINDS[part])
    for _ in range(50 * count):
        if len(defects) == count:
            break
        kind = kinds[rng.integers(len(kinds))]
        sources, replaces, new = KINDS[part][kind]
        center = _center(kind, labels, sources, rng)
        if center is None:
            continue
        radius = rng.uniform(0.02, 0.05) * size if kind == "crack" else rng.uniform(1.5, 3.0) * max(1.0, size / 128)
        box, shape_ = _region(kind, center, radius, labels.shape, rng)
        hit = shape_ & np.isin(labels[box], replaces) & (mask[box] == 0)
        if hit.sum() < 4:
            continue
        labels[box][hit] = new
        mask[box][hit] = len(defects) + 1
        defects.append({"kind": kind, "center": [round(float(c), 1) for c in center],
                        "radius": round(float(radius), 2), "voxels": int(hit.sum()),
                        "material": int(new)})
    return mask, defects
