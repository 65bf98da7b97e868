"""Small shared steps of the scorer adapters."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def to_unit(image: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """Map raw grey values to [0, 1] by a window ``(lo, hi)``; values beyond keep some headroom."""
    lo, hi = window
    x = (np.nan_to_num(np.asarray(image, np.float32), nan=lo) - lo) / max(hi - lo, 1e-12)
    return np.clip(x, -0.25, 1.25, out=x)


def by_shape(items: Sequence[np.ndarray], run: Callable[[list[int]], list[np.ndarray]]) -> list[np.ndarray]:
    """Call ``run`` on groups of indices whose items share one shape; results in the input's order."""
    out: list[np.ndarray | None] = [None] * len(items)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(tuple(np.shape(item)), []).append(i)
    for idx in groups.values():
        for i, result in zip(idx, run(idx)):
            out[i] = result
    return [np.asarray(o, np.float32) for o in out]
