"""ROIs without a 3D part: whole images, and independent images each segmented on its own."""
from __future__ import annotations

from collections.abc import Callable, Generator

import numpy as np

from ctreview.errors import Cancelled, CtreviewError
from ctreview.io import Volume, VolumeLike
from ctreview.progress import Progress, StopFlag
from ctreview.results import Box
from ctreview.roi import shapes as sh
from ctreview.roi.profiles import Profile
from ctreview.roi.result import RoiResult, SliceRoi
from ctreview.roi.tiles import tile_positions

Search = Callable[..., Generator[Progress, None, RoiResult]]
"""The part search run on each independent image (:func:`ctreview.roi.extract.iter_roi`)."""


def _image_slice(k: int, box: Box, tile_size: int, stride: int, shape: tuple[int, int]) -> SliceRoi:
    y0, x0, y1, x1 = box
    crop = np.ones((y1 - y0, x1 - x0), bool)
    tiles = tile_positions(box, (y1, x1), tile_size, stride)
    return SliceRoi(k, [box], tiles, [sh.mask_shape(box, crop)])


def whole_image_roi(volume: VolumeLike, profile: Profile, tile_size: int, stride: int,
                    should_stop: StopFlag | None = None) -> Generator[Progress, None, RoiResult]:
    """Every slice (image) whole: its valid box is its ROI; no part is searched for."""
    n, ny, nx = volume.shape
    slices = {}
    for k in range(n):
        if should_stop is not None and should_stop():
            raise Cancelled()
        box = volume.valid_box(k)
        slices[k] = _image_slice(k, box, tile_size, stride, (ny, nx))
        yield Progress("roi", k + 1, n)
    return RoiResult(part_bbox=(0, 0, 0, n, ny, nx), angle_deg=0.0, axes=np.eye(3), profile=profile,
                     tile_size=tile_size, stride=stride, slices=slices, center=(ny / 2, nx / 2),
                     oriented=False, warnings=[])


def per_image_roi(volume: VolumeLike, profile: Profile, tile_size: int, stride: int,
                  should_stop: StopFlag | None = None, *, search: Search) -> Generator[Progress, None, RoiResult]:
    """Independent images: each one segmented on its own by ``search``, never averaged with its neighbours."""
    n, ny, nx = volume.shape
    slices, warnings = {}, []
    for k in range(n):
        if should_stop is not None and should_stop():
            raise Cancelled()
        y0, x0, y1, x1 = volume.valid_box(k)
        image = Volume.from_array(volume.slice(k)[y0:y1, x0:x1], path=volume.path)
        try:
            one = yield from _quiet(search(image, profile, tile_size=tile_size, stride=stride))
        except CtreviewError as exc:
            raise CtreviewError(_image_name(volume, k), exc.message) from None
        if 0 in one.slices:
            sroi = one.slices[0]
            slices[k] = _shifted(sroi, k, y0, x0)
        warnings += [f"image {k}: {w}" for w in one.warnings]
        yield Progress("roi", k + 1, n)
    return RoiResult(part_bbox=(0, 0, 0, n, ny, nx), angle_deg=0.0, axes=np.eye(3), profile=profile,
                     tile_size=tile_size, stride=stride, slices=slices, center=(ny / 2, nx / 2),
                     oriented=False, warnings=warnings)


def _image_name(volume: VolumeLike, k: int) -> str:
    images = getattr(volume, "metadata", {}).get("images") or []
    name = images[k]["name"] if k < len(images) else f"image {k}"
    return f"{volume.path}/{name}" if volume.path else name


def _quiet(task):
    """Run a one-image ROI search without passing on its per-slice progress."""
    from ctreview.progress import drain

    return drain(task)
    yield  # pragma: no cover - a generator, so callers can ``yield from`` it


def _shifted(sroi: SliceRoi, k: int, dy: int, dx: int) -> SliceRoi:
    boxes = [(y0 + dy, x0 + dx, y1 + dy, x1 + dx) for y0, x0, y1, x1 in sroi.boxes]
    shapes = [_shift_shape(s, dy, dx) for s in sroi.shapes]
    return SliceRoi(k, boxes, [(y + dy, x + dx) for y, x in sroi.tiles], shapes)


def _shift_shape(shape: dict, dy: int, dx: int) -> dict:
    if shape["kind"] == "mask":
        y0, x0, y1, x1 = shape["box"]
        return sh.mask_shape((y0 + dy, x0 + dx, y1 + dy, x1 + dx), shape["crop"])
    if shape["kind"] == "ring":
        cy, cx = shape["center"]
        return sh.ring_shape((cy + dy, cx + dx), shape["inner"], shape["outer"])
    return sh.polygon_shape(shape["corners"] + np.array([dy, dx]))
