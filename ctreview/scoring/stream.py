"""Score a volume slice by slice, as a stream of :class:`SliceResult`.

``score_volume`` is a plain generator: it yields one result per slice with a
ROI (in ``hybrid`` mode first a ``"fast"`` result for every slice, then a
``"refined"`` one for the top slices, which supersedes it), checks
``should_stop`` between batches, and returns the run summary.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Generator

import numpy as np

from ctreview.model.anomaly import DEFAULT_STEPS, MODES, AnomalyModel, TileScores
from ctreview.results import SliceResult
from ctreview.scoring._batches import ScoredSlice, Settings, score_batch, slice_batches
from ctreview.scoring.contrast_pass import contrast_pass
from ctreview.scoring.stitch import stitch


def _results(volume_shape, roi, ks, counts, scored: TileScores, model: AnomalyModel, stage: str,
             mode: str) -> list[ScoredSlice]:
    thr = model.threshold_for(mode)
    paper_thr = model.meta.get("calibration", {}).get("fast" if mode == "fast" else "search", {}).get(
        "paper_threshold", float("nan"))
    out, start = [], 0
    t = model.tile_size
    for k, n in zip(ks, counts):
        sroi = roi.slices[k]
        sl = slice(start, start + n)
        start += n
        scores = scored.scores[sl]
        best = int(np.argmax(scores))
        y, x = sroi.tiles[best]
        heat = stitch(scored.maps[sl] / thr, sroi.tiles, volume_shape[1:], sroi.mask(volume_shape[1:]))
        paper = float(scored.paper[sl].max())
        out.append(ScoredSlice(k, float(scores[best]), float(scores[best]) / thr, (y, x, y + t, x + t),
                               list(sroi.boxes), heat, scores.astype(np.float32), stage,
                               paper, paper / paper_thr if paper_thr else float("nan")))
    return out


def score_volume(volume: Any, model: AnomalyModel, *, mode: str = "hybrid", roi: Any = None,
                 steps: int | None = None, lam: float = 0.1, top_k: int = 8,
                 refine_above: float | None = None, device: Any = None, batch_size: int = 64,
                 seed: int = 0, profile: Any = None,
                 should_stop: Callable[[], bool] | None = None) -> Generator[SliceResult, None, dict]:
    """Score every ROI slice of a volume.

    Parameters
    ----------
    volume : Volume or ndarray (z, y, x)
    model : AnomalyModel
    mode : str
        ``"fast"`` (encoder), ``"anogan"`` (latent search, ``steps`` default
        500) or ``"hybrid"`` (fast everywhere, then a search from E(x) with
        ``steps`` default 100 on the ``top_k`` slices and on every slice whose
        relative fast score is at least ``refine_above``).
    roi : RoiResult, optional
        Precomputed ROI; by default ``extract_roi(volume, profile or model.profile)``.
    device : ignored
        The model's device is used (pass ``device`` to ``load_model``); kept for the contract.
    should_stop : callable, optional
        Checked between batches (and every 10 search steps); when true the
        stream ends early and the summary says ``"cancelled": true``.

    Yields
    ------
    SliceResult
        (a :class:`ScoredSlice`); a later result for the same slice supersedes an earlier one.

    Returns
    -------
    dict
        Run summary: mode, settings, timings, device, thresholds, counts.
    """
    if mode not in MODES:
        from ctreview.errors import CtreviewError

        raise CtreviewError(None, f"unknown scoring mode {mode!r}; use one of {', '.join(MODES)}")
    cfg = Settings(mode, DEFAULT_STEPS[mode] if steps is None else int(steps), lam, int(top_k),
                    refine_above, batch_size, seed)
    t0 = time.perf_counter()
    if roi is None:
        from ctreview.roi import extract_roi

        roi = extract_roi(volume, profile or model.profile, tile_size=model.tile_size)
    state = {"timings": {"roi_s": time.perf_counter() - t0}, "cancelled": False, "tiles": 0,
             "first": {}, "refined": 0}
    first_mode = "fast" if mode == "hybrid" else mode
    one_pass = contrast_pass if model.statistic == "z-contrast" else _pass
    yield from one_pass(volume, roi, model, cfg, first_mode, None, state, should_stop)
    if mode == "hybrid" and not state["cancelled"]:
        chosen = _refine_targets(state["first"], cfg)
        yield from one_pass(volume, roi, model, cfg, "hybrid", chosen, state, should_stop)
    state["timings"]["total_s"] = time.perf_counter() - t0
    return _summary(volume, roi, model, cfg, state)


def _pass(volume, roi, model, cfg: Settings, mode: str, only: list[int] | None, state: dict,
          should_stop) -> Generator[SliceResult, None, None]:
    t0 = time.perf_counter()
    shape = tuple(volume.shape)
    for ks in slice_batches(roi, cfg.batch_size, only):
        if should_stop is not None and should_stop():
            state["cancelled"] = True
            break
        scored, counts = score_batch(volume, roi, model, cfg, ks, mode, only is not None, state, should_stop)
        stage = "refined" if only is not None else ("fast" if mode == "fast" else "anogan")
        start = 0
        for k, n, res in zip(ks, counts, _results(shape, roi, ks, counts, scored, model, stage, mode)):
            if only is None:
                state["first"][k] = (res.relative, scored.z[start:start + n])
                state["tiles"] += n
            else:
                state["refined"] += 1
            start += n
            yield res
    key = "refine_s" if only is not None else f"{mode}_s"
    state["timings"][key] = time.perf_counter() - t0


def _refine_targets(first: dict, cfg: Settings) -> list[int]:
    ranked = sorted(first, key=lambda k: first[k][0], reverse=True)
    chosen = set(ranked[: max(0, cfg.top_k)])
    if cfg.refine_above is not None:
        chosen |= {k for k in ranked if first[k][0] >= cfg.refine_above}
    return sorted(chosen)


def _summary(volume, roi, model: AnomalyModel, cfg: Settings, state: dict) -> dict:
    meta = model.meta
    return {
        "model": {"path": meta.get("_dir"), "name": meta.get("name"), "profile": model.profile,
                  "tile_size": model.tile_size, "created": meta.get("created")},
        "volume": {"path": str(getattr(volume, "path", None) or ""), "shape": list(volume.shape)},
        "mode": cfg.mode,
        "settings": {"steps": cfg.steps, "lam": cfg.lam, "top_k": cfg.top_k, "refine_above": cfg.refine_above,
                     "batch_size": cfg.batch_size, "seed": cfg.seed, "profile": getattr(roi.profile, "name", None),
                     "stride": getattr(roi, "stride", None)},
        "device": str(model.device),
        "threshold": model.threshold_for(cfg.mode if cfg.mode != "hybrid" else "fast"),
        "thresholds": {"fast": model.threshold_for("fast"), "search": model.threshold_for("anogan")},
        "statistic": model.statistic,
        "score": ("max over the ROI of the smoothed residual minus the median residual of the slices "
                  "a few steps away along z" if model.statistic == "z-contrast" else
                  "max over the slice's tiles of the per-pixel z-score of the smoothed residual"),
        "relative_score": "score / calibrated threshold of the stage's scoring family (1.0 = 1% of normal slices)",
        "heatmap_units": "relative (local score / threshold)",
        "timings": {k: round(v, 3) for k, v in state["timings"].items()},
        "counts": {"slices": int(volume.shape[0]), "roi_slices": len(roi.slices), "tiles": state["tiles"],
                   "scored_slices": len(state["first"]), "refined_slices": state["refined"]},
        "cancelled": state["cancelled"],
    }
