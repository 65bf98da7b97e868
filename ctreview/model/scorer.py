"""Scorers behind one small protocol: slices with their context in, per-pixel anomaly maps out.

Every scorer family (the deep-feature model of normality, the learned
defect head, the AnoGAN residual) is a class with the same call, so the
scoring stream treats them alike (anomalib's ``forward -> anomaly_map``;
MONAI keeps tiling apart from the network). A scorer sees a crop of each
slice around its ROI, never the volume, and knows nothing of fusion or
thresholds: its maps are in its own units, larger is more anomalous.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch


@dataclass
class SliceInput:
    """What a scorer sees of one slice.

    Attributes
    ----------
    index : int
        Slice index z (image index for independent images).
    image : ndarray of float32, shape (y, x)
        Raw grey values of the crop around the slice's ROI.
    context : ndarray of float32, shape (c, y, x)
        The same crop in the context slices, one per entry of ``offsets``
        (none for independent images).
    mask : ndarray of bool, shape (y, x)
        The ROI inside the crop.
    box : tuple of int
        ``(y0, x0, y1, x1)`` of the crop in slice coordinates.
    position : float
        Height of the slice within the part, 0 at its bottom and 1 at its top
        (0.5 for independent images).
    tiles : list of (int, int)
        Top-left corners of the ROI's model tiles, in crop coordinates.
    offsets : tuple of int
        The context slices' offsets along z.
    center : (float, float)
        The part's centre (y, x) in crop coordinates.
    angle : float
        Direction of the part's major axis, degrees from +x towards +y (0 when unknown).
    context_slices : tuple of int
        The slice index of each context entry (an offset beyond the ROI's slices
        takes the nearest ROI slice, so an index may repeat); empty when unknown.
    context_tiles : tuple of list of (int, int)
        Each context slice's own ROI tiles, in crop coordinates; empty when unknown.
    """

    index: int
    image: np.ndarray
    context: np.ndarray
    mask: np.ndarray
    box: tuple[int, int, int, int]
    position: float = 0.5
    tiles: list[tuple[int, int]] = field(default_factory=list)
    offsets: tuple[int, ...] = ()
    center: tuple[float, float] = (0.0, 0.0)
    angle: float = 0.0
    context_slices: tuple[int, ...] = ()
    context_tiles: tuple[list[tuple[int, int]], ...] = ()

    @property
    def stack(self) -> np.ndarray:
        """Slice and context as one ``(1 + c, y, x)`` stack (channel 0 the slice)."""
        return np.concatenate([self.image[None], self.context]).astype(np.float32, copy=False)

    def stack_of(self, offsets: Sequence[int]) -> np.ndarray:
        """The slice and the context slices at ``offsets`` (a subset of :attr:`offsets`), ``(1 + k, y, x)``.

        Raises
        ------
        ValueError
            An offset this input does not carry.
        """
        missing = [o for o in offsets if o not in self.offsets]
        if missing:
            raise ValueError(f"slice {self.index} carries context {self.offsets}, not {missing}")
        rows = [self.offsets.index(o) for o in offsets]
        return np.concatenate([self.image[None], self.context[rows]]).astype(np.float32, copy=False)


@dataclass(frozen=True)
class RunOptions:
    """What one scoring run asks of every scorer (None: the scorer keeps the value stored in the model).

    Attributes
    ----------
    search_steps : int or None
        Latent-search depth of an AnoGAN scorer (0: its encoder alone).
    lam : float or None
        Weight of the AnoGAN search's feature-matching term.
    batch_size : int or None
        Tiles per network batch; a scorer that runs whole slices takes as many
        slices as hold that many tiles' pixels (:meth:`slices_per_batch`).
    tile_size : int
        The model's tile side, the unit of ``batch_size``.
    should_stop : callable, optional
        Polled inside long steps (the latent search); a scorer then ends them early.
    """

    search_steps: int | None = None
    lam: float | None = None
    batch_size: int | None = None
    tile_size: int = 64
    should_stop: Callable[[], bool] | None = None

    @property
    def batch_pixels(self) -> int | None:
        """Pixels per network batch that ``batch_size`` asks for (None: the scorer's own batch)."""
        return None if self.batch_size is None else int(self.batch_size) * self.tile_size ** 2

    def slices_per_batch(self, shape: tuple[int, ...], default: int) -> int:
        """Slices of ``shape`` (..., y, x) per network batch: ``default``, or as many as :attr:`batch_pixels` hold."""
        pixels = self.batch_pixels
        if pixels is None:
            return int(default)
        return max(1, pixels // max(1, int(shape[-1]) * int(shape[-2])))


class Scorer(Protocol):
    """A scorer family: ``maps`` gives one raw anomaly map per slice, in its own units.

    ``configure`` takes a run's options before it scores; ``slice_values``
    gives what a scorer measured of a slice besides its map in the last
    ``maps`` call (the AnoGAN's paper score), ``{}`` when nothing.

    A scorer that models the slice itself may also have ``expected(index)``:
    the crop it expected, in raw grey values (its reconstruction), from the
    last ``maps`` call, or None (:meth:`Detector.expected` asks for it).
    """

    name: str

    def configure(self, options: RunOptions) -> None:
        """Take the options of the run about to score (a run's settings override the model's)."""
        ...

    def slice_values(self, index: int) -> dict[str, float]:
        """Per-slice values of slice ``index`` from the last :meth:`maps` call (empty when none)."""
        ...

    def maps(self, inputs: Sequence[SliceInput]) -> list[np.ndarray]:
        """Return one float32 map per input, each the shape of its crop; larger is more anomalous."""
        ...

    def state(self) -> dict[str, torch.Tensor]:
        """The scorer's weights and fitted statistics as flat named tensors (for safetensors)."""
        ...

    def config(self) -> dict[str, Any]:
        """JSON-able description from which :func:`~ctreview.model.load_model` rebuilds it."""
        ...


class VolumeStep(Protocol):
    """What a scorer adds when it needs the whole volume once before its slices (the atlas' registration).

    Optional: :meth:`~ctreview.model.detector.Detector.prepare` calls it on
    the scorers that have it, before a volume's first slice (scoring and
    calibration alike); the other families need not implement it.
    """

    def prepare(self, volume: Any, roi: Any) -> list[str]:
        """Take the volume (at the model's scale) and its ROI; return one line per doubt about it (none: [])."""
        ...
