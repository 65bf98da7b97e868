"""Train a fused model (format 2): fit each scorer on normal data, calibrate all on held-out normal data.

Stages, each one a phase of :class:`~ctreview.training.TrainEvent`:

1. ``features``: the deep-feature model of normality is fitted on the fit slices;
2. ``head``: the defect head learns synthetic defects on normal tile stacks;
3. ``cond-gan`` / ``cond-encoder``: the context-conditioned AnoGAN and its encoder;
4. ``atlas``: the normal volumes registered into an atlas (only when asked for);
5. ``calibrate``: every scorer's threshold, then the fused one, on held-out normal slices.
"""
from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from ctreview.errors import CtreviewError
from ctreview.model.detector import Detector, Fusion
from ctreview.model.device import pick_device
from ctreview.model.scorer import Scorer
from ctreview.progress import StopFlag
from ctreview.timestamps import now_iso
from ctreview.training._staging import staged
from ctreview.training.detector_settings import DetectorSettings
from ctreview.training.fit_features import fit_features
from ctreview.training.fusion_calibration import (
    FusedMaxima,
    calibrate_fusion,
    fused_maxima,
    height_curves,
    held_out_maxima,
)
from ctreview.training.memory import within_budget
from ctreview.training.normal_data import NormalVolume, gather_volumes, image_volume, split
from ctreview.training.scale import to_working_scale
from ctreview.training.settings import TrainEvent

Part = list[tuple[int, list[int]]]


