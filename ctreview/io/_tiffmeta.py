"""Voxel spacing stored in TIFF files: OME PhysicalSize, ImageJ, tifffile JSON, resolution tags."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import tifffile

from ctreview.io._util import unit_to_mm

# Resolution values (per inch) that writers put in by default; they say nothing about voxels.
_DEFAULT_DPI = {1.0, 72.0, 96.0, 150.0, 300.0}

Spacing = list  # [z, y, x], each a float in mm or None where the file does not say


def tiff_spacing(tif: tifffile.TiffFile) -> tuple[Spacing, str]:
    """Return ``([z, y, x] spacing in mm or None each, where it came from)``."""
    for reader in (_ome_spacing, _imagej_spacing, _shaped_spacing, _tag_spacing):
        spacing, origin = reader(tif)
        if any(s is not None for s in spacing):
            return spacing, origin
    return [None, None, None], ""


def _positive(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if value > 0 and value == value and value != float("inf") else None


def _ome_spacing(tif: tifffile.TiffFile) -> tuple[Spacing, str]:
    if not tif.is_ome or not tif.ome_metadata:
        return [None] * 3, ""
    try:
        root = ET.fromstring(tif.ome_metadata)
    except ET.ParseError:
        return [None] * 3, ""
    pixels = next((el for el in root.iter() if el.tag.endswith("}Pixels") or el.tag == "Pixels"), None)
    if pixels is None:
        return [None] * 3, ""
    out = []
    for axis in "ZYX":
        size = _positive(pixels.get(f"PhysicalSize{axis}"))
        scale = unit_to_mm(pixels.get(f"PhysicalSize{axis}Unit", "\u00b5m"))
        out.append(size * scale if size is not None and scale is not None else None)
    return out, "OME PhysicalSize"


def _imagej_spacing(tif: tifffile.TiffFile) -> tuple[Spacing, str]:
    meta = tif.imagej_metadata if tif.is_imagej else None
    if not meta:
        return [None] * 3, ""
    scale = unit_to_mm(meta.get("unit"))
    if scale is None:  # ImageJ without a calibration unit stores pixel counts
        return [None] * 3, ""
    xres, yres = tif.pages[0].get_resolution()
    x = 1.0 / xres * scale if _positive(xres) else None
    y = 1.0 / yres * scale if _positive(yres) else None
    z = _positive(meta.get("spacing"))
    return [z * scale if z else None, y, x], "ImageJ metadata"


def _shaped_spacing(tif: tifffile.TiffFile) -> tuple[Spacing, str]:
    meta = tif.shaped_metadata[0] if tif.is_shaped and tif.shaped_metadata else None
    spacing = meta.get("spacing") if isinstance(meta, dict) else None
    scale = unit_to_mm(meta.get("unit", "mm")) if isinstance(meta, dict) else None
    if not isinstance(spacing, list) or len(spacing) != 3 or scale is None:
        return [None] * 3, ""
    return [(_positive(s) or 0) * scale or None for s in spacing], "tifffile metadata"


def _tag_spacing(tif: tifffile.TiffFile) -> tuple[Spacing, str]:
    page = tif.pages[0]
    unit = {2: 25.4, 3: 10.0}.get(int(page.resolutionunit))
    if unit is None or "XResolution" not in page.tags:  # RESUNIT NONE or no tag: no size
        return [None] * 3, ""
    xres, yres = page.get_resolution()
    if unit == 25.4 and round(float(xres), 6) in _DEFAULT_DPI:
        return [None] * 3, ""
    x = unit / xres if _positive(xres) else None
    y = unit / yres if _positive(yres) else None
    return [None, y, x], "TIFF resolution tags"


def complete_spacing(spacing: Spacing) -> tuple[tuple[float, float, float], list[str]]:
    """Fill in what the file left out and say so.

    A missing z spacing becomes the x spacing (CT voxels are nearly always
    cubic); no spacing at all becomes 1.0 mm.
    """
    # Rationals like 4294967295/169093203 px per inch carry float noise: keep 9 digits.
    z, y, x = (None if s is None else float(f"{s:.9g}") for s in spacing)
    notes = []
    if x is None and y is None:
        notes.append("no voxel spacing in the file: using 1.0 mm")
        return (1.0, 1.0, 1.0), notes
    sx = x if x is not None else y
    sy = y if y is not None else sx
    assert sx is not None and sy is not None  # one of them was given
    if z is None:
        notes.append(f"no slice spacing in the file: assuming cubic voxels ({sx:g} mm)")
    return (sx if z is None else z, sy, sx), notes
