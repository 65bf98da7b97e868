"""What the core asks of a volume, and the one place arrays become volumes.

Core functions take a :class:`VolumeLike` (a :class:`~ctreview.io.Volume`
satisfies it) and call :func:`as_volume` once at their entry, so no function
below needs to ask whether it was handed an array or a volume.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ctreview.io.volume import Volume


@runtime_checkable
class VolumeLike(Protocol):
    """A 3D volume read slice by slice; axes (z, y, x), spacing in mm."""

    path: Path | None
    shape: tuple[int, int, int]
    dtype: np.dtype
    spacing: tuple[float, float, float]
    format: str
    layout: str
    warnings: list[str]

    def __len__(self) -> int: ...

    def slice(self, k: int) -> np.ndarray:
        """Return slice ``k``, shape (y, x)."""
        ...

    def read(self, z0: int = 0, z1: int | None = None) -> np.ndarray:
        """Return slices ``z0:z1``, shape (z, y, x)."""
        ...

    def valid_box(self, k: int) -> tuple[int, int, int, int]:
        """The ``(y0, x0, y1, x1)`` of slice ``k`` that holds data."""
        ...

    def warn(self, message: str) -> None:
        """Note something doubtful about the volume."""
        ...


def as_volume(data: Any, spacing: Sequence[float] = (1.0, 1.0, 1.0)) -> VolumeLike:
    """Return ``data`` as a volume: a volume as it is, an array wrapped.

    Parameters
    ----------
    data : VolumeLike or array_like
        A volume, a ``(z, y, x)`` array or a ``(y, x)`` array (one slice).
    spacing : sequence of float
        Voxel size (z, y, x) in mm for a wrapped array.

    Raises
    ------
    CtreviewError
        An array that is not 2D/3D numbers or has an empty axis.
    """
    if isinstance(data, VolumeLike):
        return data
    return Volume.from_array(np.asarray(data), spacing=spacing)
