"""Accepted slices of reviewed volumes -> tiles in a training set.

Only slices whose latest decision is ``accept`` are exported: flagged and
unsure slices never are. An accepted slice that the latest scoring run put
above threshold (relative > 1) may hide a defect the reviewer missed, so it
is dropped with a warning unless the labeler confirms it
(``include_above_threshold=True``).
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Generator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ctreview.dataset.manifest import sanitise_path, tile_key, write_manifest
from ctreview.dataset.selection import SliceSelection, decision_time, select_slices, select_slices_with_run_dir
from ctreview.dataset.store import TrainingSet
from ctreview.errors import Cancelled, CtreviewError
from ctreview.progress import Progress, drain
from ctreview.review import Workspace
from ctreview.timestamps import now_iso

log = logging.getLogger(__name__)

STEPS_PER_VOLUME = 100
"""Progress steps per exported volume."""
ROI_SHARE = 0.3  # the ROI search costs about as much as cutting a third of the slices


@dataclass(frozen=True)
class _Options:
    """What every volume of one export shares (see :func:`export_training_set`)."""

    include_above: bool
    profile: str | None
    tile_size: int | None
    crops: bool
    should_stop: Callable[[], bool]


@dataclass
class SourceSummary:
    """What an export did with one volume."""

    name: str
    fingerprint: str
    accepted: int = 0
    slices: list[int] = field(default_factory=list)
    tiles_added: int = 0
    duplicates: int = 0
    flagged: list[int] = field(default_factory=list)
    unsure: list[int] = field(default_factory=list)
    above_threshold: dict[int, float] = field(default_factory=dict)
    above_included: bool = False
    no_roi: list[int] = field(default_factory=list)
    run: dict | None = None


@dataclass
class ExportSummary:
    """What :func:`export_training_set` did.

    Attributes
    ----------
    out : Path
        The training-set folder.
    added, duplicates : int
        Tiles written, and tiles skipped because the set already held them.
    total : int
        Tiles in the set afterwards.
    sources : list of SourceSummary
        Per volume, in the order given.
    warnings : list of str
        Human-readable warnings (above-threshold slices, missing runs).
    """

    out: Path
    added: int = 0
    duplicates: int = 0
    total: int = 0
    sources: list[SourceSummary] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        doc = asdict(self)
        doc["out"] = str(self.out)
        return doc


def _open(workspace: Workspace, item: Any):
    """Return a Volume for a Volume, a path, or a workspace volume id."""
    from ctreview.io import Volume, open_volume

    if isinstance(item, Volume):
        return item
    if isinstance(item, int):
        path = workspace.volume_info(item).get("path")
        if not path:
            raise CtreviewError(workspace.path, f"volume {item} has no file path in the workspace")
        return open_volume(path)
    return open_volume(item)


def _roi_box(boxes: Sequence[Sequence[int]], y: int, x: int, t: int) -> list[int] | None:
    """Return the ROI box that holds most of tile (y, x, y+t, x+t)."""
    best, best_area = None, 0
    for b in boxes:
        area = max(0, min(b[2], y + t) - max(b[0], y)) * max(0, min(b[3], x + t) - max(b[1], x))
        if area > best_area:
            best, best_area = [int(v) for v in b], area
    return best


def _warn_above(summary: ExportSummary, src: SourceSummary, include: bool) -> None:
    if not src.above_threshold:
        return
    listing = ", ".join(f"{z} ({r:.3f})" for z, r in sorted(src.above_threshold.items()))
    action = ("included as confirmed normal" if include else
              "dropped; pass --include-above-threshold to confirm them as normal")
    msg = (f"{src.name}: accepted slices scored above threshold (possible hidden defect), "
           f"{action}: {listing}")
    summary.warnings.append(msg)
    log.warning(msg)


def _slice_records(z: int, sroi, sel: SliceSelection, profile: str, t: int) -> list[dict]:
    decision = sel.accepted[z]
    score = sel.scores.get(z)
    run = None
    if sel.run is not None and score is not None:
        run = {**sel.run, "score": score.score, "relative": score.relative}
    return [{"slice": int(z), "tile_box": [int(y), int(x), int(y) + t, int(x) + t],
             "roi_box": _roi_box(sroi.boxes, y, x, t), "profile": profile,
             "reviewer": decision.get("reviewer"), "decided_at": decision_time(decision),
             "run": run} for (y, x) in sroi.tiles]


def _source_info(volume, fingerprint: str) -> dict:
    path = getattr(volume, "path", None)
    return {"fingerprint": fingerprint, "name": Path(path).name if path else "array",
            "path": sanitise_path(path), "shape": [int(s) for s in volume.shape],
            "spacing": [float(s) for s in volume.spacing], "format": getattr(volume, "format", None)}


def _selection(workspace, vid: int, run_dir: Any) -> SliceSelection:
    if run_dir is None:
        return select_slices(workspace, vid)
    return select_slices_with_run_dir(workspace, vid, run_dir)


def _start_source(workspace: Workspace, volume, opts: _Options, summary: ExportSummary,
                  run_dir: Any) -> tuple[SourceSummary, dict, SliceSelection]:
    """Register a volume in the summary and sort its slices by decision and score."""
    from ctreview.io import volume_fingerprint

    fp = volume_fingerprint(volume)
    info = _source_info(volume, fp)
    src = SourceSummary(name=info["name"], fingerprint=fp)
    summary.sources.append(src)
    vid = workspace.find_volume(volume)
    if vid is None:
        raise CtreviewError(volume.path or info["name"],
                            "not in the workspace: score and review it before exporting")
    sel = _selection(workspace, vid, run_dir)
    src.accepted, src.flagged, src.unsure = len(sel.accepted), sel.flagged, sel.unsure
    src.above_threshold, src.above_included, src.run = sel.above, opts.include_above, sel.run
    _warn_above(summary, src, opts.include_above)
    if sel.run is None and sel.accepted:
        summary.warnings.append(f"{src.name}: no scoring run; accepted slices exported unchecked")
    return src, info, sel


def _export_volume(tset: TrainingSet, workspace, volume, opts: _Options, summary: ExportSummary,
                   run_dir: Any = None) -> Generator[tuple[float, str], None, None]:
    """Export one volume; yields ``(fraction of this volume done, message)``."""
    from ctreview.roi import cut_tiles, extract_roi

    src, info, sel = _start_source(workspace, volume, opts, summary, run_dir)
    wanted = [z for z in sorted(sel.accepted) if opts.include_above or z not in sel.above]
    if not wanted:
        return
    run = sel.run or {}
    # the run's profile and tile size give the very tiles the model scored
    roi = extract_roi(volume, opts.profile or run.get("profile") or "auto",
                      tile_size=opts.tile_size or run.get("tile_size") or tset.tile_size)
    t = roi.tile_size
    yield ROI_SHARE, f"{src.name}: ROI found"
    tiles, records = [], []
    for i, z in enumerate(wanted):
        if opts.should_stop():
            raise Cancelled()
        sroi = roi.slices.get(z)
        if sroi is None or not sroi.tiles:
            src.no_roi.append(z)
        else:
            image = volume.slice(z)
            tiles.append(cut_tiles(image, sroi.tiles, t))
            records += _slice_records(z, sroi, sel, roi.profile.name, t)
            src.slices.append(z)
            if opts.crops:
                _save_crops(tset, src.fingerprint, z, image, sroi.boxes)
        yield ROI_SHARE + (1 - ROI_SHARE) * (i + 1) / len(wanted), f"{src.name}: slice {z}"
    if tiles:
        added = tset.append(info, np.concatenate(tiles), records)
        src.tiles_added, src.duplicates = added, len(records) - added
        summary.added += added
        summary.duplicates += len(records) - added


def _save_crops(tset: TrainingSet, fp: str, z: int, image: np.ndarray, boxes) -> None:
    """Store the whole ROI crops of a slice (for inspection or other tile sizes later)."""
    from ctreview.dataset.store import _save_npy

    have = {tile_key(c["source"], c["slice"], c["box"]) for c in tset.manifest.crops}
    folder = tset.dir / "crops" / fp.replace(":", "_")[:20]
    for k, box in enumerate(boxes):
        box = [int(v) for v in box]
        if tile_key(fp, z, box) in have:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"z{z:05d}_{k}.npy"
        _save_npy(path, image[box[0]:box[2], box[1]:box[3]])
        tset.manifest.crops.append({"source": fp, "slice": int(z), "box": box,
                                    "file": path.relative_to(tset.dir).as_posix()})


def iter_export(workspace: Workspace, volumes: Sequence[Any], out: str | os.PathLike, *,
                include_above_threshold: bool = False, profile: str | None = None,
                tile_size: int | None = None, crops: bool = False,
                runs: Sequence[Any] | None = None,
                should_stop: Callable[[], bool] | None = None
                ) -> Generator[Progress, None, ExportSummary]:
    """Export as a generator: yields :class:`~ctreview.progress.Progress` (stage ``"export"``),
    returns the :class:`ExportSummary`.

    See :func:`export_training_set` for the parameters.
    """
    if not volumes:
        raise CtreviewError(out, "no volumes given to export")
    if runs is not None and len(runs) != len(volumes):
        raise CtreviewError(out, f"{len(runs)} run folders for {len(volumes)} volumes: "
                                 "give one run per volume, in the same order")
    tset = TrainingSet.open_or_create(out)
    summary = ExportSummary(out=Path(out))
    opts = _Options(include_above_threshold, profile, tile_size, crops, should_stop or (lambda: False))
    total = STEPS_PER_VOLUME * len(volumes)
    for k, item in enumerate(volumes):
        if opts.should_stop():
            raise Cancelled()
        base = k * STEPS_PER_VOLUME
        yield Progress("export", base, total,
                       f"opening {Path(str(getattr(item, 'path', item) or 'array')).name}")
        run_dir = None if runs is None else runs[k]
        volume = _open(workspace, item)
        try:
            for fraction, message in _export_volume(tset, workspace, volume, opts, summary, run_dir):
                yield Progress("export", base + int(round(fraction * STEPS_PER_VOLUME)), total, message)
        finally:
            if volume is not item and callable(getattr(volume, "close", None)):
                volume.close()  # we opened it, we close it (file handles on Windows)
        src = summary.sources[-1]
        yield Progress("export", base + STEPS_PER_VOLUME, total, f"{src.name}: {src.tiles_added} tiles added")
    summary.total = len(tset)
    tset.manifest.history.append({"action": "export", "at": now_iso("seconds"), "added": summary.added,
                                  "sources": [s.fingerprint for s in summary.sources]})
    write_manifest(tset.dir, tset.manifest)
    return summary


def export_training_set(workspace: Workspace, volumes: Sequence[Any], out: str | os.PathLike, *,
                        include_above_threshold: bool = False,
                        profile: str | None = None, tile_size: int | None = None,
                        crops: bool = False, runs: Sequence[Any] | None = None,
                        should_stop: Callable[[], bool] | None = None) -> ExportSummary:
    """Export the ROI tiles of accepted slices of reviewed volumes into a training set.

    Creates ``out`` (or appends to the set there, skipping tiles it already
    holds by source fingerprint + slice + tile box).

    Parameters
    ----------
    workspace : Workspace
        The review workspace holding the volumes' decisions and runs.
    volumes : sequence of Volume, path or int
        The reviewed volumes (or workspace volume ids); each must be known to the workspace.
    out : path
        Training-set folder (new, empty, or an existing set).
    include_above_threshold : bool
        Keep accepted slices scored above threshold (default: drop and warn).
    profile, tile_size : optional
        ROI profile and tile size; default: those of the volume's latest run, else ``"auto"``.
    crops : bool
        Also store each accepted slice's whole ROI crops under ``crops/``.
    runs : sequence of path, optional
        One ``ctreview score`` run folder per volume (same order), read for the
        scores instead of the workspace's latest run (the CLI scores into folders).
    should_stop : callable, optional
        Polled per slice; when it returns True, :class:`~ctreview.errors.Cancelled` is raised.

    Returns
    -------
    ExportSummary
    """
    return drain(iter_export(workspace, volumes, out, include_above_threshold=include_above_threshold,
                             profile=profile, tile_size=tile_size, crops=crops, runs=runs,
                             should_stop=should_stop))


def preview_export(workspace: Workspace, volume: Any, *, profile: str | None = None,
                   tile_size: int | None = None, count_tiles: bool = True,
                   run_dir: Any = None) -> dict:
    """Return what exporting one volume would give, without writing anything.

    Returns
    -------
    dict
        ``volume_id, name, accepted, flagged, unsure, above`` (slice -> relative),
        ``slices`` (those that would be exported by default) and ``tiles``
        (their ROI tile count; ``None`` when ``count_tiles`` is False).
    """
    volume = _open(workspace, volume)
    vid = workspace.find_volume(volume)
    name = Path(volume.path).name if getattr(volume, "path", None) else "array"
    if vid is None:
        raise CtreviewError(volume.path or name, "not in the workspace")
    sel = _selection(workspace, vid, run_dir)
    wanted = [z for z in sorted(sel.accepted) if z not in sel.above]
    out = {"volume_id": vid, "name": name, "accepted": len(sel.accepted), "flagged": len(sel.flagged),
           "unsure": len(sel.unsure), "above": sel.above, "slices": wanted, "tiles": None}
    if count_tiles and wanted:
        from ctreview.roi import extract_roi

        run = sel.run or {}
        roi = extract_roi(volume, profile or run.get("profile") or "auto",
                          tile_size=tile_size or run.get("tile_size"))
        out["tiles"] = sum(len(roi.slices[z].tiles) for z in wanted if z in roi.slices)
    elif count_tiles:
        out["tiles"] = 0
    return out
