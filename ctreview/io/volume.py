"""The :class:`Volume`: a lazily read 3D CT volume with spacing and metadata."""
from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ctreview.errors import CtreviewError
from ctreview.io._util import grey_dtype, to_grey

__all__ = ["Volume", "Source", "ArraySource"]

log = logging.getLogger("ctreview.io")

# Volumes up to this size are scanned whole for value_range(); larger ones are sampled.
_FULL_SCAN_BYTES = 256 * 2**20
_SAMPLE_SLICES = 32


def _ints(values: Sequence[Any]) -> tuple[int, int, int]:
    z, y, x = (int(v) for v in values)
    return (z, y, x)


def _floats(values: Sequence[Any]) -> tuple[float, float, float]:
    z, y, x = (float(v) for v in values)
    return (z, y, x)


class Source(Protocol):
    """What a format reader offers :class:`Volume` (not thread-safe by itself)."""

    shape: tuple[int, int, int]
    dtype: np.dtype
    files: list[Path]

    def read(self, z0: int, z1: int) -> np.ndarray:
        """Return slices ``z0:z1`` as a grey ``(z, y, x)`` array of ``dtype``."""

    def close(self) -> None:
        """Release file handles."""


class ArraySource:
    """An in-memory or memory-mapped array as a :class:`Source`.

    Parameters
    ----------
    array : ndarray
        ``(z, y, x)`` grey or ``(z, y, x, c)`` colour (converted to grey on read).
    """

    def __init__(self, array: np.ndarray, path: Path | None = None) -> None:
        self._array: np.ndarray | None = array
        nz, ny, nx = (int(n) for n in array.shape[:3])
        self.shape = (nz, ny, nx)
        self.dtype = grey_dtype(array.dtype, path)
        self.files = [path] if path is not None and path.is_file() else []

    def read(self, z0: int, z1: int) -> np.ndarray:
        if self._array is None:
            raise ValueError("the array source was closed")
        block = np.asarray(self._array[z0:z1])
        if block.ndim == 4:
            return np.stack([to_grey(s, self.dtype) for s in block])
        return np.array(block, dtype=self.dtype)  # a copy: callers may not alter the source

    def close(self) -> None:
        self._array = None


