"""Measures of a volume for the domain fingerprint: grey-value percentiles inside the ROI and of the
model's tiles, and the part's sizes (see :mod:`ctreview.model.domain`)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # the ROI package loads when a measure is taken, not when a model is
    from ctreview.io import VolumeLike
    from ctreview.roi import RoiResult
    from ctreview.roi.segment import Segmentation

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
SAMPLE_SLICES = 16
"""ROI slices, evenly spread, whose pixels give a volume's grey-value quantiles."""


def tile_quantiles(tiles: np.ndarray, *, max_values: int = 2_000_000) -> list[float]:
    """Grey-value quantiles (:data:`QUANTILES`) of tiles ``(n, T, T)`` (or any pixels), subsampled when huge."""
    values = np.asarray(tiles, np.float32).reshape(-1)
    if values.size > max_values:
        values = values[:: values.size // max_values + 1]
    values = values[np.isfinite(values)]
    if not values.size:
        return [0.0] * len(QUANTILES)
    return [float(v) for v in np.quantile(values, QUANTILES)]


PERCENTILES = np.linspace(0.0, 1.0, 101)
"""Probabilities of the grey-value percentiles a volume's features keep (they include :data:`QUANTILES`)."""


def percentiles(values: np.ndarray, *, max_values: int = 2_000_000) -> list[float] | None:
    """Grey-value percentiles (:data:`PERCENTILES`) of any pixels; None when none is finite."""
    flat = np.asarray(values, np.float32).reshape(-1)
    if flat.size > max_values:
        flat = flat[:: flat.size // max_values + 1]
    flat = flat[np.isfinite(flat)]
    return [float(v) for v in np.quantile(flat, PERCENTILES)] if flat.size else None


def quantiles_of(pct: Sequence[float]) -> list[float]:
    """:data:`QUANTILES` picked from :data:`PERCENTILES`."""
    return [float(pct[int(round(q * 100))]) for q in QUANTILES]


def _sample(keys: Sequence[int], n: int) -> list[int]:
    if len(keys) <= n:
        return list(keys)
    picks = np.unique(np.linspace(0, len(keys) - 1, n).round().astype(int))
    return [keys[i] for i in picks]


def _footprint(roi: RoiResult, seg: Segmentation, spacing: Sequence[float], *,
               images: bool = False) -> dict[str, float]:
    """The part's sizes in px (and mm) from its segmentation; independent images have no height."""
    f = int(seg.factor)
    z0, z1 = int(roi.part_bbox[0]), int(roi.part_bbox[3])
    areas = seg.mask.reshape(seg.mask.shape[0], -1).sum(axis=1) * f * f
    areas = areas[areas > 0]
    tiles = [len(s.tiles) for s in roi.slices.values()]
    area = float(np.median(areas)) if areas.size else 0.0
    foot = float(seg.mask.any(axis=0).sum() * f * f)
    _, sy, sx = (float(s) for s in spacing)
    out = {"area_px": area, "footprint_px": foot, "height_px": float(z1 - z0),
           "tiles_per_slice": float(np.median(tiles)) if tiles else 0.0,
           "area_mm2": round(area * sy * sx, 4), "height_mm": round((z1 - z0) * float(spacing[0]), 4)}
    if images:
        del out["height_px"], out["height_mm"]
    return out


def _roi_pixels(volume: VolumeLike, roi: RoiResult, keys: Sequence[int]) -> np.ndarray:
    shape = (int(volume.shape[1]), int(volume.shape[2]))
    parts = [np.asarray(volume.slice(k), np.float32)[roi.slices[k].mask(shape)] for k in keys]
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def volume_features(volume: VolumeLike, roi: RoiResult, *, slices: Iterable[int] | None = None,
                    spacing_known: bool | None = None) -> dict[str, Any]:
    """Measure what the fingerprint holds on one volume.

    Parameters
    ----------
    volume : VolumeLike, shape (z, y, x)
    roi : RoiResult
        The ROI the model scores (its profile and tile size).
    slices : iterable of int, optional
        Only these slices count (a training set's accepted slices).
    spacing_known : bool, optional
        Whether the file stated its voxel spacing (default: read from the volume's warnings).

    Returns
    -------
    dict
        ``roi_percentiles`` (grey values inside the ROI, :data:`PERCENTILES`),
        ``tile_percentiles`` and ``intensity`` (of the model's tiles: the
        latter its :data:`QUANTILES`, for version-1 fingerprints), ``dtype``,
        ``footprint``, ``spacing``, ``spacing_known``.
    """
    from ctreview.roi import cut_tiles

    keys = sorted(roi.slices) if slices is None else sorted(set(slices) & set(roi.slices))
    sample = _sample(keys, SAMPLE_SLICES)
    tiles = [cut_tiles(volume.slice(k), roi.slices[k].tiles, roi.tile_size) for k in sample]
    pixels = _roi_pixels(volume, roi, sample)
    spacing = [float(s) for s in volume.spacing]
    if spacing_known is None:
        spacing_known = not any("no voxel spacing" in str(w) for w in getattr(volume, "warnings", ()))
    tile_pct = percentiles(np.concatenate(tiles)) if tiles else None
    return {
        "roi_percentiles": percentiles(pixels) if pixels.size else None,
        "tile_percentiles": tile_pct,
        "intensity": quantiles_of(tile_pct) if tile_pct else None,
        "dtype": str(getattr(volume, "dtype", "")),
        "footprint": None if roi.segmentation is None else
        _footprint(roi, roi.segmentation, spacing, images=getattr(volume, "layout", "volume") == "images"),
        "spacing": spacing,
        "spacing_known": bool(spacing_known),
    }
