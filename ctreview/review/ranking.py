"""The one ranking rule, shared by the window's list and every report."""
from __future__ import annotations

import math
from collections.abc import Iterable

from ctreview.results import SliceScore


def _key(score: SliceScore) -> tuple[float, int]:
    relative = score.relative if math.isfinite(score.relative) else -math.inf
    return (-relative, score.index)


def rank_slices(scores: Iterable[SliceScore]) -> list[int]:
    """Return slice indices, most suspicious first.

    Slices are ranked by their relative score (each against the threshold of
    the scoring family that gave it, so a refined slice and a fast one
    compare), ties by slice index; non-finite scores go last.
    """
    return [s.index for s in sorted(scores, key=_key)]


def ranks(scores: Iterable[SliceScore]) -> dict[int, int]:
    """Return ``slice -> rank`` (1 = most suspicious) by :func:`rank_slices`."""
    return {k: rank for rank, k in enumerate(rank_slices(scores), start=1)}
