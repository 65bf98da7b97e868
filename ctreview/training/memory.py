"""The memory budget of a training run: what its largest structures may hold.

Training holds what grows with the data unless bounded: the normal patch
features the memory bank is chosen from, the normal tile stacks the defect
head and the AnoGAN draw their batches from, and the images in flight
through the backbone. The patches and each family's tiles get a share of the
budget each (a uniform sample beyond it); a budget too small for even one
batch is refused with a clear error before anything is read.
"""
from __future__ import annotations

import os
import re
from dataclasses import replace
from typing import TYPE_CHECKING

from ctreview.errors import CtreviewError

if TYPE_CHECKING:  # the command line reads this module before the settings (and torch) load
    from ctreview.training.detector_settings import DetectorSettings

MIN_BUDGET = 256 * 2**20
"""Below this no run fits: the backbone, one batch and the networks alone take about that."""
SHARE = 0.25
"""Share of the budget for each of the patch sample and the head's tiles."""
FEATURE_DIM_GUESS = 64
"""Floats per patch feature assumed for the patch sample's share (EfficientNet-Lite0 gives 40)."""


def default_budget() -> int:
    """A quarter of this machine's memory, at most 2 GiB (bytes)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 * 2**30
    return int(min(total // 4, 2 * 2**30))


def parse_size(text: str) -> int:
    """Bytes of a size such as ``1.5G``, ``800M``, ``2GB`` or a plain number of bytes."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmMgGtT]?)[iI]?[bB]?\s*", str(text))
    if not m:
        raise CtreviewError(None, f"--memory must be a size such as 1.5G or 800M, not {text!r}")
    scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def within_budget(settings: DetectorSettings, budget: int | None = None) -> DetectorSettings:
    """The :class:`~ctreview.training.detector_settings.DetectorSettings` with its sample sizes bounded by
    ``budget`` bytes (``settings.memory`` or :func:`default_budget` when None).

    Raises
    ------
    CtreviewError
        A budget under :data:`MIN_BUDGET`.
    """
    budget = int(budget or settings.memory or default_budget())
    if budget < MIN_BUDGET:
        raise CtreviewError(None, f"a memory budget of {budget / 2**20:.0f} MB cannot hold a training run "
                                  f"(at least {MIN_BUDGET // 2**20} MB); raise --memory")
    patches = int(budget * SHARE // (FEATURE_DIM_GUESS * 4))
    tile_bytes = (1 + len(settings.offsets)) * settings.tile_size ** 2 * 4
    tiles = max(64, int(budget * SHARE // tile_bytes))
    features = replace(settings.features, max_patches=min(settings.features.max_patches, patches))
    head = replace(settings.head, max_tiles=min(settings.head.max_tiles, tiles))
    anogan = replace(settings.anogan, max_tiles=min(settings.anogan.max_tiles, tiles))
    return replace(settings, features=features, head=head, anogan=anogan, memory=budget)
