"""Set a fused model's thresholds on held-out normal slices (never the ones it was fitted on).

Every scorer's raw maps are computed on the held-out slices; a scorer's
scale is the slice maximum that only a share ``fpr`` of those slices reach
(1 %), the fused map (scaled maps, fused) gets its own threshold the same
way. So each threshold lets through about ``fpr`` of normal slices the
model never saw.
"""
from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field

import numpy as np

from ctreview.model.detector import CURVE_POSITIONS, Detector, Fusion
from ctreview.progress import StopFlag
from ctreview.scoring.inputs import SliceInputs
from ctreview.training.normal_data import NormalVolume
from ctreview.training.settings import TrainEvent

BATCH = 8


def cutoff(values: Sequence[float], fpr: float) -> float:
    """The value that ``ceil(fpr * n)`` of ``values`` reach (at least one); 1.0 when there are none.

    Fewer than ``1 / fpr`` values cannot show the level that one normal slice in ``1 / fpr`` reaches: their
    maximum is a lower quantile (the 0.83 quantile of six slices), so a scan trained on one short scan
    flagged its own slices. There the level is extrapolated from the upper half of the values with an
    exponential tail (median + mean excess over it x ln(0.5 / fpr)), never below the maximum.
    """
    if not len(values):
        return 1.0
    ranked = sorted(values, reverse=True)
    value = float(ranked[min(len(ranked), max(1, math.ceil(fpr * len(ranked)))) - 1])
    if len(ranked) * fpr < 1 and len(ranked) >= 3:
        v = np.asarray(ranked, np.float64)
        middle = float(np.median(v))
        excess = v[v > middle] - middle
        if excess.size:
            value = max(value, middle + float(excess.mean()) * math.log(0.5 / fpr))
    return value if value > 0 else 1.0


def height_curves(maxima: dict[str, list[float]], positions: Sequence[float], *, bandwidth: float = 0.08,
                  quantile: float = 0.75) -> dict[str, list[float]]:
    """Each scorer's normal level along the part's height, at :data:`CURVE_POSITIONS` (median 1).

    The level at a height is a kernel-weighted quantile of the held-out normal
    slice maxima near that height (a Gaussian of ``bandwidth`` in part heights),
    so a few slices per height suffice; it is kept within [0.5, 4] of the median.
    """
    pos = np.asarray(positions, float)
    curves = {}
    for name, values in maxima.items():
        v = np.asarray(values, float)
        if v.size < 8:
            continue
        levels = []
        for g in CURVE_POSITIONS:
            w = np.exp(-0.5 * ((pos - g) / bandwidth) ** 2)
            order = np.argsort(v)
            cum = np.cumsum(w[order])
            levels.append(float(v[order][np.searchsorted(cum, quantile * cum[-1])]))
        levels_arr = np.asarray(levels)
        mid = float(np.median(levels_arr)) or 1.0
        curves[name] = [round(float(x), 4) for x in np.clip(levels_arr / mid, 0.5, 4.0)]
    return curves


def held_out_maxima(detector: Detector, normals: list[NormalVolume], held: list[tuple[int, list[int]]],
                    should_stop: StopFlag | None = None,
                    positions: list[float] | None = None) -> Generator[TrainEvent, None, dict[str, list[float]]]:
    """Each scorer's slice maxima (inside the ROI) over the held-out normal slices (raw, unscaled).

    ``positions``, when given, gets each slice's height in the part, in the same order.
    """
    from ctreview.errors import Cancelled

    total = sum(len(ks) for _, ks in held)
    maxima: dict[str, list[float]] = {name: [] for name in detector.scorers}
    done = 0
    for index, ks in held:
        build = SliceInputs(normals[index].volume, normals[index].roi, detector.offsets)
        detector.prepare(normals[index].volume, normals[index].roi)  # the atlas registers each volume once
        for start in range(0, len(ks), BATCH):
            if should_stop is not None and should_stop():
                raise Cancelled("calibration stopped")
            inputs = [build(k) for k in ks[start:start + BATCH]]
            for name, maps in detector.raw_maps(inputs).items():
                maxima[name] += [float(np.max(m[i.mask], initial=0.0)) for m, i in zip(maps, inputs)]
            if positions is not None:
                positions += [i.position for i in inputs]
            done += len(inputs)
            yield TrainEvent("calibrate", 1, 1, done, total)
    return maxima


def calibrate_fusion(maxima: dict[str, list[float]], fused: FusedMaxima | None, *, rule: str, fpr: float,
                     curves: dict[str, list[float]] | None = None, positions: Sequence[float] | None = None,
                     weights: dict[str, float] | None = None, slice_weights: dict[str, float] | None = None,
                     slice_top: int = 1) -> Fusion:
    """Build the :class:`Fusion` from held-out slice maxima (``fused`` from a first pass, else thresholds 1).

    With ``curves`` each scorer's maxima are first divided by its normal level
    at the slice's height (``positions``), as scoring will. ``slice_weights``
    and ``slice_top`` are the slice score's rule (see :class:`Fusion`).
    """
    probe = Fusion(rule=rule, curves=dict(curves or {}))
    scales = {}
    for name, values in maxima.items():
        levels = [probe.level(name, p) for p in positions] if positions is not None else [1.0] * len(values)
        scales[name] = cutoff([v / lv for v, lv in zip(values, levels)], fpr)
    n = len(next(iter(maxima.values()), []))
    return Fusion(rule=rule, scales=scales, threshold=cutoff(fused.heat, fpr) if fused else 1.0,
                  fpr=fpr, normal_slices=n, curves=dict(curves or {}),
                  weights={k: float(v) for k, v in (weights or {}).items() if k in maxima},
                  slice_weights=None if slice_weights is None else
                  {k: float(v) for k, v in slice_weights.items() if k in maxima},
                  slice_top=int(slice_top), slice_threshold=cutoff(fused.slice, fpr) if fused else 1.0)


@dataclass
class FusedMaxima:
    """The fused model's statistics on the held-out normal slices, before their own thresholds.

    Attributes
    ----------
    heat : list of float
        Each slice's heatmap maximum (inside the ROI).
    slice : list of float
        Each slice's score by the slice rule.
    """

    heat: list[float] = field(default_factory=list)
    slice: list[float] = field(default_factory=list)


def fused_maxima(detector: Detector, normals: list[NormalVolume], held: list[tuple[int, list[int]]],
                 should_stop: StopFlag | None = None) -> Generator[TrainEvent, None, FusedMaxima]:
    """The fused heatmap's maxima and the slice scores (before their thresholds) on the held-out slices."""
    fusion = detector.fusion
    saved = fusion.threshold, fusion.slice_threshold
    fusion.threshold, fusion.slice_threshold = 1.0, 1.0
    out = FusedMaxima()
    try:
        total = sum(len(ks) for _, ks in held)
        for index, ks in held:
            build = SliceInputs(normals[index].volume, normals[index].roi, detector.offsets)
            detector.prepare(normals[index].volume, normals[index].roi)
            for start in range(0, len(ks), BATCH):
                inputs = [build(k) for k in ks[start:start + BATCH]]
                for (heat, scaled), i in zip(detector.score(inputs), inputs):
                    out.heat.append(float(np.max(heat[i.mask], initial=0.0)))
                    out.slice.append(fusion.slice_statistic(heat, scaled, i.mask))
                yield TrainEvent("calibrate", 1, 1, len(out.heat), total)
                if should_stop is not None and should_stop():
                    from ctreview.errors import Cancelled

                    raise Cancelled("calibration stopped")
    finally:
        fusion.threshold, fusion.slice_threshold = saved
    return out
