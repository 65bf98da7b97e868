"""Multi-page TIFF, BigTIFF and OME-TIFF: read lazily, write with spacing.

Uncompressed contiguous files (what tifffile, ImageJ and most CT software
write) are memory-mapped, so showing one slice of a 20 GB file reads one
slice. Compressed or scattered files are read page by page.
"""
from __future__ import annotations

import logging
import re
import threading
import warnings
from collections.abc import Sequence
from math import prod
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from ctreview.errors import CtreviewError
from ctreview.io._tiffmeta import complete_spacing, tiff_spacing
from ctreview.io._util import file_error, grey_dtype, native, to_grey
from ctreview.io.volume import Volume

__all__ = ["open_tiff", "write_tiff", "tiff_write_options", "BIGTIFF_BYTES"]

BIGTIFF_BYTES = 2 * 2**30
_RGB_PHOTOMETRIC = {2, 6}  # RGB, YCbCr
_IMAGEJ_DTYPES = {np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32)}


class _Layout:
    """How a tifffile series maps onto ``(z, y, x[, c])``."""

    def __init__(self, series: tifffile.TiffPageSeries, path: Path) -> None:
        axes, shape = series.axes, series.shape
        if "Y" not in axes or "X" not in axes:
            raise CtreviewError(path, f"no image plane in TIFF series (axes {axes})")
        photometric = int(series.keyframe.photometric)
        s = axes.find("S")
        self.rgb = s >= 0 and (photometric in _RGB_PHOTOMETRIC or s == len(axes) - 1) and shape[s] >= 2
        self.order = [i for i, a in enumerate(axes) if a not in "YX" and not (self.rgb and i == s)]
        self.order += [axes.index("Y"), axes.index("X")] + ([s] if self.rgb else [])
        self.nz = prod(shape[i] for i in self.order[:-3 if self.rgb else -2])
        self.ny, self.nx = shape[axes.index("Y")], shape[axes.index("X")]
        self.full = (self.nz, self.ny, self.nx) + ((shape[s],) if self.rgb else ())
        self.in_order = self.order == sorted(self.order)
        stacked = [a for i, a in enumerate(axes) if i in self.order[:-3 if self.rgb else -2] and shape[i] > 1]
        self.flattened = "".join(stacked) if len(stacked) > 1 else ""


# The tifffile logger is global: one parse at a time may redirect it.
_PARSE_LOCK = threading.Lock()


