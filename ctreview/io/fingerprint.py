"""Content fingerprints of volumes, so a moved or renamed file is recognised.

The fingerprint hashes what the volume *is* (shape, dtype, voxel spacing and
the pixels of a few sampled slices), never where it lies, so copying,
moving or renaming the file keeps it and editing the pixels changes it.
"""
from __future__ import annotations

import hashlib

import numpy as np

from ctreview.io.like import VolumeLike

N_SAMPLES = 5
"""How many slices are hashed: first, last and evenly spaced between."""


def sample_indices(n_slices: int, n_samples: int = N_SAMPLES) -> list[int]:
    """Return the sorted, distinct slice indices the fingerprint reads."""
    if n_slices <= 0:
        return []
    return sorted({int(round(i)) for i in np.linspace(0, n_slices - 1, n_samples)})


def volume_fingerprint(volume: VolumeLike) -> str:
    """Return a hex digest identifying the volume's content.

    Parameters
    ----------
    volume : Volume
        Needs ``shape`` (z, y, x), ``spacing`` (z, y, x) in mm and
        ``slice(k)`` returning a (y, x) array.

    Returns
    -------
    str
        ``"v1:"`` followed by 32 hex digits (BLAKE2b).
    """
    digest = hashlib.blake2b(digest_size=16)
    shape = tuple(int(s) for s in volume.shape)
    # Spacing is rounded so that float noise between readers does not matter.
    spacing = tuple(round(float(s), 6) for s in volume.spacing)
    digest.update(repr((shape, spacing)).encode())
    for k in sample_indices(shape[0]):
        pixels = np.ascontiguousarray(volume.slice(k))
        digest.update(f"{k}:{pixels.dtype.str}:{pixels.shape}".encode())
        digest.update(pixels.tobytes())
    return "v1:" + digest.hexdigest()
