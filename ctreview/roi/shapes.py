"""Region shapes of one slice in pixel coordinates, and their masks."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ctreview.results import Box


def clip_box(box: Sequence[float], shape: Sequence[int]) -> Box | None:
    """Clip a (y0, x0, y1, x1) box to a slice shape; None when nothing is left."""
    y0, x0 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
    y1, x1 = min(shape[0], int(np.ceil(box[2]))), min(shape[1], int(np.ceil(box[3])))
    return (y0, x0, y1, x1) if y1 > y0 and x1 > x0 else None


def intersect(a: Box, b: Box) -> Box | None:
    """Intersection of two half-open boxes, or None."""
    box = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return box if box[2] > box[0] and box[3] > box[1] else None


def ring_shape(center: Sequence[float], inner: float, outer: float) -> dict:
    """A ring (annulus) about ``center`` (y, x) with radii in pixels."""
    return {"kind": "ring", "center": (float(center[0]), float(center[1])),
            "inner": float(inner), "outer": float(outer)}


def polygon_shape(corners: np.ndarray) -> dict:
    """A convex polygon with ``corners`` (n, 2) as (y, x)."""
    return {"kind": "polygon", "corners": np.asarray(corners, float)}


def mask_shape(box: Box, crop: np.ndarray) -> dict:
    """An explicit mask ``crop`` (y1-y0, x1-x0) placed at ``box``."""
    return {"kind": "mask", "box": box, "crop": crop}


def shape_bounds(shape: dict) -> tuple[float, float, float, float]:
    """Unclipped (y0, x0, y1, x1) bounds of a shape."""
    if shape["kind"] == "ring":
        (cy, cx), r = shape["center"], shape["outer"]
        return (cy - r, cx - r, cy + r + 1, cx + r + 1)
    if shape["kind"] == "polygon":
        c = shape["corners"]
        return (c[:, 0].min(), c[:, 1].min(), c[:, 0].max() + 1, c[:, 1].max() + 1)
    return shape["box"]


def render(shape: dict, box: Box, out: np.ndarray) -> None:
    """OR a shape, limited to ``box``, into the (y, x) bool mask ``out``."""
    y0, x0, y1, x1 = box
    if shape["kind"] == "mask":
        sy0, sx0, sy1, sx1 = shape["box"]
        inter = intersect(box, shape["box"])
        if inter is not None:
            a, b, c, d = inter
            out[a:c, b:d] |= shape["crop"][a - sy0:c - sy0, b - sx0:d - sx0]
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    if shape["kind"] == "ring":
        cy, cx = shape["center"]
        r2 = (yy - cy) ** 2 + (xx - cx) ** 2
        inside = (r2 >= shape["inner"] ** 2) & (r2 <= shape["outer"] ** 2)
    else:
        inside = _in_convex(shape["corners"], yy, xx)
    out[y0:y1, x0:x1] |= inside


def _in_convex(corners: np.ndarray, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """Pixels inside a convex polygon (corners in order), either winding."""
    sides = []
    n = len(corners)
    for i in range(n):
        (ay, ax), (by, bx) = corners[i], corners[(i + 1) % n]
        sides.append((bx - ax) * (yy - ay) - (by - ay) * (xx - ax))
    signs = np.stack(sides)
    return np.all(signs >= -1e-9, axis=0) | np.all(signs <= 1e-9, axis=0)
