"""What a model was trained on, and whether a volume looks like it: the domain fingerprint.

A model only knows the part, scanner calibration and resolution of its
training data; on anything else it still ranks slices, confidently and
wrongly. At training time :func:`training_fingerprint` summarises the normal
data in ``model.json["domain"]`` (version 2):

* ``intensity``: the share of the pixels inside the ROI below each of
  :data:`LEVELS` grey levels spread evenly over the training window (the
  percentiles inside the ROI on the window's scale), per normal volume;
* ``size``: the part's cross-section and footprint area and its height, in
  pixels (what the model sees), as logarithms: a relative measure;
* ``spacing``: voxel spacing (z, y, x) mm of the training volumes;
* ``scores``: the share of normal slices above threshold and the normal
  slice scores' quantiles, from the calibration.

Each statistic keeps the normal volumes' range and a tolerance beyond it
calibrated on held-out normal volumes (:mod:`ctreview.model._domain_stats`),
so a few pixels of part size or a slightly other pose never flag a volume of
the model's own part, while another part or another grey scale does.

At scoring time :func:`volume_features` measures the same on a volume and
:func:`compare` says whether it fits; :func:`check_scores` looks at a run's
share of slices above threshold, and :func:`merge` keeps the two verdicts
apart: the input looks different (``outside``) or the scores are high
(``many slices above threshold``). Version-1 fingerprints (older models) are
still read (:mod:`ctreview.model._domain_v1`). Pure functions of arrays,
volumes and ROI results: no torch, no Qt. ``bench/bench_domain.py`` measures it.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ctreview.model import _domain_stats as stats
from ctreview.model._domain_v1 import compare_v1

__all__ = ["DomainCheck", "FINGERPRINT_VERSION", "INSIDE", "MANY_ABOVE", "NOT_CHECKED", "OUTSIDE",
           "READABLE_VERSIONS", "check_scores", "compare", "comparable", "fingerprint_volumes", "merge",
           "tile_quantiles", "training_fingerprint", "verdict_of", "volume_features"]

FINGERPRINT_VERSION = 2
READABLE_VERSIONS = (1, 2)
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
SAMPLE_SLICES = 16
"""ROI slices, evenly spread, whose pixels give a volume's grey-value quantiles."""
SIZE_KEYS = ("area_px", "footprint_px", "height_px")
INTENSITY_TOLERANCE = (0.08, 0.12)
"""Least and largest tolerance of a share of ROI pixels below a grey level beyond the normal range. The
floor: six normal volumes can happen to span half the range of their part's population (defect-free twins
lay up to 0.06 beyond it, bench/bench_domain_twins.py); the cap: another part lies 0.25-0.3 beyond, a
grey scale 0.6x or shifted by 5 % of the window 0.2."""
SIZE_TOLERANCE = (float(np.log(1.2)), float(np.log(1.5)))
"""Least and largest tolerance of a part size beyond the normal range (log: 20 % and 50 %; a part of
2/3 the size, or 1.5x, beyond the normal range always flags)."""
SPACING_TOL = 1.25
"""An in-plane voxel spacing more than this factor from the training spacing flags (both known)."""
SHARE_LIMIT = 0.5
"""A run with more than this share of its slices above threshold flags (normal: ~1 %)."""
NO_FINGERPRINT = "no domain fingerprint"

INSIDE, OUTSIDE, MANY_ABOVE, NOT_CHECKED = "inside", "outside", "many slices above threshold", "not checked"
"""Verdicts: the volume looks like the training data and scores like it; it looks different (another
kind of scan: its ranking is not comparable); it looks alike but most slices score above threshold;
the model has no fingerprint (or the check could not run)."""
OUTSIDE_PREFIX = "outside the model's training domain: "


