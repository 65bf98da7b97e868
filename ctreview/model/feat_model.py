"""What every deep-feature model of normality shares: batching, masks, maps, scores, state.

A subclass says how normal patch features are summarised (``_fit``) and
how far a grid of features is from them (``_distances``); this class turns
images into features and distances back into smoothed anomaly maps.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ctreview.errors import Cancelled
from ctreview.model.backbone import Backbone
from ctreview.model.feat_extract import FeatureSettings, PatchFeatures
from ctreview.model.feat_maps import gaussian_smooth, grid_mask, grid_to_image, masked_max

FORMAT = "ctreview-features"
FORMAT_VERSION = 1


@dataclass
class FeatureScores:
    """Scores of a list of images.

    Attributes
    ----------
    scores : ndarray of float32, shape (n,)
        Maximum of each map inside its mask (the whole map without one).
    maps : list of ndarray of float32, each (y, x)
        Per-pixel anomaly map of each image, at the image's size.
    """

    scores: np.ndarray
    maps: list[np.ndarray]


class FeatureModel:
    """Base class; use :class:`~ctreview.model.features.PatchCore` or ``Padim``.

    Images are sequences of arrays, each (y, x) or (views, y, x), grey values
    in [0, 1] (window CT values first); masks (y, x) bool; positions floats.
    """

    kind = ""

    def __init__(self, settings: FeatureSettings | None = None, *, backbone: Backbone | None = None) -> None:
        self.settings = settings or FeatureSettings(method=self.kind)
        self.features = PatchFeatures(self.settings, backbone)
        self.dim: int | None = None
        self.fit_seconds = 0.0

    # -- subclass hooks -------------------------------------------------
    def _fit(self, feats: list[torch.Tensor], cells: list[torch.Tensor], positions: list[float] | None) -> None:
        raise NotImplementedError

    def _distances(self, feats: torch.Tensor, positions: list[float] | None) -> torch.Tensor:
        """Distances (b, h, w) of a batch of features (b, d, h, w) from normal."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The fitted model as flat named tensors (what safetensors stores)."""
        raise NotImplementedError

    def load_state(self, state: dict[str, torch.Tensor], config: dict) -> None:
        raise NotImplementedError

    # -- public ---------------------------------------------------------
    def config(self) -> dict:
        """JSON-able description: format, kind, settings and feature size."""
        return {"format": FORMAT, "version": FORMAT_VERSION, "kind": self.kind,
                "settings": self.settings.to_json(), "dim": self.dim}

    @property
    def nbytes(self) -> int:
        """Bytes of the fitted state (the memory bank or the Gaussians)."""
        return sum(t.numel() * t.element_size() for t in self.state_dict().values())

    def fit(self, images: Sequence[np.ndarray], masks: Sequence[np.ndarray] | None = None,
            positions: Sequence[float] | None = None, *,
            progress: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> FeatureModel:
        """Learn what normal looks like from normal images.

        Parameters
        ----------
        images : sequence of ndarray, each (y, x) or (views, y, x)
        masks : sequence of ndarray of bool, each (y, x), optional
            Only patches overlapping the mask are normal examples.
        positions : sequence of float, optional
            Needed when ``settings.position_window`` is set.
        progress : callable(done, total), optional
        should_stop : callable() -> bool, optional
            Checked per batch; raises :class:`~ctreview.errors.Cancelled`.
        """
        t0 = time.perf_counter()
        feats, cells, where = [], [], []
        angles = (0.0,) + tuple(float(a) for a in self.settings.rotations)
        for angle in angles:  # one pass per angle keeps one turned copy of the images in memory
            turned = (images, masks) if angle == 0 else _turned(images, masks, angle)
            for _, f, cell, _ in self._batches(*turned, progress, should_stop):
                feats += list(f)
                cells += list(cell)
            where += [] if positions is None else [float(p) for p in positions]
        self.dim = int(feats[0].shape[0])
        self._fit(feats, cells, where or None)
        self.fit_seconds = time.perf_counter() - t0
        return self

    def score(self, images: Sequence[np.ndarray], masks: Sequence[np.ndarray] | None = None,
              positions: Sequence[float] | None = None, *,
              should_stop: Callable[[], bool] | None = None) -> FeatureScores:
        """Anomaly maps (Gaussian-smoothed distance from normal) and image scores; see :meth:`fit`."""
        maps: list[np.ndarray] = [None] * len(images)  # type: ignore[list-item]
        scores = np.zeros(len(images), np.float32)
        for idx, f, _, m in self._batches(images, masks, None, should_stop):
            dist = self._distances(f, None if positions is None else [float(positions[i]) for i in idx])
            shape = tuple(np.shape(images[idx[0]])[-2:])
            pix = gaussian_smooth(grid_to_image(dist, shape, self.features.stride, self.settings.scale),
                                  self.settings.sigma)
            scores[idx] = masked_max(pix, m).numpy()
            for j, i in enumerate(idx):
                maps[i] = pix[j].numpy()
        return FeatureScores(scores=scores, maps=maps)

    def _batches(self, images, masks, progress, should_stop) -> Iterator[tuple]:
        """Yield (indices, features (b, d, h, w), cell masks (b, h, w), pixel masks (b, y, x) or None).

        Consecutive images of one shape share a batch (slices of a volume do).
        """
        n, size = len(images), max(1, self.settings.batch)
        start = 0
        while start < n:
            shape = np.shape(images[start])
            stop = start + 1
            while stop < n and stop - start < size and np.shape(images[stop]) == shape:
                stop += 1
            if should_stop is not None and should_stop():
                raise Cancelled()
            x = torch.from_numpy(np.stack([_as_views(images[i]) for i in range(start, stop)]))
            f = self.features(x)
            if masks is not None and any(np.shape(masks[i]) != shape[-2:] for i in range(start, stop)):
                raise ValueError(f"a mask of shape {np.shape(masks[start])} for an image of {shape[-2:]}: "
                                 "masks must be in the images' frame")
            m = None if masks is None else torch.from_numpy(
                np.stack([np.asarray(masks[i], bool) for i in range(start, stop)]))
            cells = (torch.ones((stop - start,) + tuple(f.shape[-2:]), dtype=torch.bool) if m is None
                     else grid_mask(m, tuple(f.shape[-2:]), self.features.stride, self.settings.scale))
            yield list(range(start, stop)), f, cells, m
            if progress is not None:
                progress(stop, n)
            start = stop


def _turned(images, masks, angle: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Images turned by ``angle`` degrees (from +x towards +y) about their centre, and masks that
    are False where the turn brings in no image (so those patches never become normal examples)."""
    from scipy.ndimage import rotate

    angle = -angle  # scipy turns from +x towards -y (counter-clockwise as displayed, y down)
    out_images, out_masks = [], []
    for i, image in enumerate(images):
        views = _as_views(image)
        out_images.append(rotate(views, angle, axes=(1, 2), reshape=False, order=1, mode="nearest"))
        inside = np.ones(views.shape[1:], np.float32) if masks is None else np.asarray(masks[i], np.float32)
        out_masks.append(rotate(inside, angle, reshape=False, order=1, mode="constant", cval=0.0) > 0.5)
    return out_images, out_masks


def _as_views(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image, np.float32)
    return a[np.newaxis] if a.ndim == 2 else a
