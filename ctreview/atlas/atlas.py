"""The atlas of normal parts: per-voxel mean and spread in a reference frame, and a scan's residual against it."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import SimpleITK as sitk
from scipy.ndimage import gaussian_filter

from ctreview.atlas.frame import Pose, pose_transform, resample, to_image
from ctreview.atlas.registration import Registration, register, start_metric
from ctreview.atlas.settings import AtlasSettings


@dataclass
class Atlas:
    """Normal parts registered into one frame (the reference scan's, cut around its part).

    Attributes
    ----------
    mean, spread : ndarray of float32, shape (z, y, x)
        Per-voxel mean of the registered normal volumes, and how much they vary
        there (smoothed standard deviation plus the noise level): grey values.
    coverage : ndarray of bool, shape (z, y, x)
        Voxels every normal volume reached after registration.
    offset : (int, int, int)
        Voxel (z, y, x) of the reference scan where the atlas' voxel 0 lies.
    spacing : (float, float, float)
        Voxel size (z, y, x) of the working scale.
    pose : Pose
        The reference part's pose, in the reference scan's voxels.
    noise : float
        Noise level of the normal scans (grey values, standard deviation).
    normal_levels : list of float
        Mean residual over the part of each held-out normal volume (what a normal scan shows).
    settings : AtlasSettings
    """

    mean: np.ndarray
    spread: np.ndarray
    coverage: np.ndarray
    offset: tuple[int, int, int]
    spacing: tuple[float, float, float]
    pose: Pose
    noise: float
    normal_levels: list[float] = field(default_factory=list)
    settings: AtlasSettings = field(default_factory=AtlasSettings)

    def unit(self, spacing: Any = None) -> tuple[float, ...]:
        """Spacing in units of the atlas' finest voxel side (registration steps are then in voxels)."""
        base = min(self.spacing)
        return tuple(float(s) / base for s in (self.spacing if spacing is None else spacing))

    def image(self, array: np.ndarray) -> sitk.Image:
        """An array of the atlas frame as an image in the reference scan's physical frame."""
        return to_image(array, self.unit(), self.offset)

    def limit(self) -> float | None:
        """The mean residual over the part above which a scan is warned about (None before any normal level)."""
        return self.settings.limit_factor * max(self.normal_levels) if self.normal_levels else None

    def register_scan(self, scan: np.ndarray, pose: Pose, spacing: Any = None) -> Registration:
        """Register a ``(z, y, x)`` scan at the working scale onto the atlas from the part's pose (either way round)."""
        fixed, moving = self.image(self.mean), to_image(scan, self.unit(spacing))
        starts = [pose_transform(self.pose, pose, self.unit(), flip=f) for f in (False, True)]
        best = min(starts, key=lambda t: start_metric(fixed, moving, t, self.settings))
        return register(fixed, moving, best, self.settings)

    def in_scan(self, scan: np.ndarray, reg: Registration,
                spacing: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The atlas' mean, spread and coverage resampled into a scan's voxels, each (z, y, x).

        The mean is the part the scan was expected to be (0 where the atlas does not reach).
        """
        grid = to_image(np.zeros(np.shape(scan), np.float32), self.unit(spacing))
        inverse = reg.transform.GetInverse()  # scan points -> atlas points
        mean = resample(self.image(self.mean), grid, inverse)
        spread = resample(self.image(self.spread), grid, inverse, default=1.0)
        covered = resample(self.image(self.coverage.astype(np.float32)), grid, inverse) > 0.99
        return mean, spread, covered

    def residual(self, scan: np.ndarray, reg: Registration, spacing: Any = None, *,
                 resampled: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, float]:
        """``|x - mean| / spread`` in the scan's voxels (lightly smoothed), and its mean over the atlas' part.

        Voxels the atlas does not cover score 0. ``resampled``: :meth:`in_scan` when already at hand.
        """
        mean, spread, covered = resampled if resampled is not None else self.in_scan(scan, reg, spacing)
        r = np.abs(np.asarray(scan, np.float32) - mean) / np.maximum(spread, 1e-6)
        r = gaussian_filter(np.where(covered, r, 0.0).astype(np.float32), self.settings.residual_sigma)
        level = float(r[covered].mean()) if covered.any() else float("inf")
        return np.where(covered, r, 0.0).astype(np.float32), level

    def arrays(self) -> dict[str, np.ndarray]:
        """The atlas' arrays by name (what the model folder stores)."""
        return {"mean": self.mean, "spread": self.spread, "coverage": self.coverage.astype(np.uint8)}

    def description(self) -> dict[str, Any]:
        """JSON-able frame, noise, normal levels and settings (the arrays go apart)."""
        return {"offset": [int(v) for v in self.offset], "spacing": [float(v) for v in self.spacing],
                "pose": {"center": [float(v) for v in self.pose.center], "angle_deg": float(self.pose.angle_deg)},
                "noise": float(self.noise), "normal_levels": [float(v) for v in self.normal_levels],
                "shape": [int(v) for v in self.mean.shape], "settings": asdict(self.settings)}


def atlas_from(description: dict[str, Any], arrays: dict[str, np.ndarray]) -> Atlas:
    """Rebuild an :class:`Atlas` from :meth:`Atlas.description` and :meth:`Atlas.arrays`.

    Raises
    ------
    ValueError
        Arrays missing or of another shape than the description says.
    """
    shape = tuple(int(v) for v in description["shape"])
    missing = [k for k in ("mean", "spread", "coverage") if k not in arrays]
    if missing or any(tuple(arrays[k].shape) != shape for k in ("mean", "spread", "coverage")):
        raise ValueError(f"the atlas arrays do not match its description (missing {missing}, shape {shape})")
    raw = dict(description.get("settings") or {})
    given: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    settings = AtlasSettings(**given)
    pose = description["pose"]
    return Atlas(np.asarray(arrays["mean"], np.float32), np.asarray(arrays["spread"], np.float32),
                 np.asarray(arrays["coverage"]).astype(bool), tuple(int(v) for v in description["offset"]),  # type: ignore[arg-type]
                 tuple(float(v) for v in description["spacing"]),  # type: ignore[arg-type]
                 Pose(tuple(float(v) for v in pose["center"]), float(pose["angle_deg"])),  # type: ignore[arg-type]
                 float(description["noise"]), [float(v) for v in description.get("normal_levels", [])], settings)
