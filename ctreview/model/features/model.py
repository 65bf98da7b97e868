"""What every deep-feature model of normality shares: batching, masks, maps, scores, state.

A subclass says how normal patch features are summarised (``_fit``) and
how far a grid of features is from them (``_distances``); this class turns
images into features and distances back into smoothed anomaly maps.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ctreview.errors import Cancelled
from ctreview.model.features.extract import FeatureSettings, PatchFeatures
from ctreview.model.features.maps import gaussian_smooth, grid_mask, grid_to_image, masked_max
from ctreview.model.nets.backbone import Backbone
from ctreview.progress import drain

BATCH_PIXELS = 8 * 362 * 362
"""At most this many image pixels (upsampled, every view counted) per backbone pass: the activations of a
batch grow with it, about 100 MB per 538 x 538 image (8 phantom slices turned into their frame a pass;
3 slices of the cell binned to 190 px)."""
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

    def _begin(self, images: int) -> None:
        """Start collecting the features of ``images`` images (all angles counted)."""
        self._feats: list[torch.Tensor] = []
        self._cells: list[torch.Tensor] = []
        self._where: list[float] = []

    def _add(self, feats: list[torch.Tensor], cells: list[torch.Tensor], positions: list[float] | None) -> None:
        """Take one batch: features (d, h, w), cell masks (h, w) and positions of its images."""
        self._feats += feats
        self._cells += cells
        self._where += positions or []

    def _end(self) -> Generator[tuple[str, int, int], None, None]:
        """Fit on what was collected (by default: every image's whole feature grid at once).

        A generator: a long fit yields ``(stage, done, total)`` as it goes.
        """
        feats, cells, where = self._feats, self._cells, self._where
        self._feats, self._cells, self._where = [], [], []
        self._fit(feats, cells, where or None)
        yield from ()

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
            Images through the backbone so far.
        should_stop : callable() -> bool, optional
            Checked per batch; raises :class:`~ctreview.errors.Cancelled`.
        """
        def note(step: tuple[str, int, int]) -> None:
            if progress is not None and step[0] == "features":
                progress(step[1], step[2])

        return drain(self.iter_fit(images, masks, positions, should_stop=should_stop), note)

    def iter_fit(self, images: Sequence[np.ndarray], masks: Sequence[np.ndarray] | None = None,
                 positions: Sequence[float] | None = None, *, should_stop: Callable[[], bool] | None = None
                 ) -> Generator[tuple[str, int, int], None, FeatureModel]:
        """:meth:`fit` as a generator of ``(stage, done, total)``: ``"features"`` per batch of images
        (every turned copy counted), then the model's own stages (``"coreset"``); returns the model.

        Images are read a batch at a time (a sequence may make them on demand).
        """
        t0 = time.perf_counter()
        angles = (0.0,) + tuple(float(a) for a in self.settings.rotations)
        total, done = len(images) * len(angles), 0
        self._begin(total)
        for angle in angles:  # one pass per angle; turned images are made a batch at a time
            imgs, msks = (images, masks) if angle == 0 else (_Turned(images, masks, angle, image=True),
                                                             _Turned(images, masks, angle, image=False))
            for idx, f, cell, _ in self._batches(imgs, msks, None, should_stop):
                self.dim = int(f.shape[1])
                self._add(list(f), list(cell), None if positions is None else [float(positions[i]) for i in idx])
                done += len(idx)
                yield "features", done, total
        yield from self._end()
        self.fit_seconds = time.perf_counter() - t0
        return self

    def score(self, images: Sequence[np.ndarray], masks: Sequence[np.ndarray] | None = None,
              positions: Sequence[float] | None = None, *,
              should_stop: Callable[[], bool] | None = None, batch_pixels: int | None = None) -> FeatureScores:
        """Anomaly maps (Gaussian-smoothed distance from normal) and image scores; see :meth:`fit`.

        ``batch_pixels`` bounds the image pixels per backbone pass (default :data:`BATCH_PIXELS`).
        """
        maps: list[np.ndarray] = [None] * len(images)  # type: ignore[list-item]
        scores = np.zeros(len(images), np.float32)
        for idx, f, _, m in self._batches(images, masks, None, should_stop, batch_pixels):
            dist = self._distances(f, None if positions is None else [float(positions[i]) for i in idx])
            shape = tuple(np.shape(images[idx[0]])[-2:])
            pix = gaussian_smooth(grid_to_image(dist, shape, self.features.stride, self.settings.scale),
                                  self.settings.sigma)
            scores[idx] = masked_max(pix, m).numpy()
            for j, i in enumerate(idx):
                maps[i] = pix[j].numpy()
        return FeatureScores(scores=scores, maps=maps)

    def _batches(self, images, masks, progress, should_stop, pixels: int | None = None) -> Iterator[tuple]:
        """Yield (indices, features (b, d, h, w), cell masks (b, h, w), pixel masks (b, y, x) or None).

        Consecutive images of one shape share a batch (slices of a volume do).
        """
        n, start = len(images), 0
        while start < n:
            shape = _shape(images, start)
            size = batch_size(self.settings, shape, pixels)
            stop = start + 1
            while stop < n and stop - start < size and _shape(images, stop) == shape:
                stop += 1
            if should_stop is not None and should_stop():
                raise Cancelled()
            x = torch.from_numpy(np.stack([_as_views(images[i]) for i in range(start, stop)]))
            f = self.features(x)
            if masks is not None and any(_shape(masks, i)[-2:] != shape[-2:] for i in range(start, stop)):
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


class _Turned(Sequence):
    """Images (or their masks) turned by ``angle`` degrees (from +x towards +y) about their centre, made on
    demand so a whole turned copy of the training images is never held. Masks are False where the turn
    brings in no image (so those patches never become normal examples)."""

    def __init__(self, images: Sequence[np.ndarray], masks: Sequence[np.ndarray] | None, angle: float, *,
                 image: bool) -> None:
        self.images, self.masks, self.angle, self.image = images, masks, -float(angle), image
        # scipy turns from +x towards -y (counter-clockwise as displayed, y down): hence the sign

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        from scipy.ndimage import rotate

        views = _as_views(self.images[i])
        if self.image:
            return rotate(views, self.angle, axes=(1, 2), reshape=False, order=1, mode="nearest")
        inside = np.ones(views.shape[1:], np.float32) if self.masks is None else np.asarray(self.masks[i], np.float32)
        return rotate(inside, self.angle, reshape=False, order=1, mode="constant", cval=0.0) > 0.5


def batch_size(settings: FeatureSettings, shape: tuple[int, ...], pixels: int | None = None) -> int:
    """Images of ``shape`` ((y, x) or (views, y, x)) per backbone pass: ``settings.batch``, fewer for large ones.

    ``pixels``, where a scoring run's ``--batch-size`` sets it, bounds the images' pixels of a pass and
    alone decides; by default at most :data:`BATCH_PIXELS` backbone input pixels go through at once.
    """
    views = int(shape[0]) if len(shape) == 3 else 1
    image = views * int(shape[-2]) * int(shape[-1])
    if pixels is not None:
        return max(1, int(pixels) // max(image, 1))
    return max(1, min(int(settings.batch), int(BATCH_PIXELS // max(image * float(settings.scale) ** 2, 1.0))))


def _shape(items: Sequence[np.ndarray], i: int) -> tuple[int, ...]:
    """Shape of ``items[i]`` without making a turned image (a turn keeps the shape)."""
    if isinstance(items, _Turned):
        src = np.shape(items.images[i])
        return tuple(src) if items.image else tuple(src[-2:])
    return tuple(np.shape(items[i]))


def _as_views(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image, np.float32)
    return a[np.newaxis] if a.ndim == 2 else a
