"""Turn a crop into the part's frame (major axis along +x, the part's centre in the middle) and back."""
from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import affine_transform


def _matrix(angle_deg: float) -> np.ndarray:
    a = math.radians(angle_deg)
    return np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])


def square_side(shape: tuple[int, int]) -> int:
    """Side of a square that holds a crop of ``shape`` turned by any angle."""
    return int(math.ceil(math.hypot(*shape))) | 1


def into_frame(image: np.ndarray, center: tuple[float, float], angle_deg: float, *, order: int = 1,
               side: int | None = None) -> np.ndarray:
    """Resample ``image`` (y, x) so that the direction ``angle_deg`` (from +x towards +y) at ``center``
    lies along +x through the middle of a square of ``side`` pixels (edge values beyond the crop)."""
    side = side or square_side(image.shape)
    m, mid = _matrix(angle_deg), np.full(2, (side - 1) / 2.0)
    # output pixel o samples the input at center + M (o - mid): M's columns are the minor and major axes
    return affine_transform(np.asarray(image, np.float32), m, offset=np.asarray(center, float) - m @ mid,
                            output_shape=(side, side), order=order, mode="nearest")


def out_of_frame(square: np.ndarray, shape: tuple[int, int], center: tuple[float, float],
                 angle_deg: float) -> np.ndarray:
    """The inverse of :func:`into_frame` for a map: back to the crop's ``shape`` (y, x)."""
    m, mid = _matrix(angle_deg), np.full(2, (square.shape[0] - 1) / 2.0)
    # crop pixel i samples the square at mid + M^T (i - center)
    return affine_transform(np.asarray(square, np.float32), m.T, offset=mid - m.T @ np.asarray(center, float),
                            output_shape=tuple(shape), order=1, mode="nearest")
