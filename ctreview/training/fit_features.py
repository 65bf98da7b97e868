"""Fit the deep-feature scorer on the fit slices, streamed: a batch of slices in memory at a time.

The slices are made on demand (read, cropped, windowed, turned into the
part's frame) as the feature model asks for them, and the model keeps a
bounded sample of their patches (:class:`~ctreview.model.feat_reservoir.Reservoir`),
so memory does not grow with the number of slices. Progress is reported
per batch of slices through the backbone and per 512 coreset entries.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Generator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ctreview.model.scorer import Scorer, SliceInput
from ctreview.progress import StopFlag
from ctreview.scoring.inputs import SliceInputs
from ctreview.training.normal_data import NormalVolume
from ctreview.training.settings import TrainEvent

Part = list[tuple[int, list[int]]]


class _FitSlices:
    """What the feature scorer sees of each fit slice (image, mask, position), made on demand.

    Indexing the three views (:attr:`images`, :attr:`masks`, :attr:`positions`) makes a slice's
    input once and keeps the last few (a batch is asked for image and mask in turn).
    """

    def __init__(self, normals: list[NormalVolume], part: Part, offsets: tuple[int, ...], scorer: Any) -> None:
        self.scorer = scorer
        self.keys = [(index, k) for index, ks in part for k in ks]
        self._builds = {index: SliceInputs(normals[index].volume, normals[index].roi, offsets) for index, _ in part}
        self._cache: OrderedDict[int, tuple[np.ndarray, np.ndarray, float]] = OrderedDict()
        self.images, self.masks, self.positions = (_View(self, i) for i in range(3))

    def __len__(self) -> int:
        return len(self.keys)

    def item(self, i: int) -> tuple[np.ndarray, np.ndarray, float]:
        hit = self._cache.get(i)
        if hit is None:
            index, k = self.keys[i]
            inp: SliceInput = self._builds[index](k)
            hit = (self.scorer.images([inp])[0], self.scorer.masks([inp])[0], float(inp.position))
            self._cache[i] = hit
            while len(self._cache) > 64:
                self._cache.popitem(last=False)
        return hit


class _View(Sequence):
    def __init__(self, owner: _FitSlices, field: int) -> None:
        self.owner, self.field = owner, field

    def __len__(self) -> int:
        return len(self.owner)

    def __getitem__(self, i):
        return self.owner.item(int(i))[self.field]


def fit_features(normals: list[NormalVolume], part: Part, s: Any, window: tuple[float, float],
                 offsets: tuple[int, ...], should_stop: StopFlag | None) -> Generator[TrainEvent, None, Scorer]:
    """Fit the deep-feature scorer of :class:`~ctreview.training.detector_settings.DetectorSettings` ``s``.

    Yields
    ------
    TrainEvent
        Phase ``"features"`` (slices through the backbone, every turned copy counted), then
        ``"coreset"`` (memory-bank entries chosen).
    """
    from ctreview.model.features import build_feature_model
    from ctreview.model.scorers.features_scorer import FeatureScorer

    align = s.feature_align and bool(offsets)  # independent images have no pose to turn to
    settings = s.features if align else replace(s.features, rotations=())
    scorer = FeatureScorer(build_feature_model(settings), window, context=s.feature_context,
                           positions=s.features.position_window is not None, align=align)
    data = _FitSlices(normals, part, offsets, scorer)
    steps = scorer.model.iter_fit(data.images, data.masks, data.positions if scorer.positions else None,
                                  should_stop=should_stop)
    while True:
        try:
            stage, done, total = next(steps)
        except StopIteration:
            break
        yield TrainEvent(stage, 1, 1, done, total)
    model = scorer.model
    kept = int(getattr(model, "bank", np.zeros(0)).shape[0]) or 1
    yield TrainEvent("coreset", 1, 1, kept, kept, {"bank_bytes": float(model.nbytes),
                                                   "patches": float(getattr(model, "patches_seen", 0))})
    return scorer
