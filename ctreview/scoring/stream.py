"""Score a volume slice by slice, as a stream of :class:`~ctreview.results.SliceResult`.

``score_volume`` is a plain generator: it yields one result per slice with
a ROI, from one pass of every scorer of the model (:mod:`ctreview.scoring.fused_pass`),
checks ``should_stop`` between batches, and returns a :class:`RunSummary`.
A scan finer than the model's working scale is binned around that one pass
(:func:`~ctreview.scoring.binning.expanded`).
"""
from __future__ import annotations

import time
from collections.abc import Generator

from ctreview.io import VolumeLike, as_volume, volume_fingerprint
from ctreview.model.detector import Detector
from ctreview.progress import StopFlag
from ctreview.results import SliceResult
from ctreview.roi import RoiResult
from ctreview.scoring._state import _ScoringState
from ctreview.scoring.binning import ModelScale, expanded, find_roi, model_scale
from ctreview.scoring.fused_pass import fused_pass
from ctreview.scoring.settings import ScoringSettings
from ctreview.scoring.summary import RunCounts, RunSummary

__all__ = ["find_roi", "score_volume", "summarise"]


def score_volume(volume: VolumeLike, model: Detector, settings: ScoringSettings | None = None, *,
                 roi: RoiResult | None = None, should_stop: StopFlag | None = None,
                 scale: ModelScale | None = None) -> Generator[SliceResult, None, RunSummary]:
    """Score every ROI slice of a volume.

    Parameters
    ----------
    volume : VolumeLike or ndarray, shape (z, y, x)
    model : Detector
        Any model :func:`~ctreview.model.load_model` loads (a format-1 AnoGAN
        is a fused model with one AnoGAN scorer).
    settings : ScoringSettings, optional
        The AnoGAN scorer's search depth, batch size, profile, binning; the defaults when None.
    roi : RoiResult, optional
        Precomputed ROI; by default :func:`find_roi`.
    should_stop : callable, optional
        Checked between batches (and inside the latent search); when true the
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
        yield from fused_pass(volume, roi, model, cfg, state, should_stop)
    else:
        state.timings["binned_roi_s"] = time.perf_counter() - t0 - state.timings["roi_s"]
        inner = _ScoringState()
        shape = (int(volume.shape[1]), int(volume.shape[2]))
        yield from expanded(fused_pass(scale.volume, scale.roi, model, cfg, inner, should_stop), roi, scale.factors,
                            shape, state, model.fusion.threshold)
        state.cancelled = inner.cancelled
        state.timings.update({f"binned_{k}": v for k, v in inner.timings.items()})
    state.timings["total_s"] = time.perf_counter() - t0
    summary = summarise(volume, roi, model, cfg, state, scale.factors)
    summary.volume["scale"] = scale.choice.line()
    return summary


def summarise(volume: VolumeLike, roi: RoiResult, model: Detector, cfg: ScoringSettings,
              state: _ScoringState, factors: tuple[int, int] = (1, 1)) -> RunSummary:
    """Build the run's summary from its state (``factors``: the ``(bz, bxy)`` binning it was scored at)."""
    meta = model.meta
    kinds = {"scorers": sorted(model.scorers), "fusion": model.fusion.rule}
    thresholds = {"fused": model.fusion.threshold, **model.fusion.scales}
    if model.fusion.slice_threshold is not None:
        thresholds["slice"] = model.fusion.slice_threshold
    return RunSummary(
        model={"path": meta.get("_dir"), "name": meta.get("name"), "profile": model.profile,
               "tile_size": model.tile_size, "created": meta.get("created"),
               "format_version": int(meta.get("format_version", 1)), **kinds},
        volume={"path": str(volume.path or ""), "fingerprint": volume_fingerprint(volume),
                "shape": [int(s) for s in volume.shape],
                "binning": [int(factors[0]), int(factors[1]), int(factors[1])]},
        settings=cfg,
        device=str(model.device),
        threshold=model.fusion.threshold,
        thresholds=thresholds,
        statistic=model.statistic,
        timings=dict(state.timings),
        counts=RunCounts(slices=int(volume.shape[0]), roi_slices=len(roi.slices), tiles=state.tiles,
                         scored_slices=len(state.latest),
                         above_threshold=state.above_threshold),
        cancelled=state.cancelled,
        layout=volume.layout,
        warnings=list(volume.warnings) + list(roi.warnings),
        images=[{"index": i, **entry, "scored_at": "own size"}
                for i, entry in enumerate(getattr(volume, "metadata", {}).get("images", []))]
        if volume.layout == "images" else [],
    )
