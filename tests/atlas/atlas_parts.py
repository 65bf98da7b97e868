"""Small synthetic parts for the atlas tests: an oblong block with a hole and a stud, drawn at any pose."""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

SHAPE = (24, 56, 56)
CENTRE = (11.5, 27.5, 27.5)


def part_frame(shape, centre, angle_deg):
    """Part-frame coordinates (w, v, u) of every voxel: u along the major axis."""
    z, y, x = np.meshgrid(*(np.arange(n, dtype=np.float64) for n in shape), indexing="ij")
    a = np.deg2rad(angle_deg)
    dz, dy, dx = z - centre[0], y - centre[1], x - centre[2]
    return dz, -np.sin(a) * dx + np.cos(a) * dy, np.cos(a) * dx + np.sin(a) * dy


def draw_part(*, angle_deg=0.0, shift=(0.0, 0.0, 0.0), length=1.0, noise=0.01, seed=0, shape=SHAPE):
    """A part at ``angle_deg`` about z, its centre moved by ``shift`` (z, y, x) voxels; float32 (z, y, x).

    The block is 34 x 18 x 12 voxels (``length`` stretches its long side), with a round hole off centre
    and a dense stud at one end, so no turn or flip maps it onto itself.
    """
    centre = tuple(c + s for c, s in zip(CENTRE, shift))
    w, v, u = part_frame(shape, centre, angle_deg)
    block = (np.abs(u) < 17 * length) & (np.abs(v) < 9) & (np.abs(w) < 6)
    hole = (u - 6) ** 2 + (v - 2) ** 2 < 9
    stud = (np.abs(u + 12 * length) < 3) & (np.abs(v + 4) < 3) & (np.abs(w) < 6)
    values = np.where(block, 1.0, 0.1)
    values = np.where(block & hole, 0.3, values)
    values = np.where(stud, 1.6, values)
    smooth = gaussian_filter(values, 0.8)
    return (smooth + np.random.default_rng(seed).normal(0, noise, shape)).astype(np.float32)
