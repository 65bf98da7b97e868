"""Analytic geometry of the simulated parts, voxelised in a random pose.

Each part is described in its own frame (u, v, w): u is the long in-plane
axis, w points up the slice stack. :class:`Pose` maps voxel centres (z, y, x)
into that frame: an in-plane rotation by ``angle_deg`` (from +x towards +y)
followed by a small tilt about the part's u axis.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ctreview.phantom._materials import ALU, BOARD, COPPER, FERRITE, FOIL, PAPER, PLASTIC, RUBBER, SOLDER


@dataclass
class Pose:
    """Where a part sits in the volume.

    Attributes
    ----------
    center : tuple of float
        Part centre (z, y, x) in voxels.
    angle_deg : float
        In-plane rotation of the part's u axis, from +x towards +y.
    tilt_deg : float
        Rotation about the part's u axis (out of the slice plane).
    length : float
        In-plane size unit L in pixels.
    height : float
        Part height H in slices.
    """

    center: tuple[float, float, float]
    angle_deg: float
    tilt_deg: float
    length: float
    height: float


def random_pose(rng: np.random.Generator, size: int, slices: int) -> Pose:
    """Draw a random pose that keeps part and fixture inside the scan circle."""
    length = rng.uniform(0.62, 0.72) * size
    height = rng.uniform(0.62, 0.70) * slices
    cy, cx = (size - 1) / 2 + rng.uniform(-0.04, 0.04, size=2) * size
    # the fixture sits below the part, so the part centre is a little above the middle
    cz = (slices - 1) / 2 + 0.06 * slices + rng.uniform(-0.03, 0.03) * slices
    return Pose((cz, cy, cx), rng.uniform(-30, 30), rng.uniform(-3, 3), length, height)


def part_frame(pose: Pose, shape: tuple[int, int, int]) -> tuple[np.ndarray, ...]:
    """Return the part-frame coordinates (u, v, w) of every voxel, each shaped (z, y, x)."""
    z, y, x = np.ogrid[:shape[0], :shape[1], :shape[2]]
    dz = (z - pose.center[0]).astype(np.float32)
    dy = (y - pose.center[1]).astype(np.float32)
    dx = (x - pose.center[2]).astype(np.float32)
    a, t = np.deg2rad(pose.angle_deg), np.deg2rad(pose.tilt_deg)
    u = np.cos(a) * dx + np.sin(a) * dy
    v0 = -np.sin(a) * dx + np.cos(a) * dy
    v = np.cos(t) * v0 - np.sin(t) * dz
    w = np.sin(t) * v0 + np.cos(t) * dz
    return (np.broadcast_to(u, shape), np.broadcast_to(v, shape), np.broadcast_to(w, shape))


def _paint(labels: np.ndarray, region: np.ndarray, material: int) -> None:
    labels[region] = material


def build_transformer(pose: Pose, shape: tuple[int, int, int]) -> np.ndarray:
    """Voxelise a toroidal current-sense transformer on a small board, on a plastic holder.

    Returns
    -------
    ndarray of uint8, shape (z, y, x)
        Material ids.
    """
    u, v, w = part_frame(pose, shape)
    L, H = pose.length, pose.height
    labels = np.zeros(shape, np.uint8)
    wb0 = -0.5 * H
    tb = max(2.0, 0.08 * H)
    tf = max(2.0, 0.10 * H)
    _paint(labels, (abs(u) <= 0.47 * L) & (abs(v) <= 0.36 * L) & (w >= wb0 - tf) & (w < wb0), PLASTIC)
    _paint(labels, (abs(u) <= 0.42 * L) & (abs(v) <= 0.30 * L) & (w >= wb0) & (w < wb0 + tb), BOARD)
    r = np.hypot(u, v)
    d = max(1.5, 0.025 * L)
    wt0, wt1 = wb0 + tb + d, 0.5 * H - d  # the wound toroid rests on the board
    ri, ro = 0.11 * L, 0.26 * L
    core = (r >= ri) & (r <= ro) & (w >= wt0) & (w <= wt1)
    loop = (r >= ri - d) & (r <= ro + d) & (w >= wt0 - d) & (w <= wt1 + d) & ~core
    turns = [(phi, d) for phi in np.linspace(np.deg2rad(20), np.deg2rad(160), 12)]
    turns += [(phi, 1.6 * d) for phi in np.linspace(np.deg2rad(230), np.deg2rad(310), 3)]
    wire = np.zeros(shape, bool)
    for phi, thick in turns:
        wire |= (abs(-np.sin(phi) * u + np.cos(phi) * v) <= thick / 2) & (np.cos(phi) * u + np.sin(phi) * v > 0)
    _paint(labels, core, FERRITE)
    _paint(labels, loop & wire, COPPER)
    _paint_pins(labels, u, v, w, pose, wb0, tb)
    return labels


def _paint_pins(labels, u, v, w, pose: Pose, wb0: float, tb: float) -> None:
    """Four copper pins through the board, each with a solder joint on top."""
    L, H = pose.length, pose.height
    rp = max(1.2, 0.018 * L)
    rs, hs = 2.5 * rp, max(1.5, 0.07 * H)
    for pu in (-0.34 * L, 0.34 * L):
        for pv in (-0.22 * L, 0.22 * L):
            rr = np.hypot(u - pu, v - pv)
            joint = (rr / rs) ** 2 + ((w - (wb0 + tb)) / hs) ** 2 <= 1
            _paint(labels, joint & (w >= wb0 + tb - 0.5), SOLDER)
            _paint(labels, (rr <= rp) & (w >= wb0 - 0.12 * H) & (w <= wb0 + tb + 0.08 * H), COPPER)


def build_capacitor(pose: Pose, shape: tuple[int, int, int]) -> np.ndarray:
    """Voxelise a radial electrolytic capacitor (wound foil in an aluminium can) on a plastic holder.

    Returns
    -------
    ndarray of uint8, shape (z, y, x)
        Material ids.
    """
    u, v, w = part_frame(pose, shape)
    L, H = pose.length, pose.height
    labels = np.zeros(shape, np.uint8)
    rc, tw = 0.30 * L, max(1.3, 0.02 * L)
    wc0, wc1 = -0.5 * H + 0.15 * H, 0.5 * H
    tt, hb, tf = max(1.0, 0.03 * H), 0.10 * H, max(2.0, 0.10 * H)
    r = np.hypot(u, v)
    _paint(labels, (abs(u) <= 1.25 * rc) & (abs(v) <= 1.25 * rc) & (w >= wc0 - tf) & (w < wc0), PLASTIC)
    inside = (w >= wc0) & (w <= wc1)
    _paint(labels, inside & (r <= rc) & ((r >= rc - tw) | (w >= wc1 - tt)), ALU)
    _paint(labels, inside & (r < rc - tw) & (w < wc0 + hb), RUBBER)
    roll = (r < rc - tw - 1) & (w >= wc0 + hb + 1) & (w < wc1 - tt - 1)
    pitch = max(2.5, 0.035 * L)
    # an Archimedean spiral: the radius grows by one pitch per turn
    phase = np.mod(r - np.arctan2(v, u) / (2 * np.pi) * pitch, pitch)
    _paint(labels, roll, PAPER)
    _paint(labels, roll & (phase < 0.4 * pitch) & (r > 1.5), FOIL)
    rl = max(1.2, 0.015 * L)
    for lu in (-0.4 * rc, 0.4 * rc):
        lead = (np.hypot(u - lu, v) <= rl) & (w >= wc0 - 0.15 * H) & (w < wc0 + hb + 1)
        _paint(labels, lead, COPPER)
    return labels


BUILDERS = {"transformer": build_transformer, "capacitor": build_capacitor}
