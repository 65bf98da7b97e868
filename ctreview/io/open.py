"""``open_volume``: pick the reader from what the path is."""
from __future__ import annotations

from pathlib import Path

from ctreview.errors import CtreviewError
from ctreview.io.volume import Volume

__all__ = ["open_volume", "SUPPORTED"]

# Suffix -> what it is; listed to the user when a file type is unknown.
SUPPORTED = {
    ".tif": "TIFF", ".tiff": "TIFF", ".btf": "BigTIFF", ".ome.tif": "OME-TIFF", ".ome.tiff": "OME-TIFF",
    ".png": "PNG", ".dcm": "DICOM", ".nrrd": "NRRD", ".nhdr": "NRRD", ".mha": "MetaImage",
    ".mhd": "MetaImage", ".nii": "NIfTI", ".nii.gz": "NIfTI", ".npy": "NumPy",
}


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for double in (".ome.tiff", ".ome.tif", ".nii.gz"):
        if name.endswith(double):
            return double
    return path.suffix.lower()


def open_volume(path: str | Path) -> Volume:
    """Open a CT volume from a file or a folder.

    Parameters
    ----------
    path : str or Path
        A multi-page TIFF/BigTIFF/OME-TIFF, NRRD/NHDR, MHA/MHD, NIfTI, ``.npy``
        or DICOM file, or a folder of TIFF/PNG slices or of a DICOM series.

    Returns
    -------
    Volume
        Lazily read for TIFF files, slice folders and ``.npy``; the SimpleITK
        formats (NRRD, MHA, NIfTI, DICOM) are read whole.

    Raises
    ------
    CtreviewError
        Naming the offending file, for anything missing, empty, corrupt,
        truncated, inconsistent or of an unknown type.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise CtreviewError(path, "no such file or folder")
    if path.is_dir():
        return _open_folder(path)
    if path.stat().st_size == 0:
        raise CtreviewError(path, "empty file (0 bytes)")
    suffix = _suffix(path)
    if suffix in (".tif", ".tiff", ".btf", ".ome.tif", ".ome.tiff"):
        from ctreview.io.tiff import open_tiff
        return open_tiff(path)
    if suffix == ".npy":
        from ctreview.io.npy import open_npy
        return open_npy(path)
    if suffix == ".png":
        from ctreview.io.folder import open_slice_folder
        return open_slice_folder(path, [path], "png", [], fmt="png")
    if suffix == ".dcm":
        return _open_dicom_file(path)
    if suffix in SUPPORTED:
        from ctreview.io.sitk import open_sitk_file
        return open_sitk_file(path)
    kinds = ", ".join(SUPPORTED)
    raise CtreviewError(path, f"unknown file type '{suffix or path.name}' (supported: {kinds}, "
                              "or a folder of TIFF/PNG slices or DICOM files)")


def _open_folder(folder: Path) -> Volume:
    from ctreview.io.folder import open_slice_folder, slice_files

    try:
        entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    except OSError as exc:
        raise CtreviewError(folder, f"cannot list folder ({exc.strerror})") from None
    if not entries:
        raise CtreviewError(folder, "empty folder")
    files, kind, notes = slice_files(folder)
    n_dcm = sum(1 for p in entries if p.suffix.lower() == ".dcm")
    if files and len(files) >= n_dcm:  # a stray preview PNG next to a DICOM series is not the scan
        return open_slice_folder(folder, files, kind, notes)
    from ctreview.io.sitk import dicom_series, open_dicom_series

    series = dicom_series(folder)
    if series:
        return open_dicom_series(folder, series)
    raise CtreviewError(folder, "no image files in folder (expected TIFF or PNG slices or a DICOM series)")


def _open_dicom_file(path: Path) -> Volume:
    """A single .dcm file stands for the series it belongs to."""
    from ctreview.io.sitk import dicom_series, open_dicom_series

    series = dicom_series(path.parent)
    mine = {uid: files for uid, files in series.items() if any(Path(f).samefile(path) for f in files)}
    if not mine:
        raise CtreviewError(path, "not a readable DICOM file")
    return open_dicom_series(path.parent, mine)
