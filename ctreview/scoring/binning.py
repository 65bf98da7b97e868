"""Score a scan finer than the model's training scans at the model's scale, and show it at full size.

A model knows its parts at the size they had in its training scans (the
footprint and height in its domain fingerprint). A scan of the same part at
k times the resolution is binned k x k (and along z by its own ratio) before
scoring: the networks see what they were trained on, at 1/k^2 of the cost,
and the memory is that of a few slices. Every result is then brought back to
the full-resolution slices: each binned slice's score goes to the slices it
averaged, its heatmap is resampled to the full slice and cut to the full ROI.
"""
from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.ndimage import zoom

from ctreview.io import VolumeLike
from ctreview.io.binned import binned
from ctreview.results import SliceResult
from ctreview.roi import RoiResult
from ctreview.scoring.settings import ScoringSettings

MIN_FACTOR = 1.5
"""A part at least this many times the model's size (per axis) is binned (the factor rounded)."""


def part_size(roi: RoiResult) -> tuple[float, float]:
    """The part's footprint (pixels of its projection along z) and height (slices) at full resolution."""
    seg = roi.segmentation
    if seg is None:
        return 0.0, float(roi.part_bbox[3] - roi.part_bbox[0])
    f = int(seg.factor)
    return float(seg.mask.any(axis=0).sum() * f * f), float(roi.part_bbox[3] - roi.part_bbox[0])


def model_part_size(meta: dict[str, Any]) -> tuple[float, float] | None:
    """The median footprint and height of the model's training parts (None for a model without them)."""
    foot = ((meta.get("domain") or {}).get("footprint") or {})
    try:
        return float(foot["footprint_px"]["median"]), float(foot["height_px"]["median"])
    except (KeyError, TypeError, ValueError):
        return None


def binning_factors(volume: VolumeLike, roi: RoiResult, meta: dict[str, Any],
                    cfg: ScoringSettings) -> tuple[int, int]:
    """``(bz, bxy)``: how many slices and pixels per side become one at the model's scale.

    ``cfg.binning`` forces one factor for all axes; by default it is the
    rounded ratio of this part's size to the model's training parts' (1 when
    under :data:`MIN_FACTOR`, for independent images, or without a fingerprint).
    A part that runs out of the scan at either end along z has no height to
    compare: its z factor is then the in-plane one (a finer scan is finer on
    every axis).
    """
    if cfg.binning is not None:
        return int(cfg.binning), int(cfg.binning)
    trained = model_part_size(meta)
    if volume.layout == "images" or trained is None or min(trained) <= 0:
        return 1, 1
    foot, height = part_size(roi)

    def factor(ratio: float) -> int:
        return max(1, int(round(ratio))) if ratio >= MIN_FACTOR else 1

    bxy = factor(math.sqrt(max(foot, 0.0) / trained[0]))
    z0, z1 = int(roi.part_bbox[0]), int(roi.part_bbox[3])
    if z0 <= 0 or z1 >= int(volume.shape[0]):
        return bxy, bxy
    return factor(height / trained[1]), bxy


@dataclass(frozen=True)
class ModelScale:
    """A volume as the model scores it.

    Attributes
    ----------
    factors : (int, int)
        ``(bz, bxy)`` binning; ``(1, 1)`` when the volume is scored as it is.
    volume : VolumeLike
        The binned volume (the volume itself without binning).
    roi : RoiResult
        Its ROI.
    """

    factors: tuple[int, int]
    volume: VolumeLike
    roi: RoiResult

    @property
    def binned(self) -> bool:
        return self.factors != (1, 1)


def model_scale(volume: VolumeLike, roi: RoiResult, model: Any, cfg: ScoringSettings) -> ModelScale:
    """The volume binned to the model's scale, with its ROI (both unchanged when no binning is needed)."""
    from ctreview.scoring.stream import find_roi

    factors = binning_factors(volume, roi, model.meta, cfg)
    if factors == (1, 1):
        return ModelScale(factors, volume, roi)
    small = binned(volume, factors)
    return ModelScale(factors, small, find_roi(small, model, cfg))


def _full_slices(j: int, bz: int, roi: RoiResult) -> list[int]:
    return [k for k in range(j * bz, (j + 1) * bz) if k in roi.slices]


def _upsample(m: np.ndarray, bxy: int, shape: tuple[int, int]) -> np.ndarray:
    big = zoom(m, bxy, order=1, mode="nearest", grid_mode=True) if bxy > 1 else m
    out = np.zeros(shape, np.float32)
    h, w = min(shape[0], big.shape[0]), min(shape[1], big.shape[1])
    out[:h, :w] = big[:h, :w]
    return out


def expand(result: SliceResult, roi: RoiResult, factors: tuple[int, int],
           shape: tuple[int, int]) -> list[SliceResult]:
    """The full-resolution results of one binned slice's result: one per ROI slice it averaged."""
    bz, bxy = factors
    targets = _full_slices(result.index, bz, roi)
    if not targets:
        return []
    heat = _upsample(result.heatmap, bxy, shape)
    maps = {name: _upsample(m, bxy, shape) for name, m in result.maps.items()}
    y0, x0, y1, x1 = (int(v) * bxy for v in result.tile_box)
    out = []
    for k in targets:
        sroi = roi.slices[k]
        inside = sroi.mask(shape)
        t = roi.tile_size
        h = np.where(inside, heat, 0.0).astype(np.float32)
        tiles = np.array([h[y:y + t, x:x + t].max(initial=0.0) for y, x in sroi.tiles], np.float32)
        out.append(replace(result, index=k, tile_box=(y0, x0, min(y1, shape[0]), min(x1, shape[1])),
                           boxes=list(sroi.boxes), heatmap=h, tile_scores=tiles,
                           maps={n: np.where(inside, m, 0.0).astype(np.float32) for n, m in maps.items()}))
    return out


def binned_scoring(volume: VolumeLike, roi: RoiResult, model: Any, cfg: ScoringSettings, scale: ModelScale,
                   should_stop: Any, state: Any) -> Generator[SliceResult, None, None]:
    """Score ``scale.volume``; yield full-resolution results of ``roi``'s slices.

    ``state`` (the run's :class:`~ctreview.scoring._state._ScoringState`) notes every result
    as the full-resolution run's own.
    """
    from ctreview.scoring.stream import score_volume

    factors = scale.factors
    inner = score_volume(scale.volume, model, cfg.changed(binning=1), roi=scale.roi, should_stop=should_stop)
    shape = (int(volume.shape[1]), int(volume.shape[2]))
    empty = np.zeros((0, 0), np.float32)
    try:
        while True:
            try:
                result = next(inner)
            except StopIteration as stop:
                inner_summary = stop.value
                break
            for full in expand(result, roi, factors, shape):
                state.note(full, empty, first_pass=full.stage == "fast")
                state.tiles += len(full.tile_scores) if full.stage == "fast" else 0
                yield full
    finally:
        inner.close()
    state.cancelled = state.cancelled or inner_summary.cancelled
    state.timings.update({f"binned_{k}": v for k, v in inner_summary.timings.items()})
