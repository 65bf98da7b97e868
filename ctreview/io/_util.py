"""Small helpers shared by the format readers: grey conversion, units, sorting."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ctreview.errors import CtreviewError

# Same weights as skimage.color.rgb2gray (ITU-R BT.709 luma).
_LUMA = np.array([0.2125, 0.7154, 0.0721], dtype=np.float32)

# Length units as they appear in ImageJ, OME and TIFF metadata, in mm.
_UNIT_MM = {
    "mm": 1.0, "millimeter": 1.0, "millimetre": 1.0,
    "um": 1e-3, "\u00b5m": 1e-3, "\u03bcm": 1e-3, "\\u00b5m": 1e-3, "micron": 1e-3,
    "microns": 1e-3, "micrometer": 1e-3, "micrometre": 1e-3,
    "nm": 1e-6, "nanometer": 1e-6, "cm": 10.0, "centimeter": 10.0,
    "m": 1000.0, "meter": 1000.0, "inch": 25.4, "in": 25.4,
}


def unit_to_mm(unit: str | None) -> float | None:
    """Return how many mm one ``unit`` is, or None for no or unknown unit."""
    if not unit:
        return None
    return _UNIT_MM.get(str(unit).strip().lower())


def natural_key(path: Path) -> tuple:
    """Sort key putting ``im2`` before ``im10`` (digit runs compare as numbers).

    re.split with a group alternates text and digits, so the lists compare
    str to str and int to int; the name itself breaks ties (``im2``, ``im002``).
    """
    parts = re.split(r"(\d+)", path.name.lower())
    return [int(p) if p.isdigit() else p for p in parts], path.name


def native(array: np.ndarray) -> np.ndarray:
    """Return ``array`` in native byte order (big-endian TIFFs exist)."""
    if not array.dtype.isnative:
        return array.astype(array.dtype.newbyteorder("="))
    return array


def grey_dtype(dtype: np.dtype, path: Path | str | None) -> np.dtype:
    """Return the dtype slices are handed out in, refusing non-numeric data."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.dtype(np.uint8)
    if dtype.kind not in "uif":
        raise CtreviewError(path, f"unsupported voxel type {dtype} (need integer or float data)")
    return dtype.newbyteorder("=")


def to_grey(image: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Turn one slice into a grey ``(y, x)`` array of ``dtype``.

    Parameters
    ----------
    image : ndarray
        ``(y, x)`` grey or ``(y, x, c)`` with c = 2 (grey + alpha), 3 (RGB) or
        4 (RGBA); alpha is dropped.
    dtype : numpy.dtype
        The volume's (native) dtype; integer results are rounded and clipped.
    """
    if image.ndim == 3:
        if image.shape[-1] < 3:
            image = image[..., 0]
        else:
            grey = image[..., :3].astype(np.float32) @ _LUMA
            if np.dtype(dtype).kind in "ui":
                info = np.iinfo(dtype)
                grey = np.clip(np.rint(grey), info.min, info.max)
            return grey.astype(dtype)
    if image.dtype != dtype:
        image = image.astype(dtype)
    return image


def file_error(path: Path | str, exc: BaseException, what: str = "cannot read file") -> CtreviewError:
    """Wrap a library exception as a one-line :class:`CtreviewError`."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    detail = lines[-1] if lines else type(exc).__name__
    if len(detail) > 200:
        detail = detail[:200] + "..."
    return CtreviewError(path, f"{what} ({detail})")
