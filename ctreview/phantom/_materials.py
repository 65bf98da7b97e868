"""Materials of the simulated parts and their relative X-ray attenuation.

Attenuation is relative to ferrite (1.0) so it does not depend on the voxel
size; :mod:`ctreview.phantom._ctsim` scales it to a per-pixel value. The
order follows real parts at ~100 kV: plastic < rubber < paper < FR4 board <
aluminium < ferrite < copper < tin-lead solder < tungsten.
"""
from __future__ import annotations

import numpy as np

AIR, PLASTIC, BOARD, FERRITE, COPPER, SOLDER, ALU, FOIL, PAPER, RUBBER, TUNGSTEN = range(11)

NAMES = ("air", "plastic", "board", "ferrite", "copper", "solder", "aluminium",
         "foil", "paper", "rubber", "tungsten")

ATTENUATION = np.array(
    [0.0, 0.10, 0.50, 1.0, 2.0, 3.0, 0.70, 0.90, 0.35, 0.30, 4.0], dtype=np.float32)
"""Relative attenuation indexed by material id."""

FIXTURE_MATERIALS = (PLASTIC,)
"""Materials that belong to the holder, not to the part (never in ``part_mask``)."""


def attenuation_map(labels: np.ndarray) -> np.ndarray:
    """Return the relative attenuation of a label volume.

    Parameters
    ----------
    labels : ndarray of uint8, shape (z, y, x)
        Material ids.

    Returns
    -------
    ndarray of float32, shape (z, y, x)
    """
    return ATTENUATION[labels]
