"""Simulated CT volumes of electronic parts with known defects."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ctreview.phantom._ctsim import scanner_gain, simulate_volume
from ctreview.phantom._defects import plant_defects
from ctreview.phantom._geometry import BUILDERS, random_pose
from ctreview.phantom._materials import AIR, FIXTURE_MATERIALS, attenuation_map

PARTS = ("transformer", "capacitor")
VOXEL_MM = 0.05
"""Voxel size of the simulated scans in mm (isotropic)."""
_TWIN_KEY = 1
"""Spawn key of the twin's noise stream: SeedSequence(seed, spawn_key=(1,))."""


@dataclass
class Phantom:
    """A simulated CT scan with its ground truth.

    Attributes
    ----------
    volume : ndarray of uint16, shape (z, y, x)
        CT-simulated grey values (radon, Poisson noise, FBP); air is ~2000.
    part_mask : ndarray of bool, shape (z, y, x)
        Where the part is (its materials and its defects), not the plastic holder.
    defect_mask : ndarray of uint8, shape (z, y, x)
        0 = no defect, k = the k-th entry of ``defects``.
    defects : list of dict
        ``{"kind", "center": [z, y, x], "radius", "voxels", "material"}``.
    slice_labels : ndarray of uint8, shape (z,)
        1 where slice z holds defect voxels.
    part : str
    angle_deg : float
        In-plane rotation of the part's long axis, from +x towards +y, degrees.
    tilt_deg : float
        Tilt out of the slice plane, about the part's long axis, degrees.
    spacing : tuple of float
        Voxel size (z, y, x) in mm.
    """

    volume: np.ndarray
    part_mask: np.ndarray
    defect_mask: np.ndarray
    defects: list[dict]
    slice_labels: np.ndarray
    part: str
    angle_deg: float
    tilt_deg: float
    spacing: tuple[float, float, float] = field(default=(VOXEL_MM,) * 3)


def build_labels(part: str, *, size: int = 128, slices: int = 64, defective: bool = False,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[dict], object, np.random.Generator]:
    """Build the noise-free material volume of a phantom (no CT simulation).

    Returns
    -------
    labels : ndarray of uint8, shape (z, y, x)
        Material ids after the defects were planted.
    defect_mask : ndarray of uint8, shape (z, y, x)
    defects : list of dict
    pose : Pose
    rng : numpy.random.Generator
        The generator, advanced past the geometry, for the CT noise.
    """
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; expected one of {PARTS}")
    if size < 32 or slices < 8:
        raise ValueError("a phantom needs size >= 32 and slices >= 8")
    rng = np.random.default_rng(seed)
    pose = random_pose(rng, size, slices)
    labels = BUILDERS[part](pose, (slices, size, size))
    mask = np.zeros(labels.shape, np.uint8)
    defects: list[dict] = []
    if defective:
        mask, defects = plant_defects(labels, part, rng, int(rng.integers(2, 6)))
    return labels, mask, defects, pose, rng


def make_phantom(part: str, *, size: int = 128, slices: int = 64, defective: bool = False,
                 seed: int = 0) -> Phantom:
    """Simulate a CT scan of a part in a random pose, with or without defects.

    Parameters
    ----------
    part : {"transformer", "capacitor"}
        A current-sense transformer (ferrite toroid, copper windings, pins
        soldered to a small board) or a radial capacitor (wound foil in an
        aluminium can, two leads); both stand on a plastic holder plate.
    size : int
        Slice width and height in pixels (>= 32).
    slices : int
        Number of slices (>= 8).
    defective : bool
        Plant 2-5 small defects (voids, cracks, inclusions, missing or
        bridged material, stray solder balls).
    seed : int
        Everything (pose, defects, noise) follows from it.

    Returns
    -------
    Phantom
        ``volume`` has shape (slices, size, size).
    """
    labels, mask, defects, pose, rng = build_labels(
        part, size=size, slices=slices, defective=defective, seed=seed)
    return _scan(labels, mask, defects, pose, part, rng)


def make_twin(part: str, *, size: int = 128, slices: int = 64, seed: int = 0) -> Phantom:
    """Simulate the defect-free twin of ``make_phantom(part, defective=True, seed=seed)``.

    The twin is the same part in the same pose, without the defects, scanned
    again on the same scanner: the same detector gain error (so the same
    faint rings) but independent photon noise, drawn from
    ``SeedSequence(seed, spawn_key=(1,))``. ``x - twin`` is therefore the
    defects plus pure CT noise: the limit of any model of normality.

    Parameters
    ----------
    part : {"transformer", "capacitor"}
    size, slices : int
        As for :func:`make_phantom`.
    seed : int
        The seed of the defective phantom this is the twin of.

    Returns
    -------
    Phantom
        ``volume`` has shape (slices, size, size); no defects, empty
        ``defect_mask`` and ``slice_labels``; ``part_mask`` is the defective
        phantom's without the voxels that defects added (bridges, solder balls).
    """
    *_, defect_rng = build_labels(part, size=size, slices=slices, defective=True, seed=seed)
    gain = scanner_gain(defect_rng, size)  # the defective scan draws its gain first
    labels, mask, _, pose, _ = build_labels(part, size=size, slices=slices, defective=False,
                                            seed=seed)
    noise = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_TWIN_KEY,)))
    return _scan(labels, mask, [], pose, part, noise, gain=gain)


def _scan(labels: np.ndarray, mask: np.ndarray, defects: list[dict], pose, part: str,
          rng: np.random.Generator, gain: np.ndarray | None = None) -> Phantom:
    """CT-simulate a label volume and bundle it with its ground truth."""
    part_mask = (labels != AIR) & ~np.isin(labels, FIXTURE_MATERIALS)
    part_mask |= mask > 0  # voids and missing material still belong to the part
    volume = simulate_volume(attenuation_map(labels), rng, gain=gain)
    slice_labels = (mask.reshape(mask.shape[0], -1).max(axis=1) > 0).astype(np.uint8)
    return Phantom(volume=volume, part_mask=part_mask, defect_mask=mask, defects=defects,
                   slice_labels=slice_labels, part=part, angle_deg=round(pose.angle_deg, 3),
                   tilt_deg=round(pose.tilt_deg, 3))
