"""Score a scan at the model's working scale, and show the results at full size.

A model stores the scale it was trained at (:mod:`ctreview.roi.scale`; an
older model only its training parts' footprint). A scan finer than that is
binned to it before scoring: the networks see what they were trained on, at
1/k^2 of the cost, and the memory is that of a few slices. The scoring pass
runs once, on the binned scan; :func:`expanded` wraps its stream and brings
every result back to the full-resolution slices: each binned slice's score
goes to the slices it averaged, its heatmap is resampled to the full slice
and cut to the full ROI.
"""
from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.ndimage import zoom

from ctreview.io import VolumeLike
from ctreview.io.binned import binned
from ctreview.model.detector import Detector
from ctreview.results import SliceResult
from ctreview.roi import RoiResult, extract_roi
from ctreview.roi.scale import ScaleChoice, WorkingScale, bin_factor, choice_for, part_side, z_factor
from ctreview.scoring._state import _ScoringState
from ctreview.scoring.settings import ScoringSettings


def find_roi(volume: VolumeLike, model: Detector, settings: ScoringSettings) -> RoiResult:
    """The ROI a model scores: the settings' profile or the model's, cut at the model's tile size."""
    return extract_roi(volume, settings.profile or model.profile, tile_size=model.tile_size)


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


def scale_choice(volume: VolumeLike, roi: RoiResult, meta: dict[str, Any], cfg: ScoringSettings) -> ScaleChoice:
    """How a scan is binned to the model's working scale, and why.

    ``cfg.binning`` forces the in-plane factor; a model that stores its
    working scale (``model.json["scale"]``) gets the rule training used
    (:func:`~ctreview.roi.scale.choice_for`); an older model is compared by
    the part's footprint with its training parts'. z keeps the voxels' shape.
    """
    scale = WorkingScale.from_json(meta.get("scale"))
    if scale is not None or cfg.binning is not None or volume.layout == "images":
        return choice_for(volume, roi, scale or WorkingScale(part_side(roi), None, 0), cfg.binning)
    trained = model_part_size(meta)
    if trained is None or min(trained) <= 0:
        return ScaleChoice((1, 1), "the model states no training scale")
    ratio = math.sqrt(max(part_size(roi)[0], 0.0) / trained[0])
    bxy = bin_factor(ratio)
    return ScaleChoice((z_factor(bxy, volume.spacing), bxy),
                       f"part {ratio:.2g}x the size of the model's training parts")


def binning_factors(volume: VolumeLike, roi: RoiResult, meta: dict[str, Any],
                    cfg: ScoringSettings) -> tuple[int, int]:
    """``(bz, bxy)`` of :func:`scale_choice`."""
    return scale_choice(volume, roi, meta, cfg).factors


@dataclass(frozen=True)
class ModelScale:
    """A volume as the model scores it.

    Attributes
    ----------
    choice : ScaleChoice
        ``(bz, bxy)`` binning and why; ``(1, 1)`` when the volume is scored as it is.
    volume : VolumeLike
        The binned volume (the volume itself without binning).
    roi : RoiResult
        Its ROI.
    """

    choice: ScaleChoice
    volume: VolumeLike
    roi: RoiResult

    @property
    def factors(self) -> tuple[int, int]:
        return self.choice.factors

    @property
    def binned(self) -> bool:
        return self.choice.binned


def model_scale(volume: VolumeLike, roi: RoiResult, model: Any, cfg: ScoringSettings) -> ModelScale:
    """The volume binned to the model's scale, with its ROI (both unchanged when no binning is needed)."""
    choice = scale_choice(volume, roi, model.meta, cfg)
    if not choice.binned:
        return ModelScale(choice, volume, roi)
    small = binned(volume, choice.factors)
    return ModelScale(choice, small, find_roi(small, model, cfg))


def _full_slices(j: int, bz: int, roi: RoiResult) -> list[int]:
    return [k for k in range(j * bz, (j + 1) * bz) if k in roi.slices]


def _upsample(m: np.ndarray, bxy: int, shape: tuple[int, int]) -> np.ndarray:
    big = zoom(m, bxy, order=1, mode="nearest", grid_mode=True) if bxy > 1 else m
    out = np.zeros(shape, np.float32)
    h, w = min(shape[0], big.shape[0]), min(shape[1], big.shape[1])
    out[:h, :w] = big[:h, :w]
    return out


def expand(result: SliceResult, roi: RoiResult, factors: tuple[int, int],
           shape: tuple[int, int], heat_unit: float = 1.0) -> list[SliceResult]:
    """The full-resolution results of one binned slice's result: one per ROI slice it averaged.

    ``heat_unit`` (the heatmap's threshold) puts the tile scores in score units, as the pass does.
    """
    bz, bxy = factors
    targets = _full_slices(result.index, bz, roi)
    if not targets:
        return []
    heat = _upsample(result.heatmap, bxy, shape)
    maps = {name: _upsample(m, bxy, shape) for name, m in result.maps.items()}
    expected = None if result.expected is None else _upsample(result.expected, bxy, shape)
    y0, x0, y1, x1 = (int(v) * bxy for v in result.tile_box)
    out = []
    for k in targets:
        sroi = roi.slices[k]
        inside = sroi.mask(shape)
        t = roi.tile_size
        h = np.where(inside, heat, 0.0).astype(np.float32)
        tiles = np.array([h[y:y + t, x:x + t].max(initial=0.0) * heat_unit for y, x in sroi.tiles], np.float32)
        out.append(replace(result, index=k, tile_box=(y0, x0, min(y1, shape[0]), min(x1, shape[1])),
                           boxes=list(sroi.boxes), heatmap=h, tile_scores=tiles,
                           maps={n: np.where(inside, m, 0.0).astype(np.float32) for n, m in maps.items()},
                           expected=None if expected is None else np.where(inside, expected, 0.0).astype(np.float32)))
    return out


def expanded(results: Iterator[SliceResult], roi: RoiResult, factors: tuple[int, int],
             shape: tuple[int, int], state: _ScoringState,
             heat_unit: float = 1.0) -> Generator[SliceResult, None, None]:
    """Wrap a stream of binned slices' results: yield the full-resolution results of ``roi``'s slices.

    ``state`` (the full-resolution run's) notes every result as its own.
    """
    for result in results:
        for full in expand(result, roi, factors, shape, heat_unit):
            state.note(full, len(full.tile_scores))
            yield full
