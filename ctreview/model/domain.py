"""What a model was trained on, and whether a volume looks like it: the domain fingerprint.

A model only knows the part, scanner calibration and resolution of its
training data; on anything else it still ranks slices, confidently and
wrongly. At training time :func:`training_fingerprint` summarises the normal
data in ``model.json["domain"]``:

* ``intensity``: quantiles of the grey values of the model's tiles (its
  view of the ROI), per training volume: median, min and max over volumes;
* ``footprint``: the part's cross-section and footprint area, height and
  model tiles per slice, in pixels (what the model sees), with the mm sizes;
* ``spacing``: voxel spacing (z, y, x) mm of the training volumes;
* ``scores``: the share of normal slices above threshold and the normal
  slice scores' quantiles, from the calibration.

At scoring time :func:`volume_features` measures the same on a volume and
:func:`compare` says whether it fits; :func:`check_scores` looks at a run's
share of slices above threshold. Pure functions of arrays, volumes and ROI
results: no torch, no Qt. The tolerances are measured (``bench/bench_domain.py``).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["DomainCheck", "FINGERPRINT_VERSION", "check_scores", "compare", "merge",
           "tile_quantiles", "training_fingerprint", "volume_features"]

FINGERPRINT_VERSION = 1
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
SAMPLE_SLICES = 16
"""ROI slices, evenly spread, whose tiles give a volume's grey-value quantiles."""
INTENSITY_TOL = 0.15
"""A quantile further than this share of the training span (q99 - q1) outside the training range flags."""
SIZE_TOL = 1.5
"""A footprint measure more than this factor outside the training range flags."""
SPACING_TOL = 1.25
"""An in-plane voxel spacing more than this factor from the training spacing flags (both known)."""
SHARE_LIMIT = 0.5
"""A run with more than this share of its slices above threshold flags (normal: ~1 %)."""
NO_FINGERPRINT = "no domain fingerprint"


@dataclass
class DomainCheck:
    """Whether a volume is inside a model's domain.

    Attributes
    ----------
    ok : bool
        False when something the model was not trained on was found.
    reason : str
        One sentence for the analyst ("" when ok).
    checks : dict
        Each check's measured value, the model's range and verdict.
    distance : float
        How far outside the model's domain, in tolerances (0 inside); ranks models.
    """

    ok: bool = True
    reason: str = ""
    checks: dict[str, Any] = field(default_factory=dict)
    distance: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """``{"ok", "reason", "checks"}``: ``summary.json["domain"]``."""
        return {"ok": bool(self.ok), "reason": self.reason, "checks": self.checks}


