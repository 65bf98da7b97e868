"""Train a fused model (format 2): fit each scorer on normal data, calibrate all on held-out normal data.

Stages, each one a phase of :class:`~ctreview.training.TrainEvent`:

1. ``features``: the deep-feature model of normality is fitted on the fit slices;
2. ``head``: the defect head learns synthetic defects on normal tile stacks;
3. ``cond-gan`` / ``cond-encoder``: the context-conditioned AnoGAN and its encoder;
4. ``calibrate``: every scorer's threshold, then the fused one, on held-out normal slices.
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
from ctreview.scoring.inputs import SliceInputs
from ctreview.timestamps import now_iso
from ctreview.training.detector_settings import DetectorSettings
from ctreview.training.fusion_calibration import calibrate_fusion, fused_maxima, height_curves, held_out_maxima
from ctreview.training.normal_data import NormalVolume, gather_volumes, image_volume, split
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


def _fit_features(normals: list[NormalVolume], part: Part, s: DetectorSettings, window: tuple[float, float],
                  offsets: tuple[int, ...], should_stop: StopFlag | None) -> Generator[TrainEvent, None, Scorer]:
    from ctreview.model.features import build_feature_model
    from ctreview.model.scorers.features_scorer import FeatureScorer

    align = s.feature_align and bool(offsets)  # independent images have no pose to turn to
    settings = s.features if align else replace(s.features, rotations=())
    scorer = FeatureScorer(build_feature_model(settings), window, context=s.feature_context,
                           positions=s.features.position_window is not None, align=align)
    images, masks, positions = [], [], []
    total = sum(len(ks) for _, ks in part)
    for index, ks in part:
        build = SliceInputs(normals[index].volume, normals[index].roi, offsets)
        for k in ks:
            inp = build(k)
            images += scorer.images([inp])
            masks += scorer.masks([inp])   # in the frame the images were turned to
            positions.append(inp.position)
            if len(images) % 16 == 0:
                yield TrainEvent("features", 1, 1, len(images), total * 2)
    done: list[int] = []
    scorer.model.fit(images, masks, positions if scorer.positions else None,
                     progress=lambda d, t: done.append(d), should_stop=should_stop)
    yield TrainEvent("features", 1, 1, total * 2, total * 2, {"bank_bytes": float(scorer.model.nbytes)})
    return scorer


def _fit_head(normals: list[NormalVolume], part: Part, s: DetectorSettings, offsets: tuple[int, ...],
              should_stop: StopFlag | None) -> Generator[TrainEvent, None, Scorer]:
    from ctreview.model.scorers.head_scorer import HeadScorer
    from ctreview.training.context import concat_context, volume_context_tiles
    from ctreview.training.head_train import train_head

    sets = []
    for group, (index, ks) in enumerate(part):
        n = normals[index]
        tiles = volume_context_tiles(n.volume, n.roi, offsets, group=group)
        keep = np.isin(tiles.slices, ks)
        sets.append(type(tiles)(tiles.tiles[keep], tiles.masks[keep], tiles.slices[keep], tiles.positions[keep],
                                tiles.groups[keep], tiles.offsets))
    data = concat_context(sets)
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
    nets = [net.to(device) for net in (gan.generator, gan.discriminator, gan.encoder)]
    scorer = CondAnoganScorer(*nets, gan.window, offsets, steps=settings.search_steps)
    scorer.warnings = warnings
    return scorer


def _anogan_stacks(normals: list[NormalVolume], part: Part, offsets: tuple[int, ...], limit: int,
                   seed: int) -> np.ndarray:
    """Context tile stacks ``(n, 1 + K, T, T)`` of the fit slices, at most ``limit`` (a seeded sample)."""
    from ctreview.training.context import volume_context_tiles

    parts = []
    for group, (index, ks) in enumerate(part):
        n = normals[index]
        tiles = volume_context_tiles(n.volume, n.roi, offsets, group=group)
        parts.append(tiles.tiles[np.isin(tiles.slices, ks)])
    stacks = np.concatenate(parts) if parts else np.zeros((0, 1 + len(offsets), 1, 1), np.float32)
    if len(stacks) == 0:
        raise CtreviewError(None, "the normal slices have no ROI tiles for the AnoGAN")
    if len(stacks) > limit:  # the GAN sees iterations x batch stacks whatever the data; memory stays bounded
        stacks = stacks[np.sort(np.random.default_rng(seed).choice(len(stacks), limit, replace=False))]
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

    s = settings or DetectorSettings()
    t0 = time.perf_counter()
    out = Path(out)
    refuse_overwrite(out, force=force)  # before anything is read or written
    dev = pick_device(device)
    normals = [image_volume(list(inputs) if not isinstance(inputs, (str, Path)) else [inputs], profile,
                            s.tile_size)] if images else gather_volumes(inputs, profile, s.tile_size)
    layout = "images" if images else "volume"
    offsets = () if images else tuple(s.offsets)
    _refuse_little_data(normals, force)
    fit, held = split(normals, s.holdout, s.seed)
    window = _window(normals, fit, s.percentiles)
    out.mkdir(parents=True, exist_ok=True)
    scorers: dict[str, Scorer] = {}
    if "features" in s.scorers:
        scorers["features"] = yield from _fit_features(normals, fit, s, window, offsets, should_stop)
    if "head" in s.scorers:
        scorers["head"] = yield from _fit_head(normals, fit, s, offsets, should_stop)
    if "anogan" in s.scorers:
        scorers["anogan"] = yield from _fit_anogan(normals, fit, s, out, dev, profile, should_stop)
    prof_name = str(getattr(normals[0].roi.profile, "name", profile))
    detector = Detector(scorers, Fusion(rule=s.fusion, fpr=s.fpr), offsets=offsets, layout=layout,
                        profile=prof_name, tile_size=s.tile_size, device=dev)
    positions: list[float] = []
    maxima = yield from held_out_maxima(detector, normals, held, should_stop, positions)
    curves = height_curves(maxima, positions) if s.height_curves and layout == "volume" else {}
    detector.fusion = calibrate_fusion(maxima, None, rule=s.fusion, fpr=s.fpr, curves=curves, positions=positions)
    fused = yield from fused_maxima(detector, normals, held, should_stop)
    detector.fusion = calibrate_fusion(maxima, fused, rule=s.fusion, fpr=s.fpr, curves=curves, positions=positions)
    meta = _meta(s, normals, fit, held, prof_name, layout, maxima, fused, time.perf_counter() - t0, dev, name)
    meta["domain"] = _domain(normals, fit, detector, fused, prof_name, s)
    from ctreview.model.store import save_detector

    save_detector(detector, out, meta)
    yield TrainEvent("done", 1, 1, 1, 1)
    return out


MIN_SLICES = 16
"""Fewer normal slices than this cannot both fit the scorers and set their thresholds: refused unless forced."""


def _refuse_little_data(normals: list[NormalVolume], force: bool) -> None:
    n = sum(len(v.slices) for v in normals)
    what = "image" if normals[0].volume.layout == "images" else "slice"
    if n < MIN_SLICES and not force:
        raise CtreviewError(None, f"only {n} normal {what}{'s' if n != 1 else ''} with a ROI: a model needs at "
                                  f"least {MIN_SLICES} (some fit the scorers, the rest set the thresholds); "
                                  "add normal data, or train anyway with --force")


def _domain(normals: list[NormalVolume], fit: Part, detector: Detector, fused: list[float], profile: str,
            s: DetectorSettings) -> dict:
    """The training data's domain fingerprint (``model.json["domain"]``, see :mod:`ctreview.model.domain`)."""
    from ctreview.model.domain import training_fingerprint, volume_features

    features = [volume_features(normals[i].volume, normals[i].roi, slices=ks) for i, ks in fit]
    threshold = detector.fusion.threshold
    scores = {"fpr": s.fpr, "fast": {"threshold": threshold, "slice_score_quantiles": {
        q: float(np.quantile(fused, float(q))) for q in ("0.5", "0.9", "0.99")} if fused else {}}}
    return training_fingerprint(features, None, scores, profile=profile, tile_size=s.tile_size)


def _meta(s: DetectorSettings, normals: list[NormalVolume], fit: Part, held: Part, profile: str, layout: str,
          maxima: dict[str, list[float]], fused: list[float], seconds: float, dev: Any, name: str | None) -> dict:
    def quantiles(values: list[float]) -> dict:
        return {q: float(np.quantile(values, float(q))) for q in ("0.5", "0.9", "0.99")} if values else {}

    meta = {
        "created": now_iso("seconds"), "profile": profile, "layout": layout,
        "training": {**asdict(s), "device": str(dev), "seconds": round(seconds, 1), "engine": "fused"},
        "data": {"sources": [n.source for n in normals],
                 "fit": [{"source": normals[i].source, "slices": len(ks)} for i, ks in fit],
                 "calibration": [{"source": normals[i].source, "slices": len(ks)} for i, ks in held]},
        "calibration": {"held_out_slices": int(sum(len(ks) for _, ks in held)), "fpr": s.fpr,
                        "scorers": {k: quantiles(v) for k, v in maxima.items()}, "fused": quantiles(fused)},
    }
    if name:
        meta["name"] = name
    return meta
