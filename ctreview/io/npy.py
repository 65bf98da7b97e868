"""NumPy ``.npy`` files, memory-mapped and never unpickled."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ctreview.errors import CtreviewError
from ctreview.io._util import file_error
from ctreview.io.volume import ArraySource, Volume

__all__ = ["open_npy"]


def open_npy(path: Path) -> Volume:
    """Open a ``.npy`` array: ``(z, y, x)``, ``(y, x)`` or colour ``(z, y, x, 3|4)``.

    The file is memory-mapped (``mmap_mode='r'``) and object arrays are
    refused (``allow_pickle=False``). ``.npy`` stores no spacing: 1.0 mm.
    """
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        text = str(exc)
        if "mmap length" in text or "size" in text.lower():
            raise CtreviewError(path, "file is truncated (shorter than its header says)") from None
        raise file_error(path, exc, "not a readable .npy array") from None
    except (OSError, EOFError) as exc:
        raise file_error(path, exc, "not a readable .npy array") from None
    if not isinstance(array, np.ndarray):
        raise CtreviewError(path, "not a single NumPy array")
    notes = []
    if array.ndim == 2:
        array = array[np.newaxis]
        notes.append("2D image: loaded as a volume of one slice")
    elif array.ndim == 4 and array.shape[-1] in (3, 4):
        notes.append("colour image: converted to grey")
    elif array.ndim != 3:
        raise CtreviewError(path, f"need a (z, y, x) array, got shape {array.shape}")
    if 0 in array.shape:
        raise CtreviewError(path, f"array holds no voxels (shape {array.shape})")
    source = ArraySource(array, path)
    notes.append("no voxel spacing in the file: using 1.0 mm")
    return Volume(source, path=path, format="npy", metadata={"npy_shape": list(array.shape)},
                  warnings=notes)
