"""The part's footprint per slice: where the part is, or should be, in every slice.

A per-slice material mask leaves out exactly the defects that are absences:
a missing solder ball, a pad turned to air, copper eaten away at an edge.
The footprint of a slice is the convex hull of the part's cross-sections
over the slices around it (by default over its whole height: an absent
ball at the corner of an array is only enclosed by the substrate under it),
so an absence inside or at the rim of the part is scored like the material
around it. The model's tiles still follow the material (see ``extract``).
"""
from __future__ import annotations

import numpy as np
from skimage.morphology import convex_hull_image


def footprint_planes(mask: np.ndarray, *, reach: float | None = None) -> np.ndarray:
    """Return the footprint of every plane of a coarse part mask.

    Parameters
    ----------
    mask : ndarray of bool, shape (z, y, x)
        The part on the coarse grid (see :class:`~ctreview.roi.segment.Segmentation`).
    reach : float, optional
        Join the planes ``k - r .. k + r`` with ``r = max(1, round(reach * part height))``;
        None joins the part's whole height (one footprint for all its planes).

    Returns
    -------
    ndarray of bool, shape (z, y, x)
        Each plane's footprint: the convex hull of the joined cross-sections;
        empty where the plane itself holds no part (the part's extent along z is kept).
    """
    mask = np.asarray(mask, bool)
    present = np.flatnonzero(mask.any(axis=(1, 2)))
    out = np.zeros_like(mask)
    if present.size == 0:
        return out
    if reach is None:
        joined = mask.any(axis=0)
        out[present] = convex_hull_image(joined) | joined
        return out
    r = max(1, int(round(reach * (present[-1] - present[0] + 1))))
    for k in present:
        joined = mask[max(0, k - r):k + r + 1].any(axis=0)
        out[k] = convex_hull_image(joined) | joined
    return out
