"""The scoring service: one volume, one model, settings -> a recorded, summarised run.

The command line, the window's worker and the self-test all call
:func:`run_scoring`; it resolves the ROI, registers the volume, model and
run in a workspace when given one, streams the results into it and into a
run folder, and returns the :class:`RunSummary`.
"""
from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Union

from ctreview.defects import DefectSettings, RunDefects
from ctreview.io import VolumeLike, as_volume
from ctreview.model.anomaly import AnomalyModel
from ctreview.progress import StopFlag, relay
from ctreview.results import SliceResult
from ctreview.roi import RoiResult
from ctreview.scoring.run import RunWriter
from ctreview.scoring.settings import ScoringSettings
from ctreview.scoring.stream import find_roi, score_volume
from ctreview.scoring.summary import RunSummary

if TYPE_CHECKING:
    from ctreview.review import Workspace


@dataclass(frozen=True)
class RunStarted:
    """The first event of a run: what is scored, and how much.

    Attributes
    ----------
    run_id : int or None
        The run in the workspace (None without one).
    volume_id : int or None
    roi : RoiResult
    total : int
        Slices to score (the ROI slices).
    device : str
    settings : ScoringSettings
        As stored with the run (profile resolved).
    """

    run_id: int | None
    volume_id: int | None
    roi: RoiResult
    total: int
    device: str
    settings: ScoringSettings


ScoringEvent = Union[RunStarted, SliceResult]


def resolve_model(volume: VolumeLike, model_dir: str | Path | None, *, profile: str | None = None,
                  device: str = "auto") -> tuple[AnomalyModel, RoiResult]:
    """Return ``(model, roi)``: the given model, or the bundled model of the part the ROI finds.

    Raises
    ------
    CtreviewError
        An unreadable model, or a volume whose part cannot be found.
    """
    from ctreview.model import bundled_model_path, load_model
    from ctreview.roi import extract_roi

    if model_dir is None:
        roi = extract_roi(volume, profile or "auto")
        part = getattr(roi.profile, "part", None) or "transformer"
        model = load_model(bundled_model_path(part), device)
        if roi.tile_size != model.tile_size:
            roi = extract_roi(volume, roi.profile, tile_size=model.tile_size)
        return model, roi
    model = load_model(model_dir, device)
    return model, extract_roi(volume, profile or model.profile, tile_size=model.tile_size)


def run_scoring(volume: VolumeLike, model: AnomalyModel, settings: ScoringSettings | None = None, *,
                roi: RoiResult | None = None, workspace: Workspace | None = None,
                out: str | Path | None = None, should_stop: StopFlag | None = None,
                defects: DefectSettings | None = None) -> Generator[ScoringEvent, None, RunSummary]:
    """Score a volume, record the run and find its 3D defects.

    Parameters
    ----------
    volume : VolumeLike or ndarray, shape (z, y, x)
    model : AnomalyModel
    settings : ScoringSettings, optional
    roi : RoiResult, optional
        The ROI when already found (else :func:`~ctreview.scoring.stream.find_roi`).
    workspace : Workspace, optional
        Registers volume, model and run, stores every result as it comes
        (with its heatmap) and the summary at the end.
    out : path, optional
        Run folder for ``scores.csv``, ``heatmap.tif`` and ``summary.json``.
    should_stop : callable, optional
        Polled between batches; the run ends early, keeping what was scored.
    defects : DefectSettings, optional
        How the heatmap's defect objects are labelled at the end (the summary's
        ``defects``, ``defects.csv``, the workspace's defects of the run).

    Yields
    ------
    RunStarted
        Once, first.
    SliceResult
        Then every result; a later one for a slice supersedes an earlier one.

    Returns
    -------
    RunSummary
    """
    volume = as_volume(volume)
    cfg = settings or ScoringSettings()
    roi = roi if roi is not None else find_roi(volume, model, cfg)
    cfg = cfg.changed(profile=roi.profile.name)
    volume_id = run_id = None
    if workspace is not None:
        volume_id = workspace.add_volume(volume)
        model_id = workspace.add_model(model.path or "", dict(model.meta))
        run_id = workspace.start_run(volume_id, model_id, cfg.mode, cfg.to_dict(), str(model.device))
    writer = RunWriter(out, volume.shape) if out is not None else None
    found = RunDefects(volume.shape, volume.spacing, defects, origin=getattr(volume, "origin", (0.0, 0.0, 0.0)),
                       heatmap=writer.heatmap if writer is not None else None,
                       fallback=partial(workspace.heatmap, run_id) if workspace is not None and run_id else None)
    yield RunStarted(run_id, volume_id, roi, len(roi.slices), str(model.device), cfg)

    def record(result: SliceResult) -> None:
        if writer is not None:
            writer.add(result)
        if workspace is not None and run_id is not None:
            workspace.add_results(run_id, [result])
        found.add(result.index, result.heatmap)

    summary = yield from relay(score_volume(volume, model, cfg, roi=roi, should_stop=should_stop), record)
    summary.run_id = run_id
    summary.defects, summary.defect_settings = found.final(), found.settings
    if workspace is not None and run_id is not None:
        workspace.add_defects(run_id, summary.defects, summary.defect_settings.to_dict())
    if writer is not None:
        writer.close(summary)
    if workspace is not None and run_id is not None:
        workspace.finish_run(run_id, summary.to_dict())
    return summary

