"""Build what the scorers see of each slice: a crop around the ROI, its context slices, its mask.

In a volume every slice is cut to one box (the union of all ROI boxes and
tiles, grown by a margin for the networks' receptive field), so slices
batch together through the networks; independent images are each cut to
their own ROI and carry no context.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ctreview.io import VolumeLike
from ctreview.model.scorer import SliceInput
from ctreview.results import Box
from ctreview.roi import RoiResult
from ctreview.roi.context import SliceReader, context_indices

MARGIN = 16
"""Pixels of real image around the ROI, so convolutions near its edge see what is there."""


def _grow(box: Box, margin: int, limit: Box) -> Box:
    y0, x0, y1, x1 = box
    ly0, lx0, ly1, lx1 = limit
    return (max(ly0, y0 - margin), max(lx0, x0 - margin), min(ly1, y1 + margin), min(lx1, x1 + margin))


def _extent(roi: RoiResult, ks: Sequence[int]) -> Box | None:
    """The union of the ROI boxes and tiles of slices ``ks``."""
    t = roi.tile_size
    boxes = [b for k in ks for b in roi.slices[k].boxes]
    boxes += [(y, x, y + t, x + t) for k in ks for y, x in roi.slices[k].tiles]
    if not boxes:
        return None
    arr = np.array(boxes)
    return (int(arr[:, 0].min()), int(arr[:, 1].min()), int(arr[:, 2].max()), int(arr[:, 3].max()))


class SliceInputs:
    """Make the :class:`SliceInput` of any ROI slice of a volume.

    Parameters
    ----------
    volume : VolumeLike
    roi : RoiResult
    offsets : sequence of int
        Context offsets along z (ignored for independent images).
    margin : int
        Pixels added around the ROI.
    """

    def __init__(self, volume: VolumeLike, roi: RoiResult, offsets: Sequence[int], margin: int = MARGIN) -> None:
        self.volume, self.roi = volume, roi
        self.images = volume.layout == "images"
        self.offsets = () if self.images else tuple(int(o) for o in offsets)
        self.keys = sorted(roi.slices)
        reach = max((abs(o) for o in self.offsets), default=0)
        self.reader = SliceReader(volume, cache=2 * reach + 24)
        self.margin = margin
        self.z0, self.z1 = roi.part_bbox[0], roi.part_bbox[3]
        whole = _extent(roi, self.keys)
        self._box = None if self.images or whole is None else \
            _grow(whole, margin, (0, 0, volume.shape[1], volume.shape[2]))

    def box(self, k: int) -> Box:
        """The crop of slice ``k``: one box for a whole volume, each image's own for images."""
        if self._box is not None:
            return self._box
        own = _extent(self.roi, [k]) or self.volume.valid_box(k)
        return _grow(own, self.margin, self.volume.valid_box(k))

    def __call__(self, k: int) -> SliceInput:
        y0, x0, y1, x1 = box = self.box(k)
        sroi = self.roi.slices[k]
        image = self.reader(k)[y0:y1, x0:x1]
        near: list[int] = []
        if self.offsets:
            near = context_indices(k, self.keys, self.offsets)[1:]
            context = np.stack([self.reader(j)[y0:y1, x0:x1] for j in near])
        else:
            context = np.zeros((0,) + image.shape, np.float32)
        near_tiles = tuple([(ty - y0, tx - x0) for ty, tx in self.roi.slices[j].tiles] for j in near)
        mask = sroi.mask(self.volume.shape[1:])[y0:y1, x0:x1]
        tiles = [(ty - y0, tx - x0) for ty, tx in sroi.tiles]
        span = max(1, self.z1 - self.z0 - 1)
        position = 0.5 if self.images else float(np.clip((k - self.z0) / span, 0.0, 1.0))
        if self.images:
            center = ((y1 - y0) / 2.0, (x1 - x0) / 2.0)
        else:
            center = (float(self.roi.center[0]) - y0, float(self.roi.center[1]) - x0)
        angle = 0.0 if self.images else float(self.roi.angle_deg)
        return SliceInput(k, image, context, mask, box, position, tiles, self.offsets, center, angle,
                          tuple(near), near_tiles)
