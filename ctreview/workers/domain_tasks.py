"""Tasks of the window about trust: which model fits a volume, what the shown run said.

Both read files or the workspace, so they run in a pool thread like every
task of :mod:`ctreview.workers.tasks`.
"""
from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from ctreview.errors import Cancelled, CtreviewError
from ctreview.progress import StopFlag

if TYPE_CHECKING:
    from ctreview.io import VolumeLike
    from ctreview.review import Workspace

__all__ = ["model_fit_task", "stored_run_task"]


def model_fit_task(volume: VolumeLike, model_paths: list[str], *,
                   should_stop: StopFlag) -> Generator[None, None, dict[str, dict]]:
    """Compare a volume with every model's domain fingerprint.

    Returns
    -------
    dict
        ``{model folder: {"ok", "reason", "checks", "distance", "name"}}``;
        ``distance`` is None for a model without a fingerprint (it cannot be
        judged, so it is never suggested), and models that cannot be read are
        left out.
    """
    from ctreview.model import read_meta
    from ctreview.model.domain import NO_FINGERPRINT, compare, volume_features
    from ctreview.model.meta import read_fingerprint
    from ctreview.roi import extract_roi

    rois: dict[tuple, Any] = {}
    out: dict[str, dict] = {}
    for path in model_paths:
        if should_stop():
            raise Cancelled()
        try:
            meta = read_meta(path)
        except CtreviewError:
            continue
        name = str(meta.get("name") or path)
        fingerprint = read_fingerprint(meta)
        if fingerprint is None:
            out[path] = {"ok": True, "reason": "", "checks": {"fingerprint": NO_FINGERPRINT},
                         "distance": None, "name": name}
            continue
        key = (str(meta.get("profile") or "whole-part"), int(meta.get("tile_size") or 0) or None)
        if key not in rois:
            try:
                rois[key] = extract_roi(volume, key[0], tile_size=key[1])
            except CtreviewError as exc:
                rois[key] = exc
        roi = rois[key]
        if isinstance(roi, CtreviewError):
            out[path] = {"ok": False, "reason": f"its ROI profile finds no part here ({roi.message})",
                         "checks": {}, "distance": float("inf"), "name": name}
            continue
        check = compare(fingerprint, volume_features(volume, roi))
        out[path] = {**check.to_dict(), "distance": check.distance, "name": name,
                     "format_version": int(meta.get("format_version", 1))}
    return out
    yield  # pragma: no cover - a generator for the runner


def best_fit(fits: dict[str, dict], current: str | None) -> str | None:
    """The model that fits best, if it is not ``current``.

    Among the models inside their domain, the newest engine (format version:
    fused models detect far better than the AnoGAN) and then the smallest
    distance wins.
    """
    inside = [(-int(info.get("format_version", 1)), info["distance"], path) for path, info in fits.items()
              if info.get("ok") and info.get("distance") is not None]
    if not inside:
        return None
    path = min(inside)[2]
    return None if path == current else path


def stored_run_task(workspace: Workspace, run_id: int, *, should_stop: StopFlag) -> Generator[None, None, dict]:
    """What the window shows about a stored run: its model (folder, name) and its domain check."""
    info = workspace.run_info(run_id)
    model = workspace.model_info(info.get("model_id")) or {}
    summary = info.get("summary") or {}
    return {"run_id": run_id, "model_path": str(model.get("path") or ""),
            "model_name": str(model.get("name") or ""), "domain": summary.get("domain") or {}}
    yield  # pragma: no cover - a generator for the runner
