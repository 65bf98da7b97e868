"""Record a run folder (``scores.csv``, ``heatmap.tif``, ``summary.json``) in a workspace.

The batch client (never a worker) calls this after each finished volume,
and the window's worklist when it opens a volume whose run is not in the
workspace yet, so the review opens the run without scoring again.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ctreview.batch.task import read_summary, roi_boxes
from ctreview.errors import CtreviewError
from ctreview.results import Box, SliceScore
from ctreview.review import Workspace

if TYPE_CHECKING:
    from ctreview.io import VolumeLike


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def read_scores(run_dir: str | Path, boxes: dict[str, list[list[int]]] | None = None,
                heat_max: dict[int, float] | None = None) -> list[SliceScore]:
    """The slice scores of a run folder's ``scores.csv`` (ROI boxes and heatmap maxima when given)."""
    path = Path(run_dir) / "scores.csv"
    out = []
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            for line in csv.DictReader(fh):
                k = int(line["slice"])
                tile = (int(line["tile_y"]), int(line["tile_x"]), int(line["tile_y1"]), int(line["tile_x1"]))
                slice_boxes: list[Box] = [(b[0], b[1], b[2], b[3]) for b in (boxes or {}).get(str(k), [])]
                out.append(SliceScore(k, float(line["score"]), float(line["relative_score"]), tile, slice_boxes,
                                      line["stage"], _number(line["paper_score"]), _number(line["paper_relative"]),
                                      (heat_max or {}).get(k, 0.0), int(line["n_tiles"] or 0)))
    except (OSError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CtreviewError(path, f"unreadable slice scores ({exc.__class__.__name__})") from None
    return out


def _heatmaps(run_dir: Path, slices: list[int]) -> tuple[Any, dict[int, float]]:
    from ctreview.scoring.heatmap_file import open_heatmap

    path = run_dir / "heatmap.tif"
    try:
        heat = open_heatmap(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable TIFF is the same user error
        raise CtreviewError(path, f"unreadable heatmap ({exc.__class__.__name__})") from None
    if len(heat.shape) != 3 or any(not 0 <= k < heat.shape[0] for k in slices):
        raise CtreviewError(path, f"heatmap of shape {heat.shape} does not fit the scores")
    return heat, {k: float(np.max(heat[k])) for k in slices}


def find_imported(workspace: Workspace, volume_id: int, summary: dict[str, Any]) -> int | None:
    """The workspace run recorded from this very summary (same timings, counts...), or None."""
    def canonical(value: Any) -> str:
        return json.dumps(value, sort_keys=True, default=str)

    wanted = canonical(summary)
    for run in workspace.runs(volume_id):
        if run.get("summary") is not None and canonical(run["summary"]) == wanted:
            return int(run["id"])
    return None


def import_run(workspace: Workspace, run_dir: str | Path, *, record: dict[str, Any] | None = None,
               volume: VolumeLike | None = None, boxes: dict[str, list[list[int]]] | None = None,
               model_id: int | None = None) -> tuple[int, int, bool]:
    """Record the run folder ``run_dir`` in ``workspace``; return ``(volume_id, run_id, new)``.

    Parameters
    ----------
    record : dict, optional
        The volume as a batch task saw it (fingerprint, path, format, shape, spacing, dtype).
    volume : VolumeLike, optional
        The volume itself, when no ``record`` (the window has it open).
    boxes : dict, optional
        ROI boxes per slice; without them they are found again from ``volume`` when given.
    model_id : int, optional
        The model in the workspace; by default the one the summary names, when it can be read.

    A run already recorded from the same summary is not recorded twice (``new`` False).
    """
    run_dir = Path(run_dir)
    summary = read_summary(run_dir)
    if record is not None:
        volume_id = workspace.add_volume_record(record["fingerprint"], record["path"], record["shape"],
                                                record["spacing"], record.get("dtype", ""), record.get("format"))
    elif volume is not None:
        volume_id = workspace.add_volume(volume)
    else:
        raise ValueError("import_run needs the volume or its record")
    known = find_imported(workspace, volume_id, summary)
    if known is not None:
        return volume_id, known, False
    if boxes is None and volume is not None:
        boxes = roi_boxes(volume, summary)
    if model_id is None:
        model_id = _model_id(workspace, summary)
    slices = [s.index for s in read_scores(run_dir)]
    heat, maxima = _heatmaps(run_dir, slices)
    scores = read_scores(run_dir, boxes, maxima)
    run_id = workspace.import_run(volume_id, model_id, summary["settings"], str(summary.get("device", "")),
                                  scores, ((k, np.asarray(heat[k], np.float32)) for k in slices), summary)
    return volume_id, run_id, True


def _model_id(workspace: Workspace, summary: dict[str, Any]) -> int | None:
    from ctreview.model import read_meta

    path = (summary.get("model") or {}).get("path")
    if not path:
        return None
    try:
        return workspace.add_model(path, read_meta(path))
    except CtreviewError:  # the model moved: the run is still worth reviewing
        return None
