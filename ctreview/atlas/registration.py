"""Register a scan onto a fixed image: rigid, then affine; mean squares on sampled voxels, coarse to fine."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from ctreview.atlas.frame import affine_of
from ctreview.atlas.settings import AtlasSettings

LEARNING_RATE = 2.0
"""First step of the optimiser, in voxels of shift (images carry unit spacing along their finest axis)."""
AFFINE_RATE = 1.0
"""The affine stage starts from a rigid fit: smaller steps keep it from stretching the part away."""
MIN_STEP = 0.01
NO_OVERLAP = 1e300
"""ITK's mean squares is the largest double when no sample lands in the moving image."""


@contextmanager
def _quiet() -> Iterator[None]:
    """Hold back ITK's own warnings (printed straight to stderr): a failure is said once, by the caller."""
    shown = sitk.ProcessObject.GetGlobalWarningDisplay()
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    try:
        yield
    finally:
        sitk.ProcessObject.SetGlobalWarningDisplay(shown)


@dataclass
class Registration:
    """What a registration found.

    Attributes
    ----------
    transform : sitk.AffineTransform
        Maps points of the fixed image to points of the moving one.
    metric : float
        Mean squared difference at the finest level (sampled), NaN when it failed.
    converged : bool
        False when the optimiser failed or the affine stretched an axis beyond ``max_scale``.
    note : str
        Why not, in a few words ("" when converged).
    """

    transform: sitk.AffineTransform
    metric: float
    converged: bool
    note: str = ""


def _method(s: AtlasSettings, iterations: int, rate: float = LEARNING_RATE) -> sitk.ImageRegistrationMethod:
    method = sitk.ImageRegistrationMethod()
    method.SetNumberOfThreads(1)  # threads sum the metric in varying order: one keeps a registration repeatable
    method.SetMetricAsMeanSquares()
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentage(float(s.sampling), int(s.seed) + 1)  # seed 0 is "the wall clock" to ITK
    method.SetInterpolator(sitk.sitkLinear)
    method.SetOptimizerAsRegularStepGradientDescent(float(rate), MIN_STEP, int(iterations),
                                                    relaxationFactor=0.5, gradientMagnitudeTolerance=1e-8)
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetShrinkFactorsPerLevel([int(f) for f in s.shrink])
    method.SetSmoothingSigmasPerLevel([float(v) for v in s.smoothing])
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOff()
    return method


def _stage(fixed: sitk.Image, moving: sitk.Image, start: sitk.Transform, s: AtlasSettings,
           iterations: int, rate: float = LEARNING_RATE) -> tuple[sitk.Transform, float]:
    method = _method(s, iterations, rate)
    method.SetInitialTransform(start, inPlace=False)
    out = method.Execute(fixed, moving)
    found = out.Downcast() if hasattr(out, "Downcast") else out
    if isinstance(found, sitk.CompositeTransform):  # a composite of one transform: keep that one
        found = found.GetNthTransform(found.GetNumberOfTransforms() - 1).Downcast()
    return found, float(method.GetMetricValue())


def start_metric(fixed: sitk.Image, moving: sitk.Image, start: sitk.Transform, s: AtlasSettings) -> float:
    """The mean squared difference of a first guess at the coarsest level (to choose between guesses)."""
    f = sitk.Shrink(fixed, [int(s.shrink[0])] * 3)
    method = _method(s, 1)
    method.SetShrinkFactorsPerLevel([1])
    method.SetSmoothingSigmasPerLevel([0.0])
    method.SetInitialTransform(start, inPlace=False)
    try:
        with _quiet():
            value = float(method.MetricEvaluate(f, moving))
    except RuntimeError:  # every sample fell outside the moving image
        return float("inf")
    return value if value < NO_OVERLAP else float("inf")


def _plausible(transform: sitk.AffineTransform, s: AtlasSettings) -> tuple[bool, str]:
    scales = np.linalg.svd(np.asarray(transform.GetMatrix(), float).reshape(3, 3), compute_uv=False)
    ok = scales.max() <= s.max_scale and scales.min() >= 1.0 / s.max_scale
    return bool(ok), f"the fit stretched the part by {scales.min():.2f}-{scales.max():.2f} (at most {s.max_scale:g})"


def register(fixed: sitk.Image, moving: sitk.Image, start: sitk.Transform, s: AtlasSettings) -> Registration:
    """Register ``moving`` onto ``fixed`` from ``start`` (fixed -> moving), rigid then affine.

    A rigid ``start`` (a part's pose) is refined rigidly first; an affine one
    (an earlier registration) goes straight to the affine stage. An affine
    stage that stretches the part implausibly is dropped for the fit before it.

    Never raises for a registration that fails: it returns the start as an
    affine with ``converged=False`` and says why.
    """
    before = float("nan")
    try:
        with _quiet():
            if start.GetName() == "Euler3DTransform":
                start, before = _stage(fixed, moving, sitk.Euler3DTransform(start), s, s.rigid_iterations)
            affine, metric = _stage(fixed, moving, affine_of(start), s, s.affine_iterations, AFFINE_RATE)
        affine = sitk.AffineTransform(affine)
    except RuntimeError as exc:
        first_line = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        return Registration(affine_of(start), float("nan"), False, f"the optimiser failed ({first_line[:120]})")
    if not metric < NO_OVERLAP or not before < NO_OVERLAP and np.isfinite(before):
        return Registration(affine, float("nan"), False, "the scan and the atlas do not overlap")
    ok, why = _plausible(affine, s)
    if ok:
        return Registration(affine, metric, True)
    fallback = affine_of(start)
    if _plausible(fallback, s)[0]:  # the fit before the affine stage still holds
        return Registration(fallback, before, True, f"affine stage dropped: {why}")
    return Registration(affine, metric, False, why)
