"""Part segmentation: separate the part from air, holders and CT artefacts.

The volume is reduced by block means to at most ~128 voxels a side (which
also averages the noise away), thresholded at a level between air and the
part's material, cleaned up, and the largest connected component is kept
and hole-filled. The level sits at :data:`LEVEL` of the way from air to the
typical material grey value, so thin low-density holders (plastic plates,
foam) that touch the part fall below it.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu

from ctreview.errors import CtreviewError
from ctreview.io import VolumeLike, as_volume

log = logging.getLogger(__name__)

LEVEL = 0.36
"""Where the part threshold lies between the air and the material grey level."""
COARSE_SIZE = 128
"""The coarse grid is at most about this many voxels along its longest axis."""
SECOND_PART = 0.2
"""A second component at least this fraction of the largest counts as another part."""


@dataclass
class Segmentation:
    """The part on a coarse grid.

    Attributes
    ----------
    mask : ndarray of bool, shape (zc, yc, xc)
        The part (largest component, holes filled) on the coarse grid.
    factor : int
        Coarse voxel = ``factor`` full-resolution voxels along each axis.
    shape : tuple of int
        Full-resolution volume shape (z, y, x).
    threshold : float
        Grey value separating the part from air and holders.
    air, material : float
        Typical grey value of air and of the part's material.
    warnings : list of str
    """

    mask: np.ndarray
    factor: int
    shape: tuple[int, int, int]
    threshold: float
    air: float
    material: float
    warnings: list[str] = field(default_factory=list)


def volume_array_blocks(volume: VolumeLike, step: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(z0, block)`` of up to ``step`` slices, blocks shaped (z, y, x)."""
    n = volume.shape[0]
    for z0 in range(0, n, step):
        z1 = min(n, z0 + step)
        yield z0, volume.read(z0, z1)