@dataclass
class DomainCheck:
    """Whether a volume is inside a model's domain.

    Attributes
    ----------
    ok : bool
        False when something needs the analyst's eye: the volume is unlike
        the training data, or most of its slices score above threshold.
    reason : str
        One sentence for the analyst ("" when ok).
    checks : dict
        Each check's measured value, the model's range and verdict.
    distance : float
        How far outside the model's domain, in tolerances (up to 1 inside); ranks models.
    verdict : str
        :data:`INSIDE`, :data:`OUTSIDE`, :data:`MANY_ABOVE` or :data:`NOT_CHECKED`.
    """

    ok: bool = True
    reason: str = ""
    checks: dict[str, Any] = field(default_factory=dict)
    distance: float = 0.0
    verdict: str = INSIDE

    def to_dict(self) -> dict[str, Any]:
        """``{"ok", "reason", "checks", "verdict"}``: ``summary.json["domain"]``."""
        return {"ok": bool(self.ok), "reason": self.reason, "checks": self.checks, "verdict": self.verdict}


def verdict_of(domain: dict | None) -> str:
    """The verdict of a ``summary.json["domain"]``, also of summaries written before verdicts."""
    if not domain:
        return NOT_CHECKED
    if domain.get("verdict") in (INSIDE, OUTSIDE, MANY_ABOVE, NOT_CHECKED):
        return str(domain["verdict"])
    checks = domain.get("checks") or {}
    if not domain.get("ok", True):
        return OUTSIDE if str(domain.get("reason", "")).startswith(OUTSIDE_PREFIX.strip()) else MANY_ABOVE
    return NOT_CHECKED if checks.get("fingerprint") or checks.get("error") else INSIDE


def comparable(domain: dict | None) -> bool:
    """Whether a run's scores can be ranked with those of volumes the model knows (not :data:`OUTSIDE`)."""
    return verdict_of(domain) != OUTSIDE


