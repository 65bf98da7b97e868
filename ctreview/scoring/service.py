"""The scoring service: one volume, one model, settings -> a recorded, summarised run.

The command line, the window's worker and the self-test all call
:func:`run_scoring`; it resolves the ROI, registers the volume, model and
run in a workspace when given one, streams the results into it and into a
run folder, and returns the :class:`RunSummary`.
"""
from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from ctreview.defects import DefectSettings, RunDefects
from ctreview.io import VolumeLike, as_volume
from ctreview.io.images import check_stack
from ctreview.model.detector import Detector
from ctreview.model.domain import NOT_CHECKED, DomainCheck, check_scores, merge, with_doubts
from ctreview.progress import StopFlag, relay
from ctreview.results import SliceResult
from ctreview.roi import RoiResult
from ctreview.scoring.binning import model_scale
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
    domain : dict
        The volume against the model's domain fingerprint, before scoring
        (``{"ok", "reason", "checks"}``; the summary's adds the run's scores).
    scale : str
        One line: the scale the scan is scored at and why (``scale: binned 3x3x3 (...)``).
    """

    run_id: int | None
    volume_id: int | None
    roi: RoiResult
    total: int
    device: str
    settings: ScoringSettings
    domain: dict[str, Any] = field(default_factory=dict)
    scale: str = ""


ScoringEvent = Union[RunStarted, SliceResult]


def resolve_model(volume: VolumeLike, model_dir: str | Path | None, *, profile: str | None = None,
                  device: str = "auto") -> tuple[Detector, RoiResult]:
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
    model = load_model(model_dir, device)  # a format-1 AnoGAN too, as a fused model (model.notes says so)
    return model, extract_roi(volume, profile or model.profile, tile_size=model.tile_size)


_SHAPES = {"capacitor": "a round footprint", "transformer": "an oblong footprint with a hole"}


def model_choice(model: Detector, roi: RoiResult, profile: str | None = None) -> str:
    """Say which model :func:`resolve_model` picked without ``--model``, and why, in one line."""
    name = model.meta.get("name") or Path(model.path or "").name
    part = getattr(roi.profile, "part", None)
    if part and profile:
        why = f"the bundled model for the {part} of profile {profile}"
    elif part:
        why = f"the bundled model for a {part}: the volume's part has {_SHAPES.get(part, 'its shape')}"
    else:
        why = f"the default: no bundled model is for a part of this shape, profile {roi.profile.name}; it may not fit"
    return f"{name} ({why}; pass --model to choose)"


MIN_SLICES_FOR_SHARE = 8
"""A cancelled run's share of slices above threshold is judged from this many slices on."""


def volume_domain(volume: VolumeLike, model: Detector, roi: RoiResult) -> DomainCheck:
    """The volume against the model's fingerprint (:mod:`ctreview.model.domain`); never raises for it.

    ``checks["warnings"]`` holds the volume's load warnings and the ROI's.
    """
    from ctreview.errors import CtreviewError
    from ctreview.model.domain import compare, volume_features
    from ctreview.model.meta import read_fingerprint

    try:
        check = compare(read_fingerprint(model.meta), volume_features(volume, roi))
    except (CtreviewError, ValueError, IndexError) as exc:  # a check that cannot run must not stop scoring
        check = DomainCheck(True, "", {"error": f"domain check not possible: {exc}"}, verdict=NOT_CHECKED)
    # what loading and the ROI found doubtful travels with the run, so reports state it
    warnings = list(dict.fromkeys([*getattr(volume, "warnings", []), *roi.warnings]))
    if warnings:
        check.checks["warnings"] = warnings
    return check


def run_scoring(volume: VolumeLike, model: Detector, settings: ScoringSettings | None = None, *,
                roi: RoiResult | None = None, workspace: Workspace | None = None,
                out: str | Path | None = None, maps: tuple[str, ...] = (),
                should_stop: StopFlag | None = None,
                defects: DefectSettings | None = None) -> Generator[ScoringEvent, None, RunSummary]:
    """Score a volume, record the run and find its 3D defects.

    Parameters
    ----------
    volume : VolumeLike or ndarray, shape (z, y, x)
    model : Detector
    settings : ScoringSettings, optional
    roi : RoiResult, optional
        The ROI when already found (else :func:`~ctreview.scoring.stream.find_roi`).
    workspace : Workspace, optional
        Registers volume, model and run, stores every result as it comes
        (with its heatmap) and the summary at the end.
    out : path, optional
        Run folder for ``scores.csv``, ``heatmap.tif`` and ``summary.json``.
    maps : tuple of str
        Scorers of a fused model whose own maps also go into the run folder
        (``heatmap-<name>.tif``, in units of that scorer's 1 % threshold).
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
    unknown = sorted(set(maps) - set(getattr(model, "scorers", {})))
    if unknown:
        from ctreview.errors import CtreviewError

        known = ", ".join(getattr(model, "scorers", {})) or "none (a format-1 model has one map)"
        raise CtreviewError(model.path, f"no scorer {', '.join(unknown)} in this model (its scorers: {known})")
    check_stack(volume)
    cfg = settings or ScoringSettings()
    roi = roi if roi is not None else find_roi(volume, model, cfg)
    cfg = cfg.changed(profile=roi.profile.name)
    volume_id = run_id = None
    if workspace is not None:
        volume_id = workspace.add_volume(volume)
        model_id = workspace.add_model(model.path or "", dict(model.meta))
        run_id = workspace.start_run(volume_id, model_id, cfg.mode, cfg.to_dict(), str(model.device))
    writer = RunWriter(out, volume.shape, tuple(maps)) if out is not None else None
    found = RunDefects(volume.shape, volume.spacing, defects, origin=getattr(volume, "origin", (0.0, 0.0, 0.0)),
                       heatmap=writer.heatmap if writer is not None else None,
                       fallback=partial(workspace.heatmap, run_id) if workspace is not None and run_id else None)
    scale = model_scale(volume, roi, model, cfg)
    domain = volume_domain(scale.volume, model, scale.roi)  # the model sees the binned scan
    yield RunStarted(run_id, volume_id, roi, len(roi.slices), str(model.device), cfg, domain.to_dict(),
                     scale.choice.line())
    relative: dict[int, float] = {}

    def record(result: SliceResult) -> None:
        relative[result.index] = result.relative
        if writer is not None:
            writer.add(result)
        if workspace is not None and run_id is not None:
            workspace.add_results(run_id, [result])
        found.add(result.index, result.heatmap)

    summary = yield from relay(score_volume(volume, model, cfg, roi=roi, should_stop=should_stop, scale=scale),
                               record)
    summary.run_id = run_id
    enough = not summary.cancelled or len(relative) >= MIN_SLICES_FOR_SHARE
    # what a scorer doubted about the volume (an atlas registration that failed) goes with the run, and
    # makes it one the model's ranking cannot be trusted on (the window's banner, batch.csv)
    doubts = list(getattr(model, "run_warnings", ()))
    summary.domain = with_doubts(merge(domain, check_scores(relative.values()) if enough else None),
                                 doubts).to_dict()
    summary.warnings += [w for w in doubts if w not in summary.warnings]
    summary.defects, summary.defect_settings = found.final(), found.settings
    if workspace is not None and run_id is not None:
        workspace.add_defects(run_id, summary.defects, summary.defect_settings.to_dict())
    if writer is not None:
        writer.close(summary)
    if workspace is not None and run_id is not None:
        workspace.finish_run(run_id, summary.to_dict())
    return summary