def tile_quantiles(tiles: np.ndarray, *, max_values: int = 2_000_000) -> list[float]:
    """Grey-value quantiles (:data:`QUANTILES`) of tiles ``(n, T, T)``, subsampled when huge."""
    values = np.asarray(tiles, np.float32).reshape(-1)
    if values.size > max_values:
        values = values[:: values.size // max_values + 1]
    values = values[np.isfinite(values)]
    if not values.size:
        return [0.0] * len(QUANTILES)
    return [float(v) for v in np.quantile(values, QUANTILES)]


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
        ``intensity`` (quantiles), ``dtype``, ``footprint``, ``spacing``, ``spacing_known``.
    """
    from ctreview.roi import cut_tiles

    keys = sorted(roi.slices) if slices is None else sorted(set(slices) & set(roi.slices))
    tiles = [cut_tiles(volume.slice(k), roi.slices[k].tiles, roi.tile_size) for k in _sample(keys, SAMPLE_SLICES)]
    spacing = [float(s) for s in volume.spacing]
    if spacing_known is None:
        spacing_known = not any("no voxel spacing" in str(w) for w in getattr(volume, "warnings", ()))
    return {
        "intensity": tile_quantiles(np.concatenate(tiles)) if tiles else None,
        "dtype": str(getattr(volume, "dtype", "")),
        "footprint": _footprint(roi, spacing) if roi.segmentation is not None else None,
        "spacing": spacing,
        "spacing_known": bool(spacing_known),
    }


def _spread(values: list[list[float]] | list[float]) -> dict[str, Any]:
    arr = np.asarray(values, float)
    return {"median": np.median(arr, axis=0).tolist(), "min": arr.min(axis=0).tolist(),
            "max": arr.max(axis=0).tolist()}


def training_fingerprint(features: Sequence[dict[str, Any]], tiles: np.ndarray | None = None,
                         calibration: dict | None = None, *, profile: str = "",
                         tile_size: int = 0) -> dict[str, Any]:
    """The fingerprint of a model's training data, for ``model.json["domain"]``.

    Parameters
    ----------
    features : list of dict
        :func:`volume_features` of each normal training volume (may be empty).
    tiles : ndarray, shape (n, T, T), optional
        The training tiles; their quantiles stand in when no volume is known
        (a training set whose source volumes are not on this machine).
    calibration : dict, optional
        ``model.json["calibration"]``: the normal slice scores.
    profile, tile_size
        The ROI the features were measured with.
    """
    with_intensity = [f["intensity"] for f in features if f.get("intensity")]
    if not with_intensity and tiles is not None and len(tiles):
        with_intensity = [tile_quantiles(tiles)]
    feet = [f["footprint"] for f in features if f.get("footprint")]
    known = [f["spacing"] for f in features if f.get("spacing_known")]
    out: dict[str, Any] = {
        "version": FINGERPRINT_VERSION, "profile": profile, "tile_size": int(tile_size),
        "volumes": len(features), "quantiles": list(QUANTILES),
        "intensity": _spread(with_intensity) if with_intensity else None,
        "dtypes": sorted({str(f.get("dtype")) for f in features if f.get("dtype")}),
        "footprint": {k: _spread([f[k] for f in feet]) for k in feet[0]} if feet else None,
        "spacing": _spread(known) if known else None,
        "scores": _normal_scores(calibration or {}),
    }
    return out


def _normal_scores(calibration: dict) -> dict[str, Any]:
    contrast = calibration.get("contrast") or {}
    fast = contrast.get("fast") or calibration.get("fast") or {}
    out: dict[str, Any] = {"fpr": float(calibration.get("fpr", contrast.get("fpr", 0.01)))}
    threshold = fast.get("threshold")
    quantiles = fast.get("slice_score_quantiles")
    if threshold and quantiles:
        out["relative_quantiles"] = {k: round(float(v) / float(threshold), 4) for k, v in quantiles.items()}
    return out


def _outside(value: float, lo: float, hi: float) -> float:
    """The factor by which a positive ``value`` lies outside ``[lo, hi]`` (1.0 inside)."""
    value, lo, hi = max(value, 1e-9), max(lo, 1e-9), max(hi, 1e-9)
    return max(lo / value, value / hi, 1.0)


def _intensity_check(model: dict, quantiles: list[float]) -> tuple[dict[str, Any], float, str]:
    med, lo, hi = (np.asarray(model[k], float) for k in ("median", "min", "max"))
    span = max(float(med[-1] - med[0]), 1e-9)
    v = np.asarray(quantiles, float)
    excess = float(np.max(np.maximum(np.maximum(lo - v, v - hi), 0.0)) / span)
    check = {"value": round(excess, 4), "limit": INTENSITY_TOL, "ok": excess <= INTENSITY_TOL,
             "volume_range": [round(float(v[0]), 4), round(float(v[-1]), 4)],
             "model_range": [round(float(med[0]), 4), round(float(med[-1]), 4)]}
    text = f"grey values {v[0]:.5g}-{v[-1]:.5g} unlike its training data ({med[0]:.5g}-{med[-1]:.5g})"
    return check, excess / INTENSITY_TOL, text


_FOOT_TEXT = {"area_px": "cross-section", "footprint_px": "footprint", "tiles_per_slice": "tiles per slice"}


def _footprint_checks(model: dict, foot: dict) -> tuple[dict[str, Any], float, list[str]]:
    checks, worst, texts = {}, 0.0, []
    for key, name in _FOOT_TEXT.items():
        if key not in model or key not in foot:
            continue
        factor = _outside(float(foot[key]), float(model[key]["min"]), float(model[key]["max"]))
        ok = factor <= SIZE_TOL
        checks[key] = {"value": round(float(foot[key]), 2), "model_range": [model[key]["min"], model[key]["max"]],
                       "factor": round(factor, 3), "limit": SIZE_TOL, "ok": ok}
        worst = max(worst, np.log(factor) / np.log(SIZE_TOL))
        if not ok:
            bigger = float(foot[key]) > float(model[key]["max"])
            texts.append(f"the part's {name} is {factor:.1f}x {'larger' if bigger else 'smaller'} than "
                         "in its training data")
    return checks, worst, texts


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
        ``ok`` False when the grey values, the part's size or the voxel
        spacing lie outside the training data's by more than the tolerances.
        A model without a fingerprint is never flagged for it.
    """
    if not fingerprint:
        return DomainCheck(True, "", {"fingerprint": NO_FINGERPRINT})
    checks: dict[str, Any] = {"dtype": {"value": features.get("dtype"), "model": fingerprint.get("dtypes"),
                                        "ok": True}}
    problems: list[str] = []
    distance = 0.0
    if fingerprint.get("intensity") and features.get("intensity"):
        check, d, text = _intensity_check(fingerprint["intensity"], features["intensity"])
        checks["intensity"], distance = check, max(distance, d)
        problems += [] if check["ok"] else [text]
    if fingerprint.get("footprint") and features.get("footprint"):
        foot, d, texts = _footprint_checks(fingerprint["footprint"], features["footprint"])
        checks["footprint"], distance = foot, max(distance, d)
        problems += texts[:1]
    check, d, text = _spacing_check(fingerprint.get("spacing"), features)
    checks["spacing"], distance = check, max(distance, d)
    problems += [] if check["ok"] else [text]
    reason = ""
    if problems:
        reason = ("outside the model's training domain: " + "; ".join(problems)
                  + ". Its ranking is not reliable here: score with a model trained on this kind of scan")
    return DomainCheck(not problems, reason, checks, float(distance))


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
    """Add a run's :func:`check_scores` to the volume's check."""
    if scores is None:
        return volume_check
    checks = {**volume_check.checks, "scores": scores}
    if scores["ok"]:
        return DomainCheck(volume_check.ok, volume_check.reason, checks, volume_check.distance)
    text = (f"{scores['share']:.0%} of the slices score above threshold (normal parts: about "
            f"{scores['normal_share']:.0%})")
    if volume_check.ok:
        reason = (f"{text}: the volume is probably unlike the model's training data, or the whole "
                  "part is defective; check a few slices before trusting the ranking")
    else:
        reason = volume_check.reason + f"; {text}"
    return DomainCheck(False, reason, checks, volume_check.distance)


def fingerprint_volumes(volumes: Sequence[Any], profile: Any, tile_size: int, *,
                        tiles: np.ndarray | None = None, calibration: dict | None = None) -> dict[str, Any]:
    """:func:`training_fingerprint` of normal volumes, each ``volume`` or ``(volume, slices or None)``.

    Volumes whose ROI cannot be found are left out (their tiles still count
    through ``tiles`` when no volume is left).
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
