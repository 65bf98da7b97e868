"""The scoring pass of a format-2 model: every scorer on each slice, fused and calibrated."""
from __future__ import annotations

import logging
import time
from collections.abc import Generator

import numpy as np

from ctreview.io import VolumeLike
from ctreview.model.detector import Detector
from ctreview.model.scorer import RunOptions, SliceInput
from ctreview.progress import StopFlag
from ctreview.results import SliceResult
from ctreview.roi import RoiResult
from ctreview.scoring._state import _ScoringState
from ctreview.scoring.inputs import SliceInputs
from ctreview.scoring.settings import ScoringSettings

log = logging.getLogger(__name__)

SLICES_PER_BATCH = 8
"""Slices per pass through the scorers: enough to batch the networks, few enough to stream."""
PIXELS_PER_BATCH = 8 * 256 * 256
"""At most this many slice pixels per pass: the feature maps of eight 512 x 512 slices (upsampled 2x
for the backbone) alone took over 1 GB, so larger slices go through fewer at a time."""


def slices_per_batch(shape: tuple[int, ...]) -> int:
    """Slices of a ``(z, y, x)`` volume scored together: :data:`SLICES_PER_BATCH`, fewer for large slices."""
    return max(1, min(SLICES_PER_BATCH, PIXELS_PER_BATCH // max(1, int(shape[1]) * int(shape[2]))))


def fused_pass(volume: VolumeLike, roi: RoiResult, detector: Detector, cfg: ScoringSettings,
               state: _ScoringState, should_stop: StopFlag | None) -> Generator[SliceResult, None, None]:
    """Score every ROI slice with all of the detector's scorers; yield one result per slice, in order."""
    t0 = time.perf_counter()
    detector.configure(RunOptions(search_steps=cfg.search_depth, lam=cfg.lam, batch_size=cfg.batch_size,
                                  should_stop=should_stop))
    for line in detector.prepare(volume, roi):  # once-per-volume steps (the atlas' registration)
        log.warning("%s", line)
    state.timings["prepare_s"] = time.perf_counter() - t0
    build = SliceInputs(volume, roi, detector.offsets)
    keys = sorted(roi.slices)
    step = slices_per_batch(volume.shape)
    for start in range(0, len(keys), step):
        if should_stop is not None and should_stop():
            state.cancelled = True
            break
        inputs = [build(k) for k in keys[start:start + step]]
        for inp, (heat, scaled) in zip(inputs, detector.score(inputs)):
            result = _result(volume, roi, detector, inp, heat, scaled)
            state.note(result, len(inp.tiles))
            yield result
    state.timings["fused_s"] = time.perf_counter() - t0


def _paste(crop: np.ndarray, inp: SliceInput, shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, np.float32)
    y0, x0, y1, x1 = inp.box
    out[y0:y1, x0:x1] = np.where(inp.mask, crop, 0.0)
    return out


def _result(volume: VolumeLike, roi: RoiResult, detector: Detector, inp: SliceInput, heat: np.ndarray,
            scaled: dict[str, np.ndarray]) -> SliceResult:
    shape = (volume.shape[1], volume.shape[2])
    full = _paste(heat, inp, shape)
    sroi, t = roi.slices[inp.index], detector.tile_size
    relative = detector.fusion.slice_relative(heat, scaled, inp.mask)
    cy, cx = np.unravel_index(int(np.argmax(full)), shape)
    y0 = int(np.clip(cy - t // 2, 0, max(0, shape[0] - t)))
    x0 = int(np.clip(cx - t // 2, 0, max(0, shape[1] - t)))
    # in the heatmap's score units (its threshold's); without a slice rule the highest tile is the score
    tile_scores = np.array([full[y:y + t, x:x + t].max(initial=0.0) * detector.fusion.threshold
                            for y, x in sroi.tiles], np.float32)
    maps = {name: _paste(m, inp, shape) for name, m in scaled.items()}
    threshold = detector.threshold
    # the AnoGAN scorer's paper score (summed over the slice's tiles), beside the fused map statistic
    paper = detector.slice_values(inp.index).get("anogan_paper", float("nan"))
    drawn = detector.expected(inp.index)
    expected = None if drawn is None else _paste(drawn, inp, shape)
    return SliceResult(inp.index, relative * threshold, relative, (y0, x0, y0 + t, x0 + t), list(sroi.boxes),
                       full, tile_scores, "fast", paper=paper, maps=maps, expected=expected)
