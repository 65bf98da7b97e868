"""Per-slice regions of interest and model tiles for a CT volume."""
from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from pathlib import Path

import numpy as np

from ctreview.errors import Cancelled, CtreviewError
from ctreview.io import VolumeLike, as_volume
from ctreview.progress import Progress, StopFlag, drain
from ctreview.results import Box
from ctreview.roi import shapes as sh
from ctreview.roi.auto import choose_profile
from ctreview.roi.footprint import footprint_planes
from ctreview.roi.images import per_image_roi, whole_image_roi
from ctreview.roi.pose import Pose, part_pose
from ctreview.roi.profiles import Profile, Region, load_profile
from ctreview.roi.result import RoiResult, SliceRoi, cross_section_crop
from ctreview.roi.segment import Segmentation, segment_part
from ctreview.roi.tiles import tile_fractions, tile_grid

MIN_PART = 0.05
"""Tiles with less of the part than this fraction are mostly air and dropped."""


def _region_shape(region: Region, pose: Pose, crop: np.ndarray, cs_box: Box) -> dict:
    """The shape of a region in one slice's pixels."""
    if region.shape == "cross-section":
        return sh.mask_shape(cs_box, crop)
    hu, hv = pose.half_extent
    if region.shape == "ring":
        scale = 0.5 * (hu + hv)
        return sh.ring_shape(pose.center, region.inner * scale, region.outer * scale)
    v0, u0, v1, u1 = region.box
    a = np.radians(pose.angle_deg)
    uv = np.array([(u0, v0), (u1, v0), (u1, v1), (u0, v1)]) * (hu, hv)
    ys = pose.center[0] + uv[:, 0] * np.sin(a) + uv[:, 1] * np.cos(a)
    xs = pose.center[1] + uv[:, 0] * np.cos(a) - uv[:, 1] * np.sin(a)
    return sh.polygon_shape(np.stack([ys, xs], axis=1))


def _slice_roi(k: int, seg: Segmentation, foot: Segmentation, pose: Pose, profile: Profile,
               tile_size: int, stride: int) -> SliceRoi | None:
    """The ROI of slice ``k`` from the part's footprint (see :mod:`ctreview.roi.footprint`)."""
    cs_box, crop = cross_section_crop(foot, k)
    if cs_box is None or crop is None:
        return None
    shape2d = foot.shape[1:]
    z0, z1 = pose.bbox[0], pose.bbox[3]
    frac = (k - z0 + 0.5) / max(1, z1 - z0)
    boxes, shapes_ = [], []
    for region in profile.regions:
        if not region.z[0] <= frac <= region.z[1]:
            continue
        shape = _region_shape(region, pose, crop, cs_box)
        box = sh.clip_box(sh.shape_bounds(shape), shape2d)
        box = None if box is None else sh.intersect(box, cs_box)
        if box is not None:
            boxes.append(box)
            shapes_.append(shape)
    if not boxes:
        return None
    tiles = _pick_tiles(k, seg, boxes, tile_size, stride)
    return SliceRoi(k, boxes, tiles, shapes_) if tiles else None