class _TifffileLog(logging.Handler):
    """Collect what tifffile logs while a file is parsed (it logs, not raises, broken IFDs)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self._logger = logging.getLogger("tifffile")

    def emit(self, record: logging.LogRecord) -> None:
        text = re.sub(r"^<tifffile\.\w+ [^>]*> ", "", record.getMessage())
        (self.errors if record.levelno >= logging.ERROR else self.warnings).append(text)

    def __enter__(self) -> _TifffileLog:
        self._propagate = self._logger.propagate
        self._logger.addHandler(self)
        self._logger.propagate = False
        return self

    def __exit__(self, *exc) -> None:
        self._logger.removeHandler(self)
        self._logger.propagate = self._propagate


class TiffSource:
    """Reads slices of the first series of a TIFF file."""

    def __init__(self, path: Path) -> None:
        self.files = [path]
        self._tif: Any = None  # a tifffile.TiffFile once parsed
        try:
            with _PARSE_LOCK, _TifffileLog() as tiflog:
                self._setup(path)
        except BaseException:
            if self._tif is not None:
                self._tif.close()
            raise
        if tiflog.errors:  # a broken IFD chain: tifffile would silently return fewer slices
            self.close()
            raise CtreviewError(path, f"corrupt or truncated TIFF ({tiflog.errors[0]})")
        self.notes = tiflog.warnings

    def _setup(self, path: Path) -> None:
        try:
            self._tif = tifffile.TiffFile(path)
            series = self._tif.series[0]
        except Exception as exc:  # tifffile raises many types for garbage
            raise file_error(path, exc, "not a readable TIFF file") from None
        self.series = series
        self.layout = lay = _Layout(series, path)
        self.dtype = grey_dtype(series.dtype, path)
        self.shape = (lay.nz, lay.ny, lay.nx)
        if 0 in lay.full:
            raise CtreviewError(path, "TIFF holds no image data")
        self._direct: _DirectReader | None = None
        self._pages: Any = None
        self._whole: np.ndarray | None = None
        offset = series.dataoffset
        if offset is not None and lay.in_order and series.keyframe.is_memmappable:
            self._direct = self._direct_reader(path, offset)
            self.mode = "direct"
        elif len(series.pages) == lay.nz and lay.in_order:
            self._pages = series.pages
            self._check_last_page(path)
            self.mode = "pages"
        else:  # odd layouts (planar colour, interleaved axes): small files in practice
            self._whole = self._read_whole(path)
            self.mode = "whole"

    def _direct_reader(self, path: Path, offset: int) -> _DirectReader:
        dtype = self.series.dtype
        if self._tif.byteorder == ">":
            dtype = dtype.newbyteorder(">")
        needed = offset + prod(self.layout.full) * dtype.itemsize
        size = path.stat().st_size
        if needed > size:
            raise CtreviewError(path, f"file is truncated ({size} bytes, the image data needs {needed})")
        return _DirectReader(path, offset, dtype, tuple(self.layout.full))

    def _check_last_page(self, path: Path) -> None:
        try:
            last = self._pages[len(self._pages) - 1]
            end = max(o + n for o, n in zip(last.dataoffsets, last.databytecounts))
        except Exception as exc:
            raise file_error(path, exc, "corrupt TIFF page") from None
        if end > path.stat().st_size:
            raise CtreviewError(path, "file is truncated (the last page ends beyond the end of the file)")

    def _read_whole(self, path: Path) -> np.ndarray:
        try:
            data = self.series.asarray()
        except Exception as exc:
            raise file_error(path, exc, "cannot read TIFF data") from None
        return data.transpose(self.layout.order).reshape(self.layout.full)

    def read(self, z0: int, z1: int) -> np.ndarray:
        planes: Any
        if self._pages is not None:
            try:
                planes = [self._pages[k].asarray() for k in range(z0, z1)]
            except Exception as exc:
                raise file_error(self.files[0], exc, f"cannot read TIFF page in {z0}..{z1 - 1}") from None
        else:
            block = self._direct.read(z0, z1) if self._direct is not None else \
                None if self._whole is None else self._whole[z0:z1]
            if block is None:
                raise CtreviewError(self.files[0], "the TIFF file was closed")
            planes = block
            if not self.layout.rgb:
                return np.array(native(np.asarray(planes)), dtype=self.dtype)
        return np.stack([to_grey(native(np.asarray(p)), self.dtype) for p in planes])

    def close(self) -> None:
        if self._direct is not None:
            self._direct.close()
        self._direct = self._pages = self._whole = None
        self._tif.close()


class _DirectReader:
    """Slices of contiguous, uncompressed image data read straight from the file.

    Reading (not memory-mapping) keeps the process's resident memory to the
    slices asked for: mapped pages of a 2 GB scan count as the reader's own
    memory until the system takes them back, read pages stay in the page cache.
    """

    def __init__(self, path: Path, offset: int, dtype: np.dtype, full: tuple[int, ...]) -> None:
        self.path, self.offset, self.dtype, self.full = path, int(offset), np.dtype(dtype), full
        self.plane = int(prod(full[1:])) * self.dtype.itemsize
        self._fh: Any = open(path, "rb")  # noqa: SIM115 - held for the volume's life, closed by close()

    def read(self, z0: int, z1: int) -> np.ndarray:
        out = np.empty((z1 - z0, *self.full[1:]), self.dtype)
        if self._fh is None:
            raise CtreviewError(self.path, "the TIFF file was closed")
        self._fh.seek(self.offset + z0 * self.plane)
        got = self._fh.readinto(out.data.cast("B"))
        if got != out.nbytes:
            raise CtreviewError(self.path, f"file is truncated (slices {z0}..{z1 - 1} end beyond the end of the file)")
        return out

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def open_tiff(path: Path) -> Volume:
    """Open a (multi-page, Big-, OME-) TIFF as a :class:`Volume` without reading it whole."""
    source = TiffSource(path)
    tif, lay = source._tif, source.layout
    notes = list(source.notes)
    if lay.nz == 1:
        notes.append("2D image: loaded as a volume of one slice")
    if lay.rgb:
        notes.append("colour image: converted to grey")
    if lay.flattened:
        notes.append(f"axes {lay.flattened} flattened into slices")
    if len(tif.series) > 1:
        notes.append(f"file holds {len(tif.series)} image series: using the first")
    raw, origin = tiff_spacing(tif)
    spacing, spacing_notes = complete_spacing(raw)
    metadata = {"axes": source.series.axes, "read_mode": source.mode, "spacing_from": origin or None}
    if tif.is_imagej and tif.imagej_metadata:
        metadata["imagej"] = {k: v for k, v in tif.imagej_metadata.items() if isinstance(v, (str, int, float, bool))}
    if tif.is_ome:
        metadata["ome_xml"] = tif.ome_metadata
    fmt = "ome-tiff" if tif.is_ome else "tiff"
    return Volume(source, path=path, format=fmt, spacing=spacing, metadata=metadata,
                  warnings=notes + spacing_notes)


def tiff_write_options(shape: Sequence[int], dtype, spacing: Sequence[float]) -> dict:
    """Keyword arguments for :func:`tifffile.imwrite` storing ``spacing`` (mm, (z, y, x)).

    ImageJ hyperstack metadata (``spacing``, ``unit='mm'``) plus X/Y resolution
    tags in pixels per mm, as ImageJ writes them, for dtypes ImageJ knows
    (uint8, uint16, float32); tifffile's JSON description with the same keys
    and centimetre resolution tags for others. BigTIFF above 2 GiB.
    """
    dtype = np.dtype(dtype)
    sz, sy, sx = (float(s) for s in spacing)
    bigtiff = prod(shape) * dtype.itemsize > BIGTIFF_BYTES
    if dtype in _IMAGEJ_DTYPES:
        return dict(imagej=True, bigtiff=bigtiff, resolution=(1.0 / sx, 1.0 / sy),
                    metadata={"axes": "ZYX", "spacing": sz, "unit": "mm"})
    return dict(bigtiff=bigtiff, photometric="minisblack", resolution=(10.0 / sx, 10.0 / sy),
                resolutionunit="CENTIMETER",
                metadata={"axes": "ZYX", "spacing": [sz, sy, sx], "unit": "mm"})


def write_tiff(path: str | Path, array: np.ndarray,
               spacing: Sequence[float] = (1.0, 1.0, 1.0)) -> Path:
    """Write a ``(z, y, x)`` (or ``(y, x)``) array as a multi-page TIFF with its spacing.

    Parameters
    ----------
    path : str or Path
        Output file; parent folders are created.
    array : ndarray
        ``(z, y, x)`` volume or one ``(y, x)`` slice, any integer/float dtype.
    spacing : sequence of 3 floats
        Voxel size in mm, ``(z, y, x)``; :func:`open_volume` reads it back.

    Returns
    -------
    Path
        The written file. Uncompressed and contiguous, so it is memory-mapped on reading.
    """
    path = Path(path)
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[np.newaxis]
    if array.ndim != 3:
        raise ValueError(f"write_tiff needs a (z, y, x) array, got shape {array.shape}")
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = tiff_write_options(array.shape, array.dtype, spacing)
    with warnings.catch_warnings():
        # ImageJ metadata in a BigTIFF is what Fiji/Bio-Formats read; tifffile only notes it.
        warnings.filterwarnings("ignore", message=".*nonconformant BigTIFF ImageJ", category=UserWarning)
        tifffile.imwrite(path, array, **options)
    return path
