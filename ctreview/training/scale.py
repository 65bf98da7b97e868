"""Bring the normal volumes of a training run to one working scale (see :mod:`ctreview.roi.scale`).

The reference is the scan with the largest part: it is binned until its
part is at most ``max_side`` pixels across, and every other scan is binned
to the same voxel size (or part size) by the rule scoring uses, so what the
model learns and what it later scores stand at one scale. A binned scan is
read block by block (:func:`~ctreview.io.binned.binned`): memory stays that
of a few slices.
"""
from __future__ import annotations

from ctreview.io.binned import binned
from ctreview.roi import extract_roi
from ctreview.roi.scale import (
    ScaleChoice,
    WorkingScale,
    choice_for,
    part_side,
    reference_choice,
    working_scale,
)
from ctreview.training.normal_data import NormalVolume


def _binned_slices(normal: NormalVolume, factors: tuple[int, int], kept: set[int]) -> list[int]:
    """Binned slices whose full-resolution ROI slices are all normal."""
    bz = factors[0]
    normal_set, roi_slices = set(normal.slices), set(normal.roi.slices)
    out = []
    for j in sorted(kept):
        block = [k for k in range(j * bz, (j + 1) * bz) if k in roi_slices]
        if block and all(k in normal_set for k in block):
            out.append(j)
    return out


def _at(normal: NormalVolume, choice: ScaleChoice, tile_size: int) -> NormalVolume:
    if not choice.binned:
        return normal
    volume = binned(normal.volume, choice.factors)
    roi = extract_roi(volume, normal.roi.profile, tile_size=tile_size)
    return NormalVolume(volume, roi, _binned_slices(normal, choice.factors, set(roi.slices)), normal.source)


def to_working_scale(normals: list[NormalVolume], *, max_side: int, forced: int | None = None,
                     tile_size: int = 64) -> tuple[list[NormalVolume], WorkingScale | None, str]:
    """The normal volumes at one working scale, that scale, and one line saying what was done.

    Parameters
    ----------
    normals : list of NormalVolume
        At full resolution, each with its ROI.
    max_side : int
        Largest side (pixels) of the reference part at the working scale.
    forced : int, optional
        ``--binning N``: N pixels per side for the reference scan.
    tile_size : int
        Tiles of the binned scans' ROIs.

    Returns
    -------
    normals : list of NormalVolume
        Binned where needed, each with the ROI of the binned scan; volumes left with no normal slice are dropped.
    scale : WorkingScale or None
        None for independent images (each is trained at its own size).
    line : str
    """
    if normals[0].volume.layout == "images":
        return normals, None, "scale: full resolution (independent images are trained at their own size)"
    ref = max(range(len(normals)), key=lambda i: part_side(normals[i].roi))
    first = reference_choice(normals[ref].volume, normals[ref].roi, max_side, forced)
    scale = working_scale(normals[ref].volume, normals[ref].roi, first, max_side)
    choices = [first if i == ref else choice_for(n.volume, n.roi, scale, forced) for i, n in enumerate(normals)]
    out = [_at(n, c, tile_size) for n, c in zip(normals, choices)]
    line = first.line()
    others = sorted({c.factors for i, c in enumerate(choices) if i != ref and c.factors != first.factors})
    if others:
        line += "; other scans " + ", ".join(f"{bz}x{b}x{b}" for bz, b in others) + " to the same voxel size"
    return [n for n in out if n.slices], scale, line
