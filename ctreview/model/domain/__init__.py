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
calibrated on held-out normal volumes (:mod:`ctreview.model.domain.stats`),
so a few pixels of part size or a slightly other pose never flag a volume of
the model's own part, while another part or another grey scale does.

At scoring time :func:`volume_features` measures the same on a volume and
:func:`compare` says whether it fits; :func:`check_scores` looks at a run's
share of slices above threshold, and :func:`merge` keeps the two verdicts
apart: the input looks different (``outside``) or the scores are high
(``many slices above threshold``). Version-1 fingerprints (older models) are
still read (:mod:`ctreview.model.domain.v1`). Pure functions of arrays,
volumes and ROI results: no torch, no Qt. ``bench/bench_domain.py`` measures it.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ctreview.model.domain.measure import (
    PERCENTILES,
    QUANTILES,
    SAMPLE_SLICES,
    percentiles,
    tile_quantiles,
    volume_features,
)
from ctreview.model.domain.v1 import compare_v1
from ctreview.model.domain.v2 import (
    INTENSITY_TOLERANCE,
    LEVELS,
    SIZE_KEYS,
    SIZE_TOLERANCE,
    compare_v2,
    intensity_block,
    size_block,
    spread,
)

if TYPE_CHECKING:
    from ctreview.roi import ProfileSpec

__all__ = ["DomainCheck", "FINGERPRINT_VERSION", "INSIDE", "INTENSITY_TOLERANCE", "LEVELS", "MANY_ABOVE",
           "NOT_CHECKED", "OUTSIDE", "PERCENTILES", "QUANTILES", "READABLE_VERSIONS", "SAMPLE_SLICES", "SIZE_KEYS",
           "SIZE_TOLERANCE", "check_scores", "compare", "comparable", "fingerprint_volumes", "merge", "percentiles",
           "tile_quantiles", "training_fingerprint", "verdict_of", "volume_features", "with_doubts"]

FINGERPRINT_VERSION = 2
READABLE_VERSIONS = (1, 2)
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
        "intensity": intensity_block(fit_q, held_q, source, window) if fit_q else None,
        "size": size_block([f["footprint"] for f in features if f.get("footprint")],
                            [f["footprint"] for f in held if f.get("footprint")]),
        "footprint": {k: spread([f[k] for f in feet]) for k in feet[0]} if feet else None,  # to read, in px
        "dtypes": sorted({str(f.get("dtype")) for f in everything if f.get("dtype")}),
        "spacing": spread(known) if known else None,
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
    compare_family = compare_v1 if fingerprint.get("version") == 1 else compare_v2
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


def with_doubts(check: DomainCheck, doubts: Sequence[str]) -> DomainCheck:
    """Add what a scorer doubted of the volume as a whole (the atlas: a registration that failed, a part
    unlike every normal one): such a volume is :data:`OUTSIDE`, the doubts in its reason and ``checks["atlas"]``.
    """
    if not doubts:
        return check
    lines = [str(d).removeprefix("atlas: ") for d in doubts]
    reason = "; ".join(([check.reason] if check.verdict == OUTSIDE and check.reason else []) + lines)
    return DomainCheck(False, reason, {**check.checks, "atlas": {"ok": False, "doubts": lines}},
                       max(check.distance, 1.0), OUTSIDE)


def fingerprint_volumes(volumes: Sequence[Any], profile: ProfileSpec, tile_size: int, *,
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