def coarse_volume(volume: VolumeLike, factor: int) -> np.ndarray:
    """Block-mean a volume by ``factor`` along every axis.

    Parameters
    ----------
    volume : VolumeLike, shape (z, y, x)
    factor : int

    Returns
    -------
    ndarray of float32, shape (ceil(z/f), ceil(y/f), ceil(x/f))
    """
    nz, ny, nx = volume.shape
    cy, cx = -(-ny // factor), -(-nx // factor)
    out = np.empty((-(-nz // factor), cy, cx), np.float32)
    pad = ((0, cy * factor - ny), (0, cx * factor - nx))
    for z0, block in volume_array_blocks(volume, factor):
        if block.dtype.kind == "f":
            block = np.nan_to_num(block, nan=0.0, posinf=0.0, neginf=0.0)
        # integer sums are exact and faster than float means on big volumes
        acc = np.uint32 if block.dtype.kind in "ub" and block.dtype.itemsize <= 2 else np.float64
        plane = block.sum(axis=0, dtype=acc) / np.float32(block.shape[0])
        if pad[0][1] or pad[1][1]:  # edge padding keeps border blocks honest
            plane = np.pad(plane, pad, mode="edge")
        out[z0 // factor] = plane.reshape(cy, factor, cx, factor).mean(axis=(1, 3), dtype=np.float32)
    return out


def _levels(coarse: np.ndarray, path) -> tuple[float, float, float]:
    """Return (air level, material level, noise) from the coarse grey values."""
    sample = coarse.ravel()
    if sample.size > 2_000_000:
        sample = sample[:: sample.size // 2_000_000]
    lo, hi = float(sample.min()), float(sample.max())
    if hi - lo <= 1e-6 * max(1.0, abs(hi)):
        raise CtreviewError(path, "the volume is constant: there is no part to find")
    t = threshold_otsu(sample)
    below, above = sample[sample <= t], sample[sample > t]
    air, material = float(np.median(below)), float(np.median(above))
    noise = 1.4826 * float(np.median(np.abs(below - air)))
    return air, material, noise


def segment_part(volume: VolumeLike | np.ndarray, *, path: str | Path | None = None) -> Segmentation:
    """Find the part in a volume.

    Parameters
    ----------
    volume : Volume or ndarray, shape (z, y, x)
        Any grey dtype (uint8, uint16, float); brighter = denser.
    path : str, optional
        Named in errors.

    Returns
    -------
    Segmentation

    Raises
    ------
    CtreviewError
        For a constant volume or one with no material above the air noise.
    """
    volume = as_volume(volume)
    nz, ny, nx = (int(s) for s in volume.shape)
    shape = (nz, ny, nx)
    factor = max(1, int(np.ceil(max(shape) / COARSE_SIZE)))
    coarse = coarse_volume(volume, factor)
    air, material, noise = _levels(coarse, path)
    if LEVEL * (material - air) < 5 * noise:
        # noisy for its contrast (block means did not average enough): an
        # edge-preserving median first; clean scans skip it, as it rounds corners
        coarse = ndi.median_filter(coarse, size=(1, 3, 3))
        air, material, noise = _levels(coarse, path)
    if material - air < 6 * noise or (noise == 0 and material - air <= 0):
        raise CtreviewError(path, "no part found: nothing stands out from the background as a part "
                                  "(a scan of air, or images with no air around the part: for those use "
                                  "--profile whole-image, which scores the whole image)")
    threshold = air + LEVEL * (material - air)
    mask, notes = _keep_part(_drop_specks(coarse > threshold), path)
    if factor == 1:
        mask = trim_partial_layers(mask, coarse, air)
    notes += _border_note(mask)
    for note in notes:
        log.warning("%s", note)
    return Segmentation(mask, factor, shape, float(threshold), air, material, notes)


def trim_partial_layers(mask: np.ndarray, grey: np.ndarray, air: float, *, layers: int = 2) -> np.ndarray:
    """Peel outermost mask layers that are only partial-volume voxels (ISO-50).

    A global threshold low enough to keep a part's faintest material also
    keeps the half-filled boundary voxels of its densest one. A face of the
    mask's bounding box whose voxels are less than half as bright (above
    air) as the voxels just inside them is such a layer and is dropped, like
    industrial CT's ISO-50 surface determination.

    Parameters
    ----------
    mask : ndarray of bool, shape (z, y, x)
    grey : ndarray of float, shape (z, y, x)
    air : float
    layers : int
        At most this many layers are peeled from each face.
    """
    mask = mask.copy()
    for axis in range(3):
        for side in (0, -1):
            for _ in range(layers):
                hit = np.flatnonzero(mask.any(axis=tuple(a for a in range(3) if a != axis)))
                if hit.size < 3:
                    break
                edge, inner = (hit[0], hit[0] + 1) if side == 0 else (hit[-1], hit[-1] - 1)
                face = np.take(mask, edge, axis=axis)
                behind = face & np.take(mask, inner, axis=axis)
                if not behind.any():
                    break
                edge_grey = np.take(grey, edge, axis=axis)[face].mean()
                if edge_grey - air >= 0.5 * (np.take(grey, inner, axis=axis)[behind].mean() - air):
                    break
                index = [slice(None)] * 3
                index[axis] = edge
                mask[tuple(index)] = False
    return mask


def _drop_specks(mask: np.ndarray) -> np.ndarray:
    """Drop pixels with fewer than two in-plane neighbours.

    Removes noise specks and the bright dot a ring artefact leaves at the
    rotation centre, which runs through every slice and would otherwise join
    the part along z. Unlike a median or an opening it keeps the corners of
    parts and thin pins.
    """
    kernel = np.ones((1, 3, 3), np.uint8)
    kernel[0, 1, 1] = 0
    neighbours = ndi.convolve(mask.view(np.uint8), kernel, mode="constant")
    return mask & (neighbours >= 2)


def _keep_part(mask: np.ndarray, path) -> tuple[np.ndarray, list[str]]:
    """Keep the largest connected component, holes filled; note any second part."""
    labels, n = ndi.label(mask)
    if n == 0:
        raise CtreviewError(path, "no part found: nothing is denser than the threshold")
    sizes = np.bincount(labels.ravel())[1:]
    order = np.argsort(sizes)[::-1]
    if sizes[order[0]] < 8:
        raise CtreviewError(path, "no part found: only specks above the threshold")
    notes = []
    if n > 1 and sizes[order[1]] >= SECOND_PART * sizes[order[0]]:
        notes.append(f"{int(np.sum(sizes >= SECOND_PART * sizes[order[0]]))} separate parts found; "
                     "using the largest")
    part = labels == order[0] + 1
    return ndi.binary_fill_holes(part), notes


def _border_note(mask: np.ndarray) -> list[str]:
    edges = (mask[:, 0].any() or mask[:, -1].any() or mask[:, :, 0].any() or mask[:, :, -1].any())
    return ["the part touches the image border: it may extend beyond the scan"] if edges else []
