"""NRRD/NHDR, MHA/MHD, NIfTI and DICOM series through SimpleITK.

These are read whole into memory (SimpleITK has no lazy slice access for
them); the loaded array is then served slice by slice like any other volume.
SimpleITK orders axes (x, y, z); :func:`_to_zyx` is the one place where that
is turned into (z, y, x).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ctreview.errors import CtreviewError
from ctreview.io._util import file_error
from ctreview.io.volume import ArraySource, Volume

__all__ = ["open_sitk_file", "open_dicom_series", "dicom_series"]

_FORMATS = {".nrrd": "nrrd", ".nhdr": "nrrd", ".mha": "mha", ".mhd": "mha",
            ".nii": "nifti", ".nii.gz": "nifti", ".dcm": "dicom"}


def _sitk():
    import SimpleITK as sitk  # imported late: it takes a while and only these formats need it

    # ITK prints warnings ("GDCMSeriesFileNames ... No Series were found") straight to
    # stderr; ours are one-line errors and Volume.warnings, so its chatter is silenced
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    return sitk


def _to_zyx(image, path: Path) -> tuple[np.ndarray, tuple, tuple, list[str]]:
    """Return ``(array (z, y, x[, c]), spacing (z, y, x), origin (z, y, x), notes)``.

    The only place where SimpleITK's (x, y, z) order becomes (z, y, x).
    """
    sitk = _sitk()
    dim = image.GetDimension()
    if dim not in (2, 3):
        raise CtreviewError(path, f"{dim}-D image: only 2D and 3D images are supported")
    array = sitk.GetArrayFromImage(image)
    spacing = tuple(float(s) for s in reversed(image.GetSpacing()))
    origin = tuple(float(o) for o in reversed(image.GetOrigin()))
    notes = []
    if dim == 2:
        array = array[np.newaxis]
        spacing, origin = (spacing[1],) + spacing, (0.0,) + origin
        notes.append("2D image: loaded as a volume of one slice")
    if image.GetNumberOfComponentsPerPixel() > 1:
        notes.append("colour image: converted to grey")
    return array, spacing, origin, notes


def _format_of(path: Path) -> str:
    name = path.name.lower()
    return "nifti" if name.endswith(".nii.gz") else _FORMATS[path.suffix.lower()]


def _metadata(reader_or_image, index: int | None = None) -> dict:
    keys = reader_or_image.GetMetaDataKeys(*(() if index is None else (index,)))
    get = reader_or_image.GetMetaData
    out = {}
    for key in keys:
        try:
            out[key] = get(*(() if index is None else (index,)), key)
        except (RuntimeError, UnicodeDecodeError):  # binary tags
            continue
    return out


def open_sitk_file(path: Path) -> Volume:
    """Open an NRRD/NHDR, MHA/MHD or NIfTI file (read whole)."""
    sitk = _sitk()
    fmt = _format_of(path)
    try:
        image = sitk.ReadImage(str(path))
    except RuntimeError as exc:
        raise file_error(path, exc, f"not a readable {fmt.upper()} file") from None
    array, spacing, origin, notes = _to_zyx(image, path)
    metadata = _metadata(image)
    if fmt == "nrrd" and not _nrrd_has_spacing(path):
        notes.append("no voxel spacing in the file: using 1.0 mm")
    files = [path]
    if path.suffix.lower() in (".nhdr", ".mhd"):
        files += [p for p in path.parent.glob(path.stem + ".*") if p != path]
    return _volume(array, path, fmt, spacing, origin, metadata, notes, files)


def _nrrd_has_spacing(path: Path) -> bool:
    """Whether the NRRD header has ``spacings`` or ``space directions`` (ITK drops the keys)."""
    with open(path, "rb") as fh:
        header = fh.read(65536).split(b"\n\n", 1)[0]
    return any(line.split(b":", 1)[0].strip() in (b"spacings", b"space directions")
               for line in header.splitlines())


def _volume(array, path, fmt, spacing, origin, metadata, notes, files) -> Volume:
    source = ArraySource(array, None)
    source.files = files
    if 0 in source.shape:
        raise CtreviewError(path, "image holds no voxels")
    return Volume(source, path=path, format=fmt, spacing=spacing, origin=origin,
                  metadata=metadata, warnings=notes)


def dicom_series(folder: Path) -> dict[str, list[str]]:
    """Return ``{series UID: files sorted by position}`` for the DICOM files in ``folder``."""
    sitk = _sitk()
    ids = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder))
    return {uid: list(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), uid)) for uid in ids}


def open_dicom_series(folder: Path, series: dict[str, list[str]] | None = None) -> Volume:
    """Open the largest DICOM series in ``folder`` (warns naming the others)."""
    sitk = _sitk()
    series = dicom_series(folder) if series is None else series
    if not series:
        raise CtreviewError(folder, "no DICOM series in folder")
    uid = max(series, key=lambda u: len(series[u]))
    notes = []
    others = [u for u in series if u != uid]
    if others:
        notes.append(f"folder holds {len(series)} DICOM series: using {uid} ({len(series[uid])} files), "
                     f"ignoring {', '.join(f'{u} ({len(series[u])} files)' for u in others)}")
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(series[uid])
    reader.MetaDataDictionaryArrayUpdateOn()
    try:
        image = reader.Execute()
    except RuntimeError as exc:
        raise file_error(folder, exc, "cannot read DICOM series") from None
    array, spacing, origin, more = _to_zyx(image, folder)
    metadata = {"series_uid": uid, "files": len(series[uid]), "other_series": others,
                "first_slice": _metadata(reader, 0)}
    return _volume(array, folder, "dicom", spacing, origin, metadata, notes + more,
                   [Path(f) for f in series[uid]])
