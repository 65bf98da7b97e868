"""The scoring pass of a model calibrated per tile position (no z-contrast).

Kept for models trained from tiles alone (a training set, an array), which
have no whole normal volumes to calibrate a z-contrast on.
"""
from __future__ import annotations

import time
from collections.abc import Generator

import numpy as np

from ctreview.io import VolumeLike
from ctreview.model.anomaly import AnomalyModel, TileScores, calibration_key
from ctreview.progress import StopFlag
from ctreview.results import SliceResult
from ctreview.roi import RoiResult
from ctreview.roi.stitch import stitch
from ctreview.scoring._batches import score_batch, slice_batches
from ctreview.scoring._state import _ScoringState
from ctreview.scoring.settings import ScoringSettings


def tile_pass(volume: VolumeLike, roi: RoiResult, model: AnomalyModel, cfg: ScoringSettings, mode: str,
              only: list[int] | None, state: _ScoringState,
              should_stop: StopFlag | None) -> Generator[SliceResult, None, None]:
    """Score the ROI slices (or ``only`` those, refining) by the per-tile z-score statistic."""
    t0 = time.perf_counter()
    stage = "refined" if only is not None else ("fast" if mode == "fast" else "anogan")
    for ks in slice_batches(roi, cfg.batch_size, only):
        if should_stop is not None and should_stop():
            state.cancelled = True
            break
        scored, counts = score_batch(volume, roi, model, cfg, ks, mode, only is not None, state, should_stop)
        start = 0
        for k, n in zip(ks, counts):
            result = _result(volume.shape, roi, k, slice(start, start + n), scored, model, stage, mode)
            state.note(result, scored.z[start:start + n], first_pass=only is None)
            if only is None:
                state.tiles += n
            start += n
            yield result
    state.timings["refine_s" if only is not None else f"{mode}_s"] = time.perf_counter() - t0


def _result(shape: tuple[int, int, int], roi: RoiResult, k: int, part: slice, scored: TileScores,
            model: AnomalyModel, stage: str, mode: str) -> SliceResult:
    thr = model.threshold_for(mode)
    paper_thr = model.meta.get("calibration", {}).get(calibration_key(mode), {}).get(
        "paper_threshold", float("nan"))
    sroi, t = roi.slices[k], model.tile_size
    scores = scored.scores[part]
    best = int(np.argmax(scores))
    y, x = sroi.tiles[best]
    heat = stitch(scored.maps[part] / thr, sroi.tiles, shape[1:], sroi.mask(shape[1:]))
    paper = float(scored.paper[part].max())
    return SliceResult(k, float(scores[best]), float(scores[best]) / thr, (y, x, y + t, x + t),
                       list(sroi.boxes), heat, scores.astype(np.float32), stage,
                       paper, paper / paper_thr if paper_thr else float("nan"))
