"""The scoring passes of a model calibrated for z-contrast (see :mod:`ctreview.scoring.contrast`)."""
from __future__ import annotations

import time
from collections.abc import Generator

import numpy as np

from ctreview.io import VolumeLike
from ctreview.model.anomaly import AnomalyModel, calibration_key
from ctreview.progress import StopFlag
from ctreview.results import SliceResult
from ctreview.roi import RoiResult
from ctreview.roi.stitch import stitch
from ctreview.scoring._batches import score_batch, slice_batches, tiles_of
from ctreview.scoring._state import _ScoringState
from ctreview.scoring.contrast import ContrastWindow, neighbours, z_contrast
from ctreview.scoring.settings import ScoringSettings


def contrast_pass(volume: VolumeLike, roi: RoiResult, model: AnomalyModel, cfg: ScoringSettings, mode: str,
                  only: list[int] | None, state: _ScoringState,
                  should_stop: StopFlag | None) -> Generator[SliceResult, None, None]:
    """Score the ROI slices (or, refining, ``only`` those) by z-contrast.

    First pass: a slice's result waits until the slices ``reach`` above it
    are scored. Refinement: the chosen slices' searched residuals are
    compared with their neighbours' ``fast`` residuals, as at calibration.
    """
    t0 = time.perf_counter()
    shape = volume.shape
    cal = model.meta["calibration"]["contrast"]
    scored_slices = [k for k, sroi in roi.slices.items() if sroi.tiles]
    window = ContrastWindow(scored_slices, int(cal.get("gap", cfg.gap)), int(cal.get("reach", cfg.reach)))
    held: dict[int, tuple[float, np.ndarray]] = {}
    stage = "refined" if only is not None else ("fast" if mode == "fast" else "anogan")
    emit = _Emitter(roi, model, mode, stage, state)
    for ks in slice_batches(roi, cfg.batch_size, only):
        if should_stop is not None and should_stop():
            state.cancelled = True
            break
        scored, counts = score_batch(volume, roi, model, cfg, ks, mode, only is not None, state, should_stop)
        raw = model.raw_maps(scored.extra["local"]).cpu().numpy()
        near = _fast_neighbour_maps(window, volume, roi, model, cfg, ks) if only is not None else {}
        start = 0
        for k, n in zip(ks, counts):
            part = slice(start, start + n)
            residual = stitch(raw[part], roi.slices[k].tiles, (shape[1], shape[2]), None, sigma=0.0)
            held[k] = (float(scored.paper[part].max()), scored.z[part])
            start += n
            if only is None:
                state.tiles += n
                window.add(k, residual)
            else:
                others = [near[j] for j in neighbours(k, window.roi_slices, window.gap, window.reach)]
                yield emit(k, z_contrast(residual, others, roi.slices[k].mask((shape[1], shape[2]))), held.pop(k))
        for k in window.ready():
            yield emit(k, window.contrast(k, roi.slices[k].mask((shape[1], shape[2]))), held.pop(k))
        window.forget()
    for k in window.ready(final=True):  # the last slices, or all that were scored before a cancel
        yield emit(k, window.contrast(k, roi.slices[k].mask((shape[1], shape[2]))), held.pop(k))
    state.timings["refine_s" if only is not None else f"{mode}_s"] = time.perf_counter() - t0


def _fast_neighbour_maps(window: ContrastWindow, volume: VolumeLike, roi: RoiResult, model: AnomalyModel,
                         cfg: ScoringSettings, ks: list[int]) -> dict[int, np.ndarray]:
    """Return the ``fast`` residual maps ``(y, x)`` of the neighbours of slices ``ks``."""
    near = sorted({j for k in ks for j in neighbours(k, window.roi_slices, window.gap, window.reach)})
    if not near:
        return {}
    tiles, counts = tiles_of(volume, roi, near, model.tile_size)
    scored = model.score_tiles(tiles, "fast", batch_size=max(cfg.batch_size, len(tiles)))
    raw = model.raw_maps(scored.extra["local"]).cpu().numpy()
    maps, start = {}, 0
    for j, n in zip(near, counts):
        maps[j] = stitch(raw[start:start + n], roi.slices[j].tiles, (volume.shape[1], volume.shape[2]), None, sigma=0.0)
        start += n
    return maps


class _Emitter:
    """Turn a slice's z-contrast map into its :class:`SliceResult` and note it in the run state."""

    def __init__(self, roi: RoiResult, model: AnomalyModel, mode: str, stage: str, state: _ScoringState) -> None:
        self.roi, self.stage, self.state, self.t = roi, stage, state, model.tile_size
        self.thr = model.threshold_for(mode)
        cal = model.meta.get("calibration", {}).get(calibration_key(mode), {})
        self.paper_thr = cal.get("paper_threshold", float("nan"))

    def __call__(self, k: int, heat: np.ndarray, held: tuple[float, np.ndarray]) -> SliceResult:
        sroi, t = self.roi.slices[k], self.t
        tile_scores = np.array([heat[y:y + t, x:x + t].max(initial=0.0) for y, x in sroi.tiles], np.float32)
        best = int(np.argmax(tile_scores))
        y, x = sroi.tiles[best]
        score = float(tile_scores[best])
        paper, z = held
        result = SliceResult(k, score, score / self.thr, (y, x, y + t, x + t), list(sroi.boxes),
                             heat / self.thr, tile_scores, self.stage, paper,
                             paper / self.paper_thr if self.paper_thr else float("nan"))
        self.state.note(result, z, first_pass=self.stage != "refined")
        return result
