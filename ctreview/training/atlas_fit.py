"""Fit the atlas scorer: the fit volumes registered into an atlas, the held-out ones measured against it.

The held-out normal volumes' residual over the whole part sets the level
above which a scan is warned about (another part, a failed registration);
their registrations are kept in the scorer, so calibration, which scores the
same volumes next, does not register them again.
"""
from __future__ import annotations

import logging
from collections.abc import Generator

import numpy as np

from ctreview.atlas import AtlasSettings, NormalScan, Pose, build_atlas
from ctreview.errors import Cancelled, CtreviewError
from ctreview.model.scorers.atlas_scorer import AtlasScorer
from ctreview.progress import StopFlag
from ctreview.training.normal_data import NormalVolume
from ctreview.training.settings import TrainEvent

log = logging.getLogger(__name__)
Part = list[tuple[int, list[int]]]


def _scan(normal: NormalVolume) -> NormalScan:
    array = np.asarray(normal.volume.read(0, normal.volume.shape[0]), np.float32)
    return NormalScan(array, Pose.of_roi(normal.roi), normal.roi.part_bbox, normal.source)


def atlas_volumes(normals: list[NormalVolume], fit: Part, held: Part) -> tuple[list[int], list[int]]:
    """The volumes that build the atlas and those held out; CtreviewError when there cannot be an atlas."""
    if normals[0].volume.layout == "images":
        raise CtreviewError(None, "the atlas scorer compares volumes: independent images cannot train it "
                                  "(leave atlas out of --scorers)")
    fitted, kept = [i for i, _ in fit], [i for i, _ in held]
    if len(fitted) < 2 or set(fitted) & set(kept):
        raise CtreviewError(None, "the atlas scorer needs at least three normal volumes (two or more to build "
                                  "the atlas, one to hold out); give more volumes or leave atlas out of --scorers")
    return fitted, kept


def fit_atlas(normals: list[NormalVolume], fit: Part, held: Part, settings: AtlasSettings,
              should_stop: StopFlag | None = None) -> Generator[TrainEvent, None, AtlasScorer]:
    """Build the atlas of the fit volumes and measure the held-out ones (phase ``atlas``).

    Parameters
    ----------
    normals : list of NormalVolume
        At the working scale, each with its ROI.
    fit, held : list of (volume index, slices)
        Whole volumes (:func:`~ctreview.training.normal_data.split` with several volumes).
    settings : AtlasSettings

    Returns
    -------
    AtlasScorer
    """
    fitted, kept = atlas_volumes(normals, fit, held)
    total = len(fitted) + len(kept)
    yield TrainEvent("atlas", 1, 1, 0, total, note="atlas: registering the normal volumes")
    try:
        atlas, _ = build_atlas([_scan(normals[i]) for i in fitted], normals[fitted[0]].volume.spacing, settings)
    except ValueError as exc:
        raise CtreviewError(None, f"the atlas cannot be built: {exc}") from exc
    yield TrainEvent("atlas", 1, 1, len(fitted), total)
    scorer = AtlasScorer(atlas)
    measured = []
    for done, i in enumerate(kept, len(fitted) + 1):
        if should_stop is not None and should_stop():
            raise Cancelled("training stopped")
        one = scorer.measure(normals[i].volume, normals[i].roi)
        if one.registration.converged:
            atlas.normal_levels.append(one.level)
        else:
            log.warning("atlas: held-out normal volume %s did not register (%s)", normals[i].source,
                        one.registration.note)
        measured.append(one)
        yield TrainEvent("atlas", 1, 1, done, total)
    for one in measured:  # judged again now that every normal level is known; calibration reuses them
        one.warnings = scorer.doubts(one.registration, one.level)
        scorer.remember(one)
    return scorer
