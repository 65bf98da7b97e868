"""Score a volume slice by slice, as a stream of :class:`~ctreview.results.SliceResult`.

``score_volume`` is a plain generator: it yields one result per slice with
a ROI (in ``hybrid`` mode first a ``"fast"`` result for every slice, then a
``"refined"`` one for the top slices, which supersedes it), checks
``should_stop`` between batches, and returns a :class:`RunSummary`.
"""
from __future__ import annotations

import time
from collections.abc import Generator

from ctreview.io import VolumeLike, as_volume, volume_fingerprint
from ctreview.model.anomaly import AnomalyModel
from ctreview.model.detector import Detector
from ctreview.progress import StopFlag
from ctreview.results import SliceResult
from ctreview.roi import RoiResult
from ctreview.scoring._state import _ScoringState
from ctreview.scoring.binning import ModelScale, expanded, find_roi, model_scale
from ctreview.scoring.contrast_pass import contrast_pass
from ctreview.scoring.fused_pass import fused_pass
from ctreview.scoring.settings import ScoringSettings
from ctreview.scoring.summary import RunCounts, RunSummary
from ctreview.scoring.tile_pass import tile_pass

__all__ = ["find_roi", "refine_targets", "score_volume", "summarise"]


def score_volume(volume: VolumeLike, model: AnomalyModel | Detector, settings: ScoringSettings | None = None, *,
                 roi: RoiResult | None = None, should_stop: StopFlag | None = None,
                 scale: ModelScale | None = None) -> Generator[SliceResult, None, RunSummary]:
    """Score every ROI slice of a volume.

    Parameters
    ----------
    volume : VolumeLike or ndarray, shape (z, y, x)
    model : Detector or AnomalyModel
        A fused model (format 2), or an AnoGAN of format 1 scored with the
        statistic it was calibrated with (z-contrast or per tile).
    settings : ScoringSettings, optional
        Mode, search steps, top-k and the rest; the defaults when None.
    roi : RoiResult, optional
        Precomputed ROI; by default :func:`find_roi`.
    should_stop : callable, optional
        Checked between batches (and every 10 search steps); when true the
        stream ends early and the summary says ``cancelled``.
    scale : ModelScale, optional
        The volume at the model's scale when already found (else
        :func:`~ctreview.scoring.binning.model_scale`); results are always
        of the full-resolution slices.

    Yields
    ------
    SliceResult
        A later result for the same slice supersedes an earlier one.

    Returns
    -------
    RunSummary
    """
    cfg = settings or ScoringSettings()
    volume = as_volume(volume)
    t0 = time.perf_counter()
    roi = roi if roi is not None else find_roi(volume, model, cfg)
    cfg = cfg.changed(profile=roi.profile.name)
    state = _ScoringState(timings={"roi_s": time.perf_counter() - t0})
    scale = scale if scale is not None else model_scale(volume, roi, model, cfg)
    if not scale.binned:
        yield from _passes(volume, roi, model, cfg, state, should_stop)
    else:
        state.timings["binned_roi_s"] = time.perf_counter() - t0 - state.timings["roi_s"]
        inner = _ScoringState()
        shape = (int(volume.shape[1]), int(volume.shape[2]))
        yield from expanded(_passes(scale.volume, scale.roi, model, cfg, inner, should_stop), roi, scale.factors,
                            shape, state)
        state.cancelled = inner.cancelled
        state.timings.update({f"binned_{k}": v for k, v in inner.timings.items()})
    state.timings["total_s"] = time.perf_counter() - t0
    summary = summarise(volume, roi, model, cfg, state, scale.factors)
    summary.volume["scale"] = scale.choice.line()
    return summary


def _passes(volume: VolumeLike, roi: RoiResult, model: AnomalyModel | Detector, cfg: ScoringSettings,
            state: _ScoringState, should_stop: StopFlag | None) -> Generator[SliceResult, None, None]:
    """The scoring passes over a volume at the model's scale."""
    if isinstance(model, Detector):
        yield from fused_pass(volume, roi, model, cfg, state, should_stop)
        return
    first_mode = "fast" if cfg.mode == "hybrid" else cfg.mode
    one_pass = contrast_pass if model.statistic == "z-contrast" else tile_pass
    yield from one_pass(volume, roi, model, cfg, first_mode, None, state, should_stop)
    if cfg.mode == "hybrid" and not state.cancelled:
        chosen = refine_targets(state, cfg)
        yield from one_pass(volume, roi, model, cfg, "hybrid", chosen, state, should_stop)


def refine_targets(state: _ScoringState, cfg: ScoringSettings) -> list[int]:
    """The slices hybrid refines: the ``top_k`` first-pass scores, and any above ``refine_above``."""
    first = state.first
    ranked = sorted(first, key=lambda k: first[k][0], reverse=True)
    chosen = set(ranked[: max(0, cfg.top_k)])
    if cfg.refine_above is not None:
        chosen |= {k for k in ranked if first[k][0] >= cfg.refine_above}
    return sorted(chosen)


def summarise(volume: VolumeLike, roi: RoiResult, model: AnomalyModel | Detector, cfg: ScoringSettings,
              state: _ScoringState, factors: tuple[int, int] = (1, 1)) -> RunSummary:
    """Build the run's summary from its state (``factors``: the ``(bz, bxy)`` binning it was scored at)."""
    meta = model.meta
    if isinstance(model, Detector):
        kinds: dict = {"scorers": sorted(model.scorers), "fusion": model.fusion.rule}
        thresholds = {"fused": model.fusion.threshold, **model.fusion.scales}
        if model.fusion.slice_threshold is not None:
            thresholds["slice"] = model.fusion.slice_threshold
    else:
        kinds = {"scorers": ["anogan"], "fusion": None}
        thresholds = {"fast": model.threshold_for("fast"), "search": model.threshold_for("anogan")}
    return RunSummary(
        model={"path": meta.get("_dir"), "name": meta.get("name"), "profile": model.profile,
               "tile_size": model.tile_size, "created": meta.get("created"),
               "format_version": int(meta.get("format_version", 1)), **kinds},
        volume={"path": str(volume.path or ""), "fingerprint": volume_fingerprint(volume),
                "shape": [int(s) for s in volume.shape],
                "binning": [int(factors[0]), int(factors[1]), int(factors[1])]},
        settings=cfg,
        device=str(model.device),
        threshold=model.threshold_for(cfg.mode if cfg.mode != "hybrid" else "fast"),
        thresholds=thresholds,
        statistic=model.statistic,
        timings=dict(state.timings),
        counts=RunCounts(slices=int(volume.shape[0]), roi_slices=len(roi.slices), tiles=state.tiles,
                         scored_slices=len(state.first), refined_slices=state.refined,
                         above_threshold=state.above_threshold),
        cancelled=state.cancelled,
        layout=volume.layout,
        warnings=list(volume.warnings) + list(roi.warnings),
        images=[{"index": i, **entry, "scored_at": "own size"}
                for i, entry in enumerate(getattr(volume, "metadata", {}).get("images", []))]
        if volume.layout == "images" else [],
    )