def _pick_tiles(k: int, seg: Segmentation, boxes: list[Box],
                tile_size: int, stride: int) -> list[tuple[int, int]]:
    """Tiles over the boxes, without those that are mostly air.

    Tiles follow the material, not the footprint: a tile-based model learns
    the part, and tiles of pure air inside a footprint would be new to it.
    A tile with little of the part is still kept when it is the only one to
    cover some part pixels (a thin pin, a corner), so nothing of the part in
    a box goes unscored.
    """
    cs_box, crop = cross_section_crop(seg, k)
    if cs_box is None:
        return []
    shape2d, coarse = seg.shape[1:], seg.mask[k // seg.factor]
    tiles: list[tuple[int, int]] = []
    sparse: list[tuple[int, int]] = []
    for box in boxes:
        ys, xs = tile_grid(box, shape2d, tile_size, stride)
        fractions = tile_fractions(coarse, seg.factor, shape2d, ys, xs, tile_size)
        for (i, j), f in np.ndenumerate(fractions):
            t = (ys[i], xs[j])
            if t in tiles or t in sparse or f <= 0:
                continue
            (tiles if f >= MIN_PART else sparse).append(t)
    if sparse:
        tiles += _covering(crop, cs_box, boxes, tiles, sparse, tile_size)
    return tiles


def _covering(crop, cs_box: Box, boxes, tiles, sparse, tile_size: int) -> list[tuple[int, int]]:
    """The sparse tiles that cover part pixels in a box that no kept tile covers."""
    oy, ox = cs_box[0], cs_box[1]
    todo = np.zeros(crop.shape, bool)
    for y0, x0, y1, x1 in boxes:
        todo[max(0, y0 - oy):max(0, y1 - oy), max(0, x0 - ox):max(0, x1 - ox)] = True
    todo &= crop
    for y, x in tiles:
        todo[max(0, y - oy):max(0, y + tile_size - oy), max(0, x - ox):max(0, x + tile_size - ox)] = False
    extra = []
    for y, x in sparse:
        window = (slice(max(0, y - oy), max(0, y + tile_size - oy)), slice(max(0, x - ox), max(0, x + tile_size - ox)))
        if todo[window].any():
            extra.append((y, x))
            todo[window] = False
    return extra


def _tiling(prof: Profile, tile_size: int | None, stride: int | None) -> tuple[int, int]:
    size = int(tile_size or prof.tile_size)
    if size < 4:
        raise CtreviewError(None, f"tile size must be at least 4 pixels, got {size}")
    return size, int(stride or (prof.stride if tile_size is None else max(1, size * 3 // 4)))


def _roi_without_a_part(volume: VolumeLike, profile: str | Path | Profile, tile_size: int | None,
                        stride: int | None, should_stop: StopFlag | None) -> Generator[Progress, None, RoiResult]:
    """Whole images, or independent images each searched on its own (``auto``: whole images)."""
    prof = load_profile("whole-image" if str(profile) == "auto" else profile)
    size, step = _tiling(prof, tile_size, stride)
    if prof.whole_image:
        return (yield from whole_image_roi(volume, prof, size, step, should_stop))
    return (yield from per_image_roi(volume, prof, size, step, should_stop, search=iter_roi))


def extract_roi(volume: VolumeLike | np.ndarray, profile: str | Path | Profile = "whole-part", *,
                tile_size: int | None = None, stride: int | None = None) -> RoiResult:
    """Find the part, its pose and the per-slice ROIs (see :func:`iter_roi`)."""
    return drain(iter_roi(volume, profile, tile_size=tile_size, stride=stride))


def iter_roi(volume: VolumeLike | np.ndarray, profile: str | Path | Profile = "whole-part", *,
             tile_size: int | None = None, stride: int | None = None,
             should_stop: StopFlag | None = None) -> Generator[Progress, None, RoiResult]:
    """Find the part, its pose and the per-slice ROIs and tiles of a volume.

    Parameters
    ----------
    volume : Volume or ndarray, shape (z, y, x)
        Any grey dtype; a (y, x) array is one slice.
    profile : str, Path or Profile
        Bundled profile name, a .toml path, a Profile, or ``"auto"`` (chosen
        from the part's shape: round -> capacitor, ring with a hole ->
        transformer, else whole-part).
    tile_size, stride : int, optional
        Override the profile's; a tile_size alone gets a stride of 3/4 of it.
    should_stop : callable() -> bool, optional
        Raises :class:`~ctreview.errors.Cancelled` when it returns True.

    Yields
    ------
    Progress
        Stage ``"roi"``, once per slice of the part.

    Returns
    -------
    RoiResult

    Raises
    ------
    CtreviewError
        All-air or constant volume, bad profile, bad tile size.
    """
    volume = as_volume(volume)
    path = volume.path
    if volume.layout == "images" or (str(profile) != "auto" and load_profile(profile).whole_image):
        return (yield from _roi_without_a_part(volume, profile, tile_size, stride, should_stop))
    seg = segment_part(volume, path=path)
    pose = part_pose(seg)
    prof = choose_profile(seg, pose) if str(profile) == "auto" else load_profile(profile)
    size, step = _tiling(prof, tile_size, stride)
    slices: dict[int, SliceRoi] = {}
    # the footprint, not the material: an absence (a missing ball, a pad turned to air) is scored
    foot = replace(seg, mask=footprint_planes(seg.mask))
    z0, z1 = pose.bbox[0], pose.bbox[3]
    for k in range(z0, z1):
        if should_stop is not None and should_stop():
            raise Cancelled()
        roi = _slice_roi(k, seg, foot, pose, prof, size, step)
        if roi is not None:
            slices[k] = roi
        yield Progress("roi", k - z0 + 1, z1 - z0)
    return RoiResult(part_bbox=pose.bbox, angle_deg=pose.angle_deg, axes=pose.axes, profile=prof,
                     tile_size=size, stride=step, slices=slices, center=pose.center,
                     oriented=pose.oriented, warnings=list(seg.warnings), segmentation=seg)
