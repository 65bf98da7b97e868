"""A folder of 2D slices (TIFF or PNG), one file per slice, in natural order."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from ctreview.errors import CtreviewError
from ctreview.io._tiffmeta import complete_spacing, tiff_spacing
from ctreview.io._util import file_error, grey_dtype, native, natural_key, to_grey
from ctreview.io.volume import Volume

__all__ = ["open_slice_folder", "SLICE_SUFFIXES", "slice_files", "slice_stack"]

SLICE_SUFFIXES = {".tif": "tiff", ".tiff": "tiff", ".png": "png"}

# PIL modes and the numpy dtype np.asarray gives for them (after our own conversion).
_PIL_DTYPES = {"1": np.uint8, "L": np.uint8, "P": np.uint8, "LA": np.uint8, "RGB": np.uint8,
               "RGBA": np.uint8, "I;16": np.uint16, "I;16B": np.uint16, "I;16L": np.uint16,
               "I": np.int32, "F": np.float32}


def slice_files(folder: Path) -> tuple[list[Path], str, list[str]]:
    """Return ``(slice files in natural order, "tiff" or "png", notes)`` of a folder."""
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    families: dict[str, list[Path]] = {}
    for p in files:
        kind = SLICE_SUFFIXES.get(p.suffix.lower())
        if kind:
            families.setdefault(kind, []).append(p)
    if not families:
        return [], "", []
    kind = max(families, key=lambda k: len(families[k]))
    notes = [f"ignoring {len(v)} {k.upper()} file(s) next to the {kind.upper()} slices"
             for k, v in families.items() if k != kind]
    return sorted(families[kind], key=natural_key), kind, notes


MIN_STACK = 3
"""Like-named single-slice files it takes to call them a stack."""


def _pattern(name: str) -> str:
    return re.sub(r"\d+", "#", name.lower())


def _is_single_slice(path: Path) -> bool:
    """Whether a file holds one 2-D image (a slice of a stack), from its header."""
    suffix = path.suffix.lower()
    if suffix == ".dcm":
        return True  # a DICOM file is one slice of its series
    if suffix not in SLICE_SUFFIXES:
        return False
    try:
        if SLICE_SUFFIXES[suffix] == "tiff":
            with tifffile.TiffFile(path) as tif:
                shape = tif.pages[0].shape
                return len(tif.pages) == 1 and (len(shape) == 2 or (len(shape) == 3 and shape[-1] <= 4))
        return True
    except Exception:  # unreadable: let open_volume say why
        return False


def slice_stack(path: str | Path) -> list[Path]:
    """The like-named slice files beside ``path``, in natural order, when it is one slice of a stack.

    A single-image TIFF, PNG or DICOM file in a folder of files named alike
    (``cell_001.tif``, ``cell_002.tif``...: the same name where digits
    differ) is usually one slice of a volume. Returns those files (``path``
    among them) when there are at least :data:`MIN_STACK`, else ``[]``. A multi-page
    TIFF is a volume by itself: ``[]``.
    """
    path = Path(path)
    if not path.is_file() or not _is_single_slice(path):
        return []
    pattern, suffix = _pattern(path.name), path.suffix.lower()
    if "#" not in pattern:
        return []
    try:
        siblings = [p for p in path.parent.iterdir() if p.is_file() and p.suffix.lower() == suffix
                    and not p.name.startswith(".") and _pattern(p.name) == pattern]
    except OSError:
        return []
    return sorted(siblings, key=natural_key) if len(siblings) >= MIN_STACK else []


def _probe(path: Path, kind: str) -> tuple[tuple[int, ...], np.dtype]:
    """Return the ``(y, x[, c])`` shape and dtype of one slice file from its header."""
    if path.stat().st_size == 0:
        raise CtreviewError(path, "empty file (0 bytes)")
    try:
        if kind == "tiff":
            with tifffile.TiffFile(path) as tif:
                page = tif.pages[0]
                return tuple(page.shape), np.dtype(page.dtype)
        with Image.open(path) as img:
            channels = {"LA": 2, "RGB": 3, "P": 3, "RGBA": 4}.get(img.mode)
            shape = (img.height, img.width) + ((channels,) if channels else ())
            return shape, np.dtype(_PIL_DTYPES.get(img.mode, np.uint8))
    except CtreviewError:
        raise
    except Exception as exc:
        raise file_error(path, exc, f"not a readable {kind.upper()} image") from None


def _read_file(path: Path, kind: str) -> np.ndarray:
    try:
        if kind == "tiff":
            with tifffile.TiffFile(path) as tif:
                return native(tif.pages[0].asarray())
        with Image.open(path) as opened:
            img: Image.Image = opened
            if img.mode == "P":
                img = img.convert("RGB")
            elif img.mode == "1":
                img = img.convert("L")
            return np.asarray(img)
    except Exception as exc:
        raise file_error(path, exc, f"cannot read {kind.upper()} image") from None


def _files_to_probe(files: list[Path]) -> list[Path]:
    """The slice files whose headers are checked against the first one when opening.

    Opening every header of a 2000-slice folder takes seconds on a cold disk.
    Uncompressed slices of one size have equal file sizes, so when all sizes
    match only the last file is probed here; every slice is still checked
    when it is read.
    """
    sizes = {p.stat().st_size for p in files}
    if 0 in sizes:
        return [next(p for p in files if p.stat().st_size == 0)]
    return files[-1:] if len(sizes) == 1 else files[1:]


class FolderSource:
    """Reads one slice file per requested slice."""

    def __init__(self, files: list[Path], kind: str, folder: Path) -> None:
        self.files, self.kind = files, kind
        shape0, dtype0 = _probe(files[0], kind)
        for p in _files_to_probe(files):
            shape, dtype = _probe(p, kind)
            if shape[:2] != shape0[:2] or dtype != dtype0:
                raise CtreviewError(p, f"slice is {shape[1]}x{shape[0]} {dtype}, but "
                                       f"{files[0].name} is {shape0[1]}x{shape0[0]} {dtype0}")
        self._dtype0 = dtype0
        if len(shape0) not in (2, 3):
            raise CtreviewError(files[0], f"not a 2D slice (shape {shape0})")
        self.colour = len(shape0) == 3
        self.shape = (len(files), shape0[0], shape0[1])
        self.dtype = grey_dtype(dtype0, files[0])

    def read(self, z0: int, z1: int) -> np.ndarray:
        out = np.empty((z1 - z0,) + self.shape[1:], dtype=self.dtype)
        for i, k in enumerate(range(z0, z1)):
            plane = _read_file(self.files[k], self.kind)
            if plane.shape[:2] != self.shape[1:] or (plane.ndim == 3) != self.colour \
                    or plane.dtype != self._dtype0:
                raise CtreviewError(self.files[k], f"slice is {plane.shape} {plane.dtype}, but "
                                                   f"{self.files[0].name} is {self.shape[1:]} {self._dtype0} "
                                                   "(independent images of several sizes: open them with "
                                                   "--images)")
            out[i] = to_grey(plane, self.dtype)
        return out

    def close(self) -> None:
        pass


def open_slice_folder(folder: Path, files: list[Path], kind: str, notes: list[str],
                      fmt: str | None = None) -> Volume:
    """Open ``files`` (natural order) of ``folder`` as a volume, one slice per file.

    ``fmt`` overrides the format name ("<kind>-folder"), e.g. "png" for one PNG file.
    """
    source = FolderSource(files, kind, folder)
    notes = list(notes)
    if source.colour:
        notes.append("colour slices: converted to grey")
    if len(files) == 1:
        notes.append("a single slice: loaded as a volume of one slice")
    spacing_raw = [None, None, None]
    if kind == "tiff":
        try:
            with tifffile.TiffFile(files[0]) as tif:
                spacing_raw, _ = tiff_spacing(tif)
        except Exception:  # the probe above already read this header once
            pass
    spacing, more = complete_spacing(spacing_raw)
    metadata = {"files": len(files), "first": files[0].name, "last": files[-1].name}
    return Volume(source, path=folder, format=fmt or f"{kind}-folder", spacing=spacing,
                  metadata=metadata, warnings=notes + more)
