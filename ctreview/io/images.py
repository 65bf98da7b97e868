"""Independent 2D images as one stack: every file (or TIFF page) is its own sample.

A folder of unrelated images (radiograph crops, photos of tiles) is not a
volume: neighbouring images have nothing to do with each other. They are
opened as a :class:`~ctreview.io.Volume` with ``layout == "images"`` so the
store, the window and reports handle them like slices, while the ROI and
the scorers treat each one on its own: image k is slice k, placed at the
top-left of a canvas as large as the largest image; ``valid_box(k)`` says
where it is. Images of different sizes are accepted.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from ctreview.errors import CtreviewError
from ctreview.io._util import file_error, grey_dtype, natural_key, to_grey
from ctreview.io.like import VolumeLike
from ctreview.io.volume import Volume

IMAGE_SUFFIXES = {".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp"}


class _Page:
    """One image: a file, or one page of a multi-page TIFF."""

    def __init__(self, path: Path, page: int | None = None) -> None:
        self.path, self.page = path, page

    @property
    def name(self) -> str:
        return self.path.name if self.page is None else f"{self.path.name}[{self.page}]"

    def read(self) -> np.ndarray:
        try:
            if self.path.suffix.lower() in (".tif", ".tiff"):
                with tifffile.TiffFile(self.path) as tif:
                    return np.asarray(tif.pages[self.page or 0].asarray())
            with Image.open(self.path) as opened:
                img: Image.Image = opened
                if img.mode in ("P", "CMYK", "YCbCr"):
                    img = img.convert("RGB")
                elif img.mode == "1":
                    img = img.convert("L")
                return np.asarray(img)
        except Exception as exc:  # PIL and tifffile raise many types for garbage
            raise file_error(self.path, exc, "not a readable image") from None


def _pages(path: Path) -> list[_Page]:
    if path.stat().st_size == 0:
        raise CtreviewError(path, "empty file (0 bytes)")
    if path.suffix.lower() in (".tif", ".tiff"):
        try:
            with tifffile.TiffFile(path) as tif:
                count = len(tif.pages)
        except Exception as exc:
            raise file_error(path, exc, "not a readable TIFF file") from None
        return [_Page(path, i) for i in range(count)] if count > 1 else [_Page(path)]
    return [_Page(path)]


def image_files(inputs: Sequence[str | Path]) -> list[Path]:
    """Expand files and folders into image files, folders in natural order.

    Raises
    ------
    CtreviewError
        A missing input, or a folder with no image files.
    """
    files: list[Path] = []
    for item in inputs:
        path = Path(item).expanduser()
        if not path.exists():
            raise CtreviewError(path, "no such file or folder")
        if path.is_dir():
            found = sorted((p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                            and not p.name.startswith(".")), key=natural_key)
            if not found:
                raise CtreviewError(path, "no image files in folder (expected PNG, TIFF, JPEG or BMP)")
            files += found
        else:
            files.append(path)
    return files


class ImagesSource:
    """Images padded onto one canvas, read on demand (the :class:`Source` of an image stack)."""

    def __init__(self, pages: list[_Page]) -> None:
        self.pages = pages
        self.files = sorted({p.path for p in pages})
        firsts = [p.read() for p in pages]  # headers are not enough for JPEG sizes and modes
        self.sizes = [(int(a.shape[0]), int(a.shape[1])) for a in firsts]
        for page, array in zip(pages, firsts):
            if array.ndim not in (2, 3) or 0 in array.shape[:2]:
                raise CtreviewError(page.path, f"not a 2D image (shape {array.shape})")
        self.dtype = grey_dtype(np.result_type(*[a.dtype for a in firsts]), pages[0].path)
        self.shape = (len(pages), max(h for h, _ in self.sizes), max(w for _, w in self.sizes))

    def read(self, z0: int, z1: int) -> np.ndarray:
        out = np.zeros((z1 - z0, self.shape[1], self.shape[2]), self.dtype)
        for i, k in enumerate(range(z0, z1)):
            grey = to_grey(self.pages[k].read(), self.dtype)
            h, w = self.sizes[k]
            if grey.shape != (h, w):
                raise CtreviewError(self.pages[k].path, f"image changed on disk (now {grey.shape})")
            out[i] = grey.min()  # the canvas around a smaller image: its darkest grey
            out[i, :h, :w] = grey
        return out

    def close(self) -> None:
        pass


def open_images(inputs: Sequence[str | Path] | str | Path) -> Volume:
    """Open image files and folders as independent images (``layout == "images"``).

    Parameters
    ----------
    inputs : path or sequence of paths
        Image files (PNG, TIFF, JPEG, BMP; every page of a multi-page TIFF is
        an image) and folders of them.

    Returns
    -------
    Volume
        ``shape`` (n, H, W) with H, W the largest image's; ``layout == "images"``;
        ``valid_box(k)`` gives image k's ``(y0, x0, y1, x1)`` and
        ``metadata["images"]`` its name and size.

    Raises
    ------
    CtreviewError
        Naming the file for anything missing, empty or unreadable.
    """
    items = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    pages = [page for path in image_files(items) for page in _pages(path)]
    source = ImagesSource(pages)
    notes = []
    if len({s for s in source.sizes}) > 1:
        notes.append(f"images of {len(set(source.sizes))} sizes: each is scored at its own size")
    folder = Path(items[0]).expanduser() if len(items) == 1 else None
    metadata = {"images": [{"name": p.name, "size": list(s)} for p, s in zip(pages, source.sizes)]}
    return Volume(source, path=folder, format="images", metadata=metadata, warnings=notes,
                  layout="images", valid_boxes=[(0, 0, h, w) for h, w in source.sizes])


UNRELATED = 0.5
"""Neighbouring slices of a scan correlate far above this; unrelated images rarely do."""


def neighbour_correlation(volume: VolumeLike, pairs: int = 8) -> float | None:
    """Median correlation of a few neighbouring slice pairs; None when it cannot tell.

    Slices are downsampled and blurred (the correlation of CT noise is zero),
    and pairs of nearly flat slices (air above and below a part) are left out.
    """
    from scipy.ndimage import gaussian_filter

    n = volume.shape[0]
    if n < 2:
        return None
    step = max(1, int(np.ceil(max(volume.shape[1:]) / 128)))
    firsts = np.unique(np.linspace(0, n - 2, min(pairs, n - 1)).round().astype(int))

    def smooth(k: int) -> np.ndarray:
        return gaussian_filter(volume.slice(k)[::step, ::step].astype(np.float64), 1.5).ravel()

    planes = [(smooth(int(k)), smooth(int(k) + 1)) for k in firsts]
    spread = max((max(a.std(), b.std()) for a, b in planes), default=0.0)
    values = [float(np.corrcoef(a, b)[0, 1]) for a, b in planes
              if min(a.std(), b.std()) > 0.3 * spread > 0]
    return float(np.median(values)) if values else None


def check_stack(volume: VolumeLike) -> str | None:
    """Warn (on the volume) when a folder's slices look like unrelated images; return the note.

    Reads a few slices, so it runs where the volume is about to be used
    (scoring, training, the window's loading worker), not in ``open_volume``.
    """
    if volume.layout != "volume" or not volume.format.endswith("-folder"):
        return None
    r = neighbour_correlation(volume, pairs=4)
    if r is None or r >= UNRELATED:
        return None
    note = (f"neighbouring slices look like unrelated images (correlation {r:.2f}): if these are independent "
            "images, open them as such (--images, or File > Open as independent images)")
    if note not in volume.warnings:
        volume.warn(note)
    return note