def _window(normals: list[NormalVolume], part: Part, percentiles: tuple[float, float]) -> tuple[float, float]:
    """Grey-value window from the ROI pixels of the fit slices (a sample of them)."""
    values = []
    for index, ks in part:
        n = normals[index]
        for k in ks[:: max(1, len(ks) // 16)]:
            values.append(np.asarray(n.volume.slice(k), np.float32)[n.roi.slices[k].mask(n.volume.shape[1:])])
    sample = np.concatenate(values) if values else np.zeros(0, np.float32)
    if sample.size == 0:
        raise CtreviewError(None, "the normal slices have no ROI pixels")
    lo, hi = (float(v) for v in np.percentile(sample, percentiles))
    if not hi > lo:
        raise CtreviewError(None, "the normal data are constant inside the ROI: no intensity window can be fitted")
    return lo, hi


def _fit_head(normals: list[NormalVolume], part: Part, s: DetectorSettings, offsets: tuple[int, ...],
              should_stop: StopFlag | None) -> Generator[TrainEvent, None, Scorer]:
    from ctreview.model.scorers.head_scorer import HeadScorer
    from ctreview.training.context import concat_context, volume_context_tiles
    from ctreview.training.head_train import train_head

    quota = max(1, s.head.max_tiles // max(1, len(part)))  # the same share of tiles from every volume
    data = concat_context([volume_context_tiles(normals[index].volume, normals[index].roi, offsets, group=group,
                                                centres=ks, limit=quota, seed=s.seed + group)
                           for group, (index, ks) in enumerate(part)])
    stream = train_head(data, s.head, should_stop=should_stop)
    while True:
        try:
            step = next(stream)
        except StopIteration as stop:
            result = stop.value
            break
        losses = {k: v for k, v in step.losses.items() if k != "iteration"}
        yield TrainEvent("head", 1, 1, step.iteration, step.total, losses)
    return HeadScorer(result.model)


def _fit_anogan(normals: list[NormalVolume], part: Part, s: DetectorSettings, out: Path, device: Any,
                profile: Any, should_stop: StopFlag | None) -> Generator[TrainEvent, None, Scorer]:
    """Train the context-conditioned AnoGAN (G, D, then the izi_f encoder) on the fit slices' tile stacks.

    Phases ``cond-gan`` and ``cond-encoder``; a collapse warning is logged and
    kept in the scorer's config (``warnings``). Independent images (no
    context along z) train the same networks with no context channels.
    ``out`` and ``profile`` are not needed (the family keeps no checkpoint).
    """
    from ctreview.model.scorers.cond_anogan_scorer import CondAnoganScorer
    from ctreview.training.cond_gan import GanWarning, iter_train_cond_gan

    offsets = () if normals[0].volume.layout == "images" else tuple(s.offsets)
    settings = replace(s.anogan, tile_size=s.tile_size)
    stacks = _anogan_stacks(normals, part, offsets, settings.max_tiles, settings.seed)
    stream = iter_train_cond_gan(stacks, settings, should_stop=should_stop)
    warnings: list[str] = []
    while True:
        try:
            event = next(stream)
        except StopIteration as stop:
            gan = stop.value
            break
        if isinstance(event, GanWarning):
            warnings.append(event.message)
        else:
            yield event
    scorer = CondAnoganScorer(gan.generator.to(device), gan.discriminator.to(device), gan.encoder.to(device),
                              gan.window, offsets, steps=settings.search_steps)
    scorer.warnings = warnings
    return scorer


def _anogan_stacks(normals: list[NormalVolume], part: Part, offsets: tuple[int, ...], limit: int,
                   seed: int) -> np.ndarray:
    """Context tile stacks ``(n, 1 + K, T, T)`` of the fit slices, at most ``limit`` (a seeded sample)."""
    from ctreview.training.context import volume_context_tiles

    quota = max(1, limit // max(1, len(part)))  # the same share from every volume, only its slices read
    parts = [volume_context_tiles(normals[index].volume, normals[index].roi, offsets, group=group, centres=ks,
                                  limit=quota, seed=seed + group).tiles for group, (index, ks) in enumerate(part)]
    stacks = np.concatenate(parts) if parts else np.zeros((0, 1 + len(offsets), 1, 1), np.float32)
    if len(stacks) == 0:
        raise CtreviewError(None, "the normal slices have no ROI tiles for the AnoGAN")
    return stacks


def iter_train_detector(inputs: Any, out: str | Path, settings: DetectorSettings | None = None, *,
                        profile: Any = "whole-part", device: str = "auto", name: str | None = None,
                        images: bool = False, force: bool = False,
                        should_stop: StopFlag | None = None) -> Generator[TrainEvent, None, Path]:
    """Train a fused model on normal data and write it to the folder ``out``.

    Parameters
    ----------
    inputs : path, Volume, ndarray or a list of them
        Normal volumes (see :mod:`ctreview.training.normal_data`), or image
        files and folders with ``images=True``.
    out : path
        Model folder (``model.json``, ``weights.safetensors``).
    settings : DetectorSettings, optional
    profile : str or Profile
        ROI profile (``whole-image`` suits images without air around the part).
    images : bool
        Every file (or page) is an independent image: no context along z.
    force : bool
        Replace a model already in ``out``, and train on fewer than
        :data:`MIN_SLICES` normal slices; both are refused otherwise.

    Yields
    ------
    TrainEvent
        Phases ``features``, ``head``, ``cond-gan``/``cond-encoder``, ``calibrate``, ``done``.

    Returns
    -------
    Path
    """
    from ctreview.model.meta import refuse_overwrite
    from ctreview.model.store import save_detector

    s = within_budget(settings or DetectorSettings())
    t0 = time.perf_counter()
    out = Path(out)
    refuse_overwrite(out, force=force)  # before anything is read or written
    dev = pick_device(device)
    normals = [image_volume(list(inputs) if not isinstance(inputs, (str, Path)) else [inputs], profile,
                            s.tile_size)] if images else gather_volumes(inputs, profile, s.tile_size)
    layout = "images" if images else "volume"
    offsets = () if images else tuple(s.offsets)
    normals, scale, line = to_working_scale(normals, max_side=s.max_side, forced=s.binning, tile_size=s.tile_size)
    yield TrainEvent("scale", 1, 1, 1, 1, note=line)
    _refuse_little_data(normals, force)
    fit, held = split(normals, s.holdout, s.seed)
    if "atlas" in s.scorers:  # refused before minutes of fitting the other scorers
        from ctreview.training.atlas_fit import atlas_volumes

        atlas_volumes(normals, fit, held)
    window = _window(normals, fit, s.percentiles)
    prof_name = str(getattr(normals[0].roi.profile, "name", profile))
    with staged(out) as work:  # an error, a cancel or Ctrl+C leaves no half-made model in ``out``
        scorers = yield from _fit_scorers(normals, fit, s, window, offsets, work, dev, profile, should_stop, held)
        detector = Detector(scorers, Fusion(rule=s.fusion, fpr=s.fpr), offsets=offsets, layout=layout,
                            profile=prof_name, tile_size=s.tile_size, device=dev)
        maxima, fused = yield from _calibrate(detector, normals, held, s, layout, should_stop)
        meta = _meta(s, normals, fit, held, prof_name, layout, maxima, fused, time.perf_counter() - t0, dev,
                     name or out.name)
        meta["domain"] = _domain(normals, fit, detector, fused, prof_name, s)
        if scale is not None:
            meta["scale"] = {**scale.to_json(), "line": line}
        save_detector(detector, work, meta)
    yield TrainEvent("done", 1, 1, 1, 1)
    return out


def _fit_scorers(normals: list[NormalVolume], fit: Part, s: DetectorSettings, window: tuple[float, float],
                 offsets: tuple[int, ...], work: Path, dev: Any, profile: Any,
                 should_stop: StopFlag | None, held: Part) -> Generator[TrainEvent, None, dict[str, Scorer]]:
    """Fit every scorer family the settings name on the fit slices (the atlas also measures ``held``)."""
    scorers: dict[str, Scorer] = {}
    if "features" in s.scorers:
        scorers["features"] = yield from fit_features(normals, fit, s, window, offsets, should_stop)
    if "head" in s.scorers:
        scorers["head"] = yield from _fit_head(normals, fit, s, offsets, should_stop)
    if "anogan" in s.scorers:
        scorers["anogan"] = yield from _fit_anogan(normals, fit, s, work, dev, profile, should_stop)
    if "atlas" in s.scorers:
        from ctreview.training.atlas_fit import fit_atlas

        scorers["atlas"] = yield from fit_atlas(normals, fit, held, s.atlas, should_stop)
    return scorers


def _calibrate(detector: Detector, normals: list[NormalVolume], held: Part, s: DetectorSettings, layout: str,
               should_stop: StopFlag | None
               ) -> Generator[TrainEvent, None, tuple[dict[str, list[float]], FusedMaxima]]:
    """Set every scorer's threshold, then the heatmap's and the slice score's, on the held-out normal slices."""
    positions: list[float] = []
    maxima = yield from held_out_maxima(detector, normals, held, should_stop, positions)
    curves = height_curves(maxima, positions) if s.height_curves and layout == "volume" else {}

    def calibrated(fused: FusedMaxima | None) -> Fusion:
        return calibrate_fusion(maxima, fused, rule=s.fusion, fpr=s.fpr, curves=curves, positions=positions,
                                weights=dict(s.fusion_weights), slice_top=s.slice_top,
                                slice_weights=None if s.slice_weights is None else dict(s.slice_weights))

    detector.fusion = calibrated(None)  # the scales first: the fused maps are made of the scaled ones
    fused = yield from fused_maxima(detector, normals, held, should_stop)
    detector.fusion = calibrated(fused)
    return maxima, fused


MIN_SLICES = 16
"""Fewer normal slices than this cannot both fit the scorers and set their thresholds: refused unless forced."""


def _refuse_little_data(normals: list[NormalVolume], force: bool) -> None:
    n = sum(len(v.slices) for v in normals)
    what = "image" if normals[0].volume.layout == "images" else "slice"
    if n < MIN_SLICES and not force:
        raise CtreviewError(None, f"only {n} normal {what}{'s' if n != 1 else ''} with a ROI: a model needs at "
                                  f"least {MIN_SLICES} (some fit the scorers, the rest set the thresholds); "
                                  "add normal data, or train anyway with --force")


def _domain(normals: list[NormalVolume], fit: Part, detector: Detector, fused: FusedMaxima, profile: str,
            s: DetectorSettings) -> dict:
    """The training data's domain fingerprint (``model.json["domain"]``, see :mod:`ctreview.model.domain`).

    The normal slices left out of ``fit`` (the held-out ones the thresholds
    came from) set its tolerances: they are unseen normal data, as the
    volumes it will judge.
    """
    from ctreview.model.domain import training_fingerprint, volume_features

    fitted = {i: set(ks) for i, ks in fit}
    held = [(i, [k for k in n.slices if k not in fitted.get(i, set())]) for i, n in enumerate(normals)]
    features = [volume_features(normals[i].volume, normals[i].roi, slices=ks) for i, ks in fit]
    held_out = [volume_features(normals[i].volume, normals[i].roi, slices=ks) for i, ks in held if ks]
    threshold = detector.threshold  # the slice score's: the normal slices' relative scores are what is kept
    scores = {"fpr": s.fpr, "fast": {"threshold": threshold, "slice_score_quantiles": {
        q: float(np.quantile(fused.slice, float(q))) for q in ("0.5", "0.9", "0.99")} if fused.slice else {}}}
    window = getattr(detector.scorers.get("features"), "window", None)
    return training_fingerprint(features, None, scores, profile=profile, tile_size=s.tile_size, held=held_out,
                                window=window)


def _threads(dev: Any) -> int | None:
    """The torch CPU threads a run on ``dev`` computes with (None on an accelerator)."""
    import torch

    return int(torch.get_num_threads()) if getattr(dev, "type", str(dev)) == "cpu" else None


def _meta(s: DetectorSettings, normals: list[NormalVolume], fit: Part, held: Part, profile: str, layout: str,
          maxima: dict[str, list[float]], fused: FusedMaxima, seconds: float, dev: Any, name: str | None) -> dict:
    def quantiles(values: list[float]) -> dict:
        return {q: float(np.quantile(values, float(q))) for q in ("0.5", "0.9", "0.99")} if values else {}

    meta = {
        "created": now_iso("seconds"), "profile": profile, "layout": layout,
        # the CPU threads too: the head's training takes another path with another thread count (its
        # float sums add up in another order), and on the dev capacitor that alone moved its slice AUROC
        # from 0.71 to 0.90 (bench/results/head-regression.md); a figure is reproduced with the same count
        "training": {**asdict(s), "device": str(dev), "threads": _threads(dev), "seconds": round(seconds, 1),
                     "engine": "fused"},
        "data": {"sources": [n.source for n in normals],
                 "fit": [{"source": normals[i].source, "slices": len(ks)} for i, ks in fit],
                 "calibration": [{"source": normals[i].source, "slices": len(ks)} for i, ks in held]},
        "calibration": {"held_out_slices": int(sum(len(ks) for _, ks in held)), "fpr": s.fpr,
                        "scorers": {k: quantiles(v) for k, v in maxima.items()}, "fused": quantiles(fused.heat),
                        "slice": quantiles(fused.slice)},
    }
    if name:
        meta["name"] = name
    return meta
