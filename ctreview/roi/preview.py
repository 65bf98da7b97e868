"""A PNG montage of slices with the part outline and the ROI boxes drawn."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from ctreview.errors import CtreviewError
from ctreview.io import VolumeLike, as_volume
from ctreview.roi.extract import RoiResult

OUTLINE = (60, 220, 60)
BOX = (230, 40, 40)


def _window(volume: VolumeLike, ks) -> tuple[float, float]:
    sample = np.concatenate([volume.slice(k).ravel()[::7] for k in ks]).astype(np.float32)
    lo, hi = np.percentile(sample, [0.5, 99.5])
    return float(lo), float(max(hi, lo + 1e-6))


def preview_slices(roi: RoiResult, n_slices: int) -> list[int]:
    """Evenly spaced slice indices through the part (and one below/above it where there is room)."""
    z0, z1 = roi.part_bbox[0], roi.part_bbox[3]
    ks = np.linspace(z0, z1 - 1, max(1, n_slices - 2)).round().astype(int).tolist()
    # independent images have no segmentation: their count is the part's bounding box
    nz = roi.part_bbox[3] if roi.segmentation is None else roi.segmentation.shape[0]
    extra = [k for k in (z0 - max(1, (z1 - z0) // 10), z1 + max(1, (z1 - z0) // 10) - 1) if 0 <= k < nz]
    return sorted(set(ks + extra))


def render_slice(image: np.ndarray, roi: RoiResult, k: int, window: tuple[float, float]) -> np.ndarray:
    """Return an (y, x, 3) uint8 picture of slice ``k`` with outline and ROI boxes."""
    grey = np.clip((image.astype(np.float32) - window[0]) / (window[1] - window[0]), 0, 1)
    rgb = np.repeat((grey * 255).astype(np.uint8)[..., None], 3, axis=2)
    if roi.segmentation is not None:  # independent images have no part outline, only their ROI boxes
        part = roi.part_mask(k)
        rgb[part & ~ndi.binary_erosion(part)] = OUTLINE
    sl = roi.slices.get(k)
    width = max(1, image.shape[0] // 256)
    for y0, x0, y1, x1 in (sl.boxes if sl else []):
        rgb[y0:y0 + width, x0:x1] = BOX
        rgb[max(y0, y1 - width):y1, x0:x1] = BOX
        rgb[y0:y1, x0:x0 + width] = BOX
        rgb[y0:y1, max(x0, x1 - width):x1] = BOX
    return rgb


def write_preview(volume: VolumeLike | np.ndarray, roi: RoiResult, out: str | Path, *, n_slices: int = 12,
                  max_tile: int = 384) -> Path:
    """Write a montage of ``n_slices`` slices (4 per row) with outlines and ROI boxes.

    Parameters
    ----------
    volume : Volume or ndarray, shape (z, y, x)
    roi : RoiResult
    out : str or Path
        PNG file.
    n_slices : int
    max_tile : int
        Each slice is shown at most this many pixels wide (by pixel skipping).

    Returns
    -------
    Path
    """
    import imageio.v3 as iio

    volume = as_volume(volume)
    ks = preview_slices(roi, n_slices)
    window = _window(volume, ks)
    pictures = []
    for k in ks:
        rgb = render_slice(volume.slice(k), roi, k, window)
        step = max(1, int(np.ceil(max(rgb.shape[:2]) / max_tile)))
        rgb = rgb[::step, ::step]
        grow = max(1, 256 // max(rgb.shape[:2]))  # small phantoms: show each pixel bigger
        rgb = np.repeat(np.repeat(rgb, grow, axis=0), grow, axis=1)
        pictures.append(np.pad(rgb, ((2, 2), (2, 2), (0, 0)), constant_values=40))
    cols = min(4, len(pictures))
    h = max(p.shape[0] for p in pictures)
    w = max(p.shape[1] for p in pictures)
    rows = -(-len(pictures) // cols)
    sheet = np.full((rows * h, cols * w, 3), 40, np.uint8)
    for i, pic in enumerate(pictures):
        r, c = divmod(i, cols)
        sheet[r * h:r * h + pic.shape[0], c * w:c * w + pic.shape[1]] = pic
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        iio.imwrite(out, sheet, extension=".png")
    except OSError as exc:
        raise CtreviewError(out, f"cannot write the preview: {exc}") from exc
    return out