def tile_quantiles(tiles: np.ndarray, *, max_values: int = 2_000_000) -> list[float]:
    """Grey-value quantiles (:data:`QUANTILES`) of tiles ``(n, T, T)`` (or any pixels), subsampled when huge."""
    values = np.asarray(tiles, np.float32).reshape(-1)
    if values.size > max_values:
        values = values[:: values.size // max_values + 1]
    values = values[np.isfinite(values)]
    if not values.size:
        return [0.0] * len(QUANTILES)
    return [float(v) for v in np.quantile(values, QUANTILES)]


PERCENTILES = np.linspace(0.0, 1.0, 101)
"""Probabilities of the grey-value percentiles a volume's features keep (they include :data:`QUANTILES`)."""
LEVELS = 9
"""Grey levels, evenly inside the training window, at which the share of ROI pixels below is compared."""


def percentiles(values: np.ndarray, *, max_values: int = 2_000_000) -> list[float] | None:
    """Grey-value percentiles (:data:`PERCENTILES`) of any pixels; None when none is finite."""
    flat = np.asarray(values, np.float32).reshape(-1)
    if flat.size > max_values:
        flat = flat[:: flat.size // max_values + 1]
    flat = flat[np.isfinite(flat)]
    return [float(v) for v in np.quantile(flat, PERCENTILES)] if flat.size else None


def _quantiles(pct: Sequence[float]) -> list[float]:
    """:data:`QUANTILES` picked from :data:`PERCENTILES`."""
    return [float(pct[int(round(q * 100))]) for q in QUANTILES]


def _sample(keys: Sequence[int], n: int) -> list[int]:
    if len(keys) <= n:
        return list(keys)
    picks = np.unique(np.linspace(0, len(keys) - 1, n).round().astype(int))
    return [keys[i] for i in picks]


def _footprint(roi: Any, spacing: Sequence[float]) -> dict[str, float]:
    seg = roi.segmentation
    f = int(seg.factor)
    z0, z1 = int(roi.part_bbox[0]), int(roi.part_bbox[3])
    areas = seg.mask.reshape(seg.mask.shape[0], -1).sum(axis=1) * f * f
    areas = areas[areas > 0]
    tiles = [len(s.tiles) for s in roi.slices.values()]
    area = float(np.median(areas)) if areas.size else 0.0
    foot = float(seg.mask.any(axis=0).sum() * f * f)
    _, sy, sx = (float(s) for s in spacing)
    return {"area_px": area, "footprint_px": foot, "height_px": float(z1 - z0),
            "tiles_per_slice": float(np.median(tiles)) if tiles else 0.0,
            "area_mm2": round(area * sy * sx, 4), "height_mm": round((z1 - z0) * float(spacing[0]), 4)}


def _roi_pixels(volume: Any, roi: Any, keys: Sequence[int]) -> np.ndarray:
    shape = tuple(volume.shape[1:])
    parts = [np.asarray(volume.slice(k), np.float32)[roi.slices[k].mask(shape)] for k in keys]
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def volume_features(volume: Any, roi: Any, *, slices: Iterable[int] | None = None,
                    spacing_known: bool | None = None) -> dict[str, Any]:
    """Measure what the fingerprint holds on one volume.

    Parameters
    ----------
    volume : VolumeLike, shape (z, y, x)
    roi : RoiResult
        The ROI the model scores (its profile and tile size).
    slices : iterable of int, optional
        Only these slices count (a training set's accepted slices).
    spacing_known : bool, optional
        Whether the file stated its voxel spacing (default: read from the volume's warnings).

    Returns
    -------
    dict
        ``roi_percentiles`` (grey values inside the ROI, :data:`PERCENTILES`),
        ``tile_percentiles`` and ``intensity`` (of the model's tiles: the
        latter its :data:`QUANTILES`, for version-1 fingerprints), ``dtype``,
        ``footprint``, ``spacing``, ``spacing_known``.
    """
    from ctreview.roi import cut_tiles

    keys = sorted(roi.slices) if slices is None else sorted(set(slices) & set(roi.slices))
    sample = _sample(keys, SAMPLE_SLICES)
    tiles = [cut_tiles(volume.slice(k), roi.slices[k].tiles, roi.tile_size) for k in sample]
    pixels = _roi_pixels(volume, roi, sample)
    spacing = [float(s) for s in volume.spacing]
    if spacing_known is None:
        spacing_known = not any("no voxel spacing" in str(w) for w in getattr(volume, "warnings", ()))
    tile_pct = percentiles(np.concatenate(tiles)) if tiles else None
    return {
        "roi_percentiles": percentiles(pixels) if pixels.size else None,
        "tile_percentiles": tile_pct,
        "intensity": _quantiles(tile_pct) if tile_pct else None,
        "dtype": str(getattr(volume, "dtype", "")),
        "footprint": _footprint(roi, spacing) if roi.segmentation is not None else None,
        "spacing": spacing,
        "spacing_known": bool(spacing_known),
    }


def _spread(values: list[list[float]] | list[float]) -> dict[str, Any]:
    arr = np.asarray(values, float)
    return {"median": np.median(arr, axis=0).tolist(), "min": arr.min(axis=0).tolist(),
            "max": arr.max(axis=0).tolist()}


def _below(pct: Sequence[float], levels: Sequence[float]) -> list[float]:
    """The share of pixels below each grey level, from their :data:`PERCENTILES`."""
    return [float(v) for v in np.interp(levels, pct, PERCENTILES)]


def _intensity_block(fit: list[list[float]], held: list[list[float]], source: str,
                     window: Sequence[float] | None) -> dict[str, Any]:
    """The grey-value statistics: the share of pixels below :data:`LEVELS` grey levels of the window.

    Shares rather than quantiles: a quantile that falls between two
    materials jumps far with a small change of their proportions; the share
    below a grey level moves only by that change.
    """
    everything = np.asarray(fit + held, float)
    lo, hi = (float(window[0]), float(window[1])) if window else (float(np.median(everything[:, 1])),
                                                                   float(np.median(everything[:, -2])))
    hi = hi if hi > lo else lo + max(abs(lo), 1.0)
    levels = [lo + (hi - lo) * (k + 1) / (LEVELS + 1) for k in range(LEVELS)]
    floor, cap = INTENSITY_TOLERANCE
    return {"of": source, "window": [lo, hi], "levels": levels,
            "grey": _spread([_quantiles(row) for row in everything.tolist()]),
            **stats.calibrate([_below(r, levels) for r in fit], [_below(r, levels) for r in held],
                              floor=floor, cap=cap)}


def _size_block(fit: list[dict], held: list[dict]) -> dict[str, Any] | None:
    def logs(feet: list[dict]) -> list[list[float]]:
        return [[float(np.log(f[k])) for k in SIZE_KEYS] for f in feet if all(f.get(k, 0) > 0 for k in SIZE_KEYS)]

    fit_logs, held_logs = logs(fit), logs(held)
    if not fit_logs:
        fit_logs, held_logs = held_logs, []
    if not fit_logs:
        return None
    floor, cap = SIZE_TOLERANCE
    return {"keys": list(SIZE_KEYS), **stats.calibrate(fit_logs, held_logs, floor=floor, cap=cap)}


def training_fingerprint(features: Sequence[dict[str, Any]], tiles: np.ndarray | None = None,
                         calibration: dict | None = None, *, profile: str = "", tile_size: int = 0,
                         held: Sequence[dict[str, Any]] = (),
                         window: Sequence[float] | None = None) -> dict[str, Any]:
    """The fingerprint of a model's training data, for ``model.json["domain"]``.

    Parameters
    ----------
    features : list of dict
        :func:`volume_features` of each normal volume the model was fitted on (may be empty).
    tiles : ndarray, shape (n, T, T), optional
        The training tiles; their quantiles stand in when no volume is known
        (a training set whose source volumes are not on this machine).
    calibration : dict, optional
        ``model.json["calibration"]``: the normal slice scores.
    profile, tile_size
        The ROI the features were measured with.
    held : list of dict
        :func:`volume_features` of held-out normal volumes (or slices): they
        set the tolerances. Without them each volume is held out in turn.
    window : (float, float), optional
        The model's grey-value window (default: the ROI pixels' q1 and q99).
    """
    fit_q = [f["roi_percentiles"] for f in features if f.get("roi_percentiles")]
    held_q = [f["roi_percentiles"] for f in held if f.get("roi_percentiles")]
    source = "roi"
    if not fit_q:
        fit_q, held_q = held_q, []
    tile_pct = percentiles(tiles) if not fit_q and tiles is not None and len(tiles) else None
    if tile_pct:
        fit_q, source = [tile_pct], "tiles"
    everything = [*features, *held]
    feet = [f["footprint"] for f in everything if f.get("footprint")]
    known = [f["spacing"] for f in everything if f.get("spacing_known")]
    return {
        "version": FINGERPRINT_VERSION, "profile": profile, "tile_size": int(tile_size),
        "volumes": len(features), "held_out": len(held), "quantiles": list(QUANTILES),
        "intensity": _intensity_block(fit_q, held_q, source, window) if fit_q else None,
        "size": _size_block([f["footprint"] for f in features if f.get("footprint")],
                            [f["footprint"] for f in held if f.get("footprint")]),
        "footprint": {k: _spread([f[k] for f in feet]) for k in feet[0]} if feet else None,  # to read, in px
        "dtypes": sorted({str(f.get("dtype")) for f in everything if f.get("dtype")}),
        "spacing": _spread(known) if known else None,
        "scores": _normal_scores(calibration or {}),
    }


def _normal_scores(calibration: dict) -> dict[str, Any]:
    contrast = calibration.get("contrast") or {}
    fast = contrast.get("fast") or calibration.get("fast") or {}
    out: dict[str, Any] = {"fpr": float(calibration.get("fpr", contrast.get("fpr", 0.01)))}
    threshold = fast.get("threshold")
    quantiles = fast.get("slice_score_quantiles")
    if threshold and quantiles:
        out["relative_quantiles"] = {k: round(float(v) / float(threshold), 4) for k, v in quantiles.items()}
    return out


def _intensity_check(block: dict, features: dict) -> tuple[dict[str, Any], float, str] | None:
    pct = features.get("tile_percentiles" if block.get("of") == "tiles" else "roi_percentiles")
    if not pct:
        return None
    d = stats.distances(block, _below(pct, block["levels"]))
    worst = float(d.max())
    grey, med = _quantiles(pct), block["grey"]["median"]
    lo, hi = block["window"]
    check = {"value": round(worst, 3), "limit": 1.0, "ok": worst <= 1.0,
             "level": round((block["levels"][int(d.argmax())] - lo) / (hi - lo), 3),
             "volume_range": [round(float(grey[0]), 4), round(float(grey[-1]), 4)],
             "model_range": [round(float(med[0]), 4), round(float(med[-1]), 4)]}
    where = "inside the part" if block.get("of") != "tiles" else "of its tiles"
    text = (f"grey values {where} {grey[0]:.5g}-{grey[-1]:.5g} unlike its training data "
            f"({med[0]:.5g}-{med[-1]:.5g})")
    return check, worst, text


_SIZE_TEXT = {"area_px": "cross-section", "footprint_px": "footprint", "height_px": "height"}


def _size_checks(block: dict, foot: dict) -> tuple[dict[str, Any], float, list[str]]:
    checks, worst, texts = {}, 0.0, []
    for j, key in enumerate(block["keys"]):
        value = float(foot.get(key, 0.0))
        if value <= 0:
            continue
        d = float(stats.distances({k: [block[k][j]] for k in ("min", "max", "tolerance")}, [np.log(value)])[0])
        lo, hi = float(np.exp(block["min"][j])), float(np.exp(block["max"][j]))
        factor = max(lo / value, value / hi, 1.0)
        checks[key] = {"value": round(value, 2), "model_range": [round(lo, 2), round(hi, 2)],
                       "factor": round(factor, 3), "distance": round(d, 3), "limit": 1.0, "ok": d <= 1.0}
        worst = max(worst, d)
        if d > 1.0:
            texts.append(f"the part's {_SIZE_TEXT[key]} is {factor:.1f}x "
                         f"{'larger' if value > hi else 'smaller'} than in its training data")
    return checks, worst, texts


def _compare_v2(fingerprint: dict, features: dict) -> tuple[dict[str, Any], float, list[str]]:
    checks: dict[str, Any] = {}
    problems: list[str] = []
    distance = 0.0
    got = _intensity_check(fingerprint["intensity"], features) if fingerprint.get("intensity") else None
    if got is not None:
        checks["intensity"], d, text = got
        distance = max(distance, d)
        problems += [] if checks["intensity"]["ok"] else [text]
    if fingerprint.get("size") and features.get("footprint"):
        checks["footprint"], d, texts = _size_checks(fingerprint["size"], features["footprint"])
        distance = max(distance, d)
        problems += texts[:1]
    return checks, distance, problems


def _spacing_check(model: dict | None, features: dict) -> tuple[dict[str, Any], float, str]:
    if model is None:
        return {"ok": True, "note": "the model's training data stated no voxel spacing"}, 0.0, ""
    if not features.get("spacing_known"):
        return {"ok": True, "note": "the volume states no voxel spacing"}, 0.0, ""
    mine = np.asarray(features["spacing"], float)[1:]
    theirs = np.asarray(model["median"], float)[1:]
    factor = float(np.max(np.maximum(mine / theirs, theirs / mine)))
    ok = factor <= SPACING_TOL
    check = {"value": [round(float(s), 6) for s in features["spacing"]],
             "model": [round(float(s), 6) for s in model["median"]], "factor": round(factor, 3),
             "limit": SPACING_TOL, "ok": ok}
    text = f"voxel spacing {mine[-1]:.3g} mm, the model's {theirs[-1]:.3g} mm"
    return check, float(np.log(factor) / np.log(SPACING_TOL)), text


def compare(fingerprint: dict | None, features: dict) -> DomainCheck:
    """Compare a volume's :func:`volume_features` with a model's fingerprint.

    Returns
    -------
    DomainCheck
        Verdict :data:`OUTSIDE` when the grey values, the part's size or the
        voxel spacing lie beyond the training data's by more than their
        tolerances. A model without a fingerprint is never flagged for it
        (:data:`NOT_CHECKED`).
    """
    if not fingerprint:
        return DomainCheck(True, "", {"fingerprint": NO_FINGERPRINT}, verdict=NOT_CHECKED)
    compare_family = compare_v1 if fingerprint.get("version") == 1 else _compare_v2
    checks, distance, problems = compare_family(fingerprint, features)
    checks = {"dtype": {"value": features.get("dtype"), "model": fingerprint.get("dtypes"), "ok": True}, **checks}
    check, d, text = _spacing_check(fingerprint.get("spacing"), features)
    checks["spacing"], distance = check, max(distance, d)
    problems += [] if check["ok"] else [text]
    if not problems:
        return DomainCheck(True, "", checks, float(distance), INSIDE)
    reason = (OUTSIDE_PREFIX + "; ".join(problems)
              + ". Its ranking is not reliable here: score with a model trained on this kind of scan")
    return DomainCheck(False, reason, checks, float(distance), OUTSIDE)


def check_scores(relative: Iterable[float], fingerprint: dict | None = None) -> dict[str, Any]:
    """The share of a run's slices above threshold (1.0 relative) against what normal data gives.

    Returns
    -------
    dict
        ``share``, ``median_relative``, ``limit``, ``normal_share`` and ``ok``.
    """
    values = np.asarray(list(relative), float)
    share = float(np.mean(values >= 1.0)) if values.size else 0.0
    normal = ((fingerprint or {}).get("scores") or {}).get("fpr", 0.01)
    return {"share": round(share, 4), "slices": int(values.size),
            "median_relative": round(float(np.median(values)), 4) if values.size else None,
            "limit": SHARE_LIMIT, "normal_share": normal, "ok": bool(share <= SHARE_LIMIT)}


def merge(volume_check: DomainCheck, scores: dict[str, Any] | None) -> DomainCheck:
    """Add a run's :func:`check_scores` to the volume's check, keeping the two verdicts apart.

    A volume that looks like the training data but scores high on most
    slices is :data:`MANY_ABOVE` (the part may be defective throughout), never
    called another kind of scan; one that also looks different stays :data:`OUTSIDE`.
    """
    if scores is None:
        return volume_check
    checks = {**volume_check.checks, "scores": scores}
    v = volume_check
    if scores["ok"]:
        return DomainCheck(v.ok, v.reason, checks, v.distance, v.verdict)
    text = (f"{scores['share']:.0%} of the slices score above threshold (normal parts: about "
            f"{scores['normal_share']:.0%})")
    if v.verdict == OUTSIDE:
        return DomainCheck(False, v.reason + f"; {text}", checks, v.distance, OUTSIDE)
    alike = ", though the volume looks like the model's training data" if v.verdict == INSIDE else ""
    reason = (f"many slices above threshold: {text}{alike}; the part may be defective in many places: "
              "check a few slices before trusting the ranking")
    return DomainCheck(False, reason, checks, v.distance, MANY_ABOVE)


def fingerprint_volumes(volumes: Sequence[Any], profile: Any, tile_size: int, *,
                        tiles: np.ndarray | None = None, calibration: dict | None = None) -> dict[str, Any]:
    """:func:`training_fingerprint` of normal volumes, each ``volume`` or ``(volume, slices or None)``.

    Each volume is held out in turn to set the tolerances. Volumes whose ROI
    cannot be found are left out (their tiles still count through ``tiles``
    when no volume is left).
    """
    from ctreview.errors import CtreviewError
    from ctreview.roi import extract_roi, load_profile

    prof = load_profile(profile)
    features = []
    for item in volumes:
        volume, slices = item if isinstance(item, tuple) else (item, None)
        try:
            roi = extract_roi(volume, prof, tile_size=tile_size)
        except CtreviewError:
            continue
        features.append(volume_features(volume, roi, slices=slices))
    return training_fingerprint(features, tiles, calibration, profile=prof.name, tile_size=tile_size)
