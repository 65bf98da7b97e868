"""Reading CT volumes from disk: :func:`open_volume` gives a lazily read :class:`Volume`.

Formats: multi-page TIFF/BigTIFF/OME-TIFF (memory-mapped or page by page),
folders of TIFF/PNG slices (one file read per slice), ``.npy`` (memory-mapped),
and through SimpleITK (read whole): DICOM series, NRRD/NHDR, MHA/MHD, NIfTI.
:func:`write_tiff` writes a volume with its spacing in a form they all read back.
"""
from ctreview.io.fingerprint import volume_fingerprint
from ctreview.io.images import open_images
from ctreview.io.like import VolumeLike, as_volume
from ctreview.io.open import SUPPORTED, open_volume
from ctreview.io.tiff import write_tiff
from ctreview.io.volume import Volume

__all__ = ["open_images", "open_volume", "Volume", "VolumeLike", "as_volume", "volume_fingerprint", "write_tiff",
           "SUPPORTED"]