class Volume:
    """A 3D volume read slice by slice on demand.

    Attributes
    ----------
    path : Path or None
        The file or folder it came from (None for in-memory arrays).
    format : str
        "tiff", "ome-tiff", "tiff-folder", "png-folder", "png", "dicom", "nrrd",
        "mha", "nifti", "npy" or "array".
    shape : tuple of int
        ``(z, y, x)``.
    dtype : numpy.dtype
        Native-order dtype of the grey slices.
    spacing, origin : tuple of float
        Voxel size and position of voxel 0 in mm, ``(z, y, x)``.
    metadata : dict
        The file's own metadata (ImageJ, OME, DICOM/NRRD keys ...).
    warnings : list of str
        Everything doubtful found while opening or reading (also logged).
    layout : str
        ``"volume"`` (slices of one scan, in z order) or ``"images"``
        (independent images, see :mod:`ctreview.io.images`).

    Notes
    -----
    ``slice`` and ``read`` hold a lock around the reader, so a GUI thread and a
    scoring thread may read slices of the same volume at once.
    """

    def __init__(self, source: Source, *, path: Path | None, format: str,
                 spacing: Sequence[float] = (1.0, 1.0, 1.0),
                 origin: Sequence[float] = (0.0, 0.0, 0.0),
                 metadata: dict | None = None, warnings: Sequence[str] = (),
                 layout: str = "volume", valid_boxes: Sequence[tuple[int, int, int, int]] | None = None) -> None:
        self._source: Source | None = source
        self._lock = threading.RLock()
        # Volumes are often dropped without close(); release the file handles then too.
        self._finalizer = weakref.finalize(self, source.close)
        self.path = None if path is None else Path(path)
        self.format = format
        self.shape: tuple[int, int, int] = _ints(source.shape)
        self.dtype = np.dtype(source.dtype)
        self.spacing: tuple[float, float, float] = _floats(spacing)
        self.origin: tuple[float, float, float] = _floats(origin)
        self.metadata = dict(metadata or {})
        self.layout = layout
        self._valid = None if valid_boxes is None else [tuple(int(v) for v in b) for b in valid_boxes]
        self.warnings: list[str] = []
        self._range: tuple[float, float] | None = None
        self._nonfinite_seen = False
        self._no_finite = False
        # what opening finds is logged once the volume is open: a volume refused here
        # (no finite value) says so in its one error line, without warnings before it
        self._opening: list[str] | None = []
        for message in warnings:
            self._warn(message)
        if self.dtype.kind == "f":
            self._check_nonfinite_sample()
        found, self._opening = self._opening, None
        for message in found:
            self._log(message)

    # -- construction -------------------------------------------------------
    @classmethod
    def from_array(cls, array: np.ndarray, spacing: Sequence[float] = (1.0, 1.0, 1.0),
                   path: str | Path | None = None) -> Volume:
        """Wrap an in-memory ``(z, y, x)`` array (a 2D ``(y, x)`` one becomes one slice).

        Raises
        ------
        CtreviewError
            If the array is not 2D/3D numeric data or has a zero-size axis.
        """
        array = np.asarray(array)
        notes = []
        if array.ndim == 2:
            array = array[np.newaxis]
            notes.append("2D image: loaded as a volume of one slice")
        if array.ndim != 3 or 0 in array.shape:
            raise CtreviewError(path, f"need a 3D (z, y, x) array, got shape {array.shape}")
        if len(spacing) != 3 or not all(np.isfinite(s) and s > 0 for s in spacing):
            raise CtreviewError(path, f"spacing must be three positive numbers (z, y, x), got {spacing}")
        source = ArraySource(array, None)
        return cls(source, path=None if path is None else Path(path), format="array",
                   spacing=spacing, warnings=notes)

    # -- reading ------------------------------------------------------------
    def valid_box(self, k: int) -> tuple[int, int, int, int]:
        """The ``(y0, x0, y1, x1)`` of slice ``k`` that holds data (the whole slice in a volume)."""
        if self._valid is None:
            return (0, 0, self.shape[1], self.shape[2])
        y0, x0, y1, x1 = self._valid[k]
        return (y0, x0, y1, x1)

    def __len__(self) -> int:
        return self.shape[0]

    def slice(self, k: int) -> np.ndarray:
        """Return slice ``k`` as a ``(y, x)`` array of :attr:`dtype`.

        Negative ``k`` counts from the end. NaN and -inf become the volume's
        finite minimum, +inf its maximum (see :meth:`value_range`).
        """
        n = self.shape[0]
        if not -n <= k < n:
            raise IndexError(f"slice {k} out of range for a volume of {n} slices")
        k = int(k) % n
        return self.read(k, k + 1)[0]

    def read(self, z0: int = 0, z1: int | None = None) -> np.ndarray:
        """Return slices ``z0:z1`` as a ``(z, y, x)`` array (non-finite values replaced)."""
        z1 = self.shape[0] if z1 is None else min(int(z1), self.shape[0])
        z0 = max(int(z0), 0)
        if z1 <= z0:
            return np.empty((0, *self.shape[1:]), dtype=self.dtype)
        block = self._read_raw(z0, z1)
        if self.dtype.kind == "f":
            block = self._replace_nonfinite(block)
        return block

    def _read_raw(self, z0: int, z1: int) -> np.ndarray:
        with self._lock:
            if self._source is None:
                raise CtreviewError(self.path, "volume is closed")
            return self._source.read(z0, z1)

    def value_range(self) -> tuple[float, float]:
        """Return the finite ``(min, max)``, from up to 32 slices if the volume is huge."""
        if self._range is None:
            lo, hi = np.inf, -np.inf
            for z0, z1 in self._sample_ranges():
                block = self._read_raw(z0, z1)
                if block.dtype.kind == "f":
                    block = block[np.isfinite(block)]
                if block.size:
                    lo, hi = min(lo, float(block.min())), max(hi, float(block.max()))
            if lo > hi:
                self._no_finite = True
                self._warn("no finite values in the volume")
                lo = hi = 0.0
            self._range = (lo, hi)
        return self._range

    @property
    def range_is_sampled(self) -> bool:
        """Whether :meth:`value_range` looks at a sample of slices only."""
        return self.nbytes > _FULL_SCAN_BYTES and self.shape[0] > _SAMPLE_SLICES

    def _sample_ranges(self) -> list[tuple[int, int]]:
        n = self.shape[0]
        if not self.range_is_sampled:
            step = max(1, _FULL_SCAN_BYTES // max(1, self.nbytes // n) // 4)
            return [(z, min(z + step, n)) for z in range(0, n, step)]
        picks = np.unique(np.linspace(0, n - 1, _SAMPLE_SLICES).round().astype(int))
        return [(int(z), int(z) + 1) for z in picks]

    # -- non-finite values --------------------------------------------------
    def _check_nonfinite_sample(self) -> None:
        """Note NaN/inf in a sample of slices; refuse a volume without a single finite value.

        Raises
        ------
        CtreviewError
            "no finite values", rather than a later "the volume is constant".
        """
        n = self.shape[0]
        any_finite = False
        for z in np.unique(np.linspace(0, n - 1, min(n, 8)).round().astype(int)):
            finite = np.isfinite(self._read_raw(int(z), int(z) + 1))
            any_finite = any_finite or bool(finite.any())
            if not finite.all():
                self._note_nonfinite()
                if any_finite:
                    return
        if not any_finite:
            self.value_range()
            if self._no_finite:
                raise CtreviewError(self.path, "no finite values: every voxel is NaN or infinite")

    def _note_nonfinite(self) -> None:
        if not self._nonfinite_seen:
            self._nonfinite_seen = True
            self._warn("NaN or infinite values in the data: shown as the finite minimum/maximum")

    def _replace_nonfinite(self, block: np.ndarray) -> np.ndarray:
        bad = ~np.isfinite(block)
        if not bad.any():
            return block
        self._note_nonfinite()
        lo, hi = self.value_range()
        block = np.array(block)  # never write into a memory map or the caller's array
        block[np.isnan(block) | np.isneginf(block)] = lo
        block[np.isposinf(block)] = hi
        return block

    # -- bookkeeping --------------------------------------------------------
    def warn(self, message: str) -> None:
        """Note something doubtful about the volume (kept in ``warnings`` and logged)."""
        self._warn(message)

    def _warn(self, message: str) -> None:
        with self._lock:
            self.warnings.append(message)
            if self._opening is not None:
                self._opening.append(message)
                return
        self._log(message)

    def _log(self, message: str) -> None:
        log.warning("%s: %s", self.path if self.path is not None else "<array>", message)

    @property
    def nbytes(self) -> int:
        """Bytes the whole volume takes in memory."""
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    def disk_bytes(self) -> int:
        """Bytes of the file(s) it was read from (0 for in-memory arrays)."""
        files = getattr(self._source, "files", None) or []
        return int(sum(f.stat().st_size for f in files if f.exists()))

    def close(self) -> None:
        """Release the file handles; further reads raise :class:`CtreviewError`."""
        with self._lock:
            if self._source is not None:
                self._finalizer()
                self._source = None

    def __enter__(self) -> Volume:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        z, y, x = self.shape
        return (f"Volume({self.format}, {z}x{y}x{x} {self.dtype}, spacing={self.spacing}, "
                f"path={str(self.path) if self.path else None!r})")
