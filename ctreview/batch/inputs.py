"""Turn ``INPUT...`` into volumes, name their run folders, and key runs by model and settings.

An input is a volume file, a folder, or a text file (``.txt``, ``.lst``,
``.list``) with one path per line. A folder is one volume when the loader
reads it as one (TIFF/PNG slices, a DICOM series); it is a folder of volumes
when its entries are volumes themselves: multi-page TIFFs or other volume
files, or, when it holds no volume file, sub-folders (each again one volume
or a folder of volumes). :func:`ctreview.io.open_volume` still decides, in
the task, whether a volume can be read: a bad one becomes a ``failed`` row.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path

from ctreview.errors import CtreviewError
from ctreview.io import SUPPORTED
from ctreview.scoring.settings import ScoringSettings

LIST_SUFFIXES = (".txt", ".lst", ".list")
_SLICE_SUFFIXES = (".tif", ".tiff", ".png", ".dcm")
_DOUBLE = (".ome.tiff", ".ome.tif", ".nii.gz")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return next((d for d in _DOUBLE if name.endswith(d)), path.suffix.lower())


def _multi_page(path: Path) -> bool:
    """Whether a TIFF holds more than one page (a volume, not a slice); False when unreadable."""
    import logging

    import tifffile

    quiet = logging.getLogger("tifffile")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # a damaged file is the loader's to report, in its task
    try:
        with tifffile.TiffFile(path) as tif:
            tif.pages[1]  # noqa: B018 - reads the second page's header only
            return True
    except Exception:  # noqa: BLE001 - one page, or not a TIFF: the loader says which
        return False
    finally:
        quiet.setLevel(level)


def _folder_volumes(folder: Path) -> list[Path]:
    """The volumes of a folder: ``[folder]`` when it is one volume."""
    try:
        entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        raise CtreviewError(folder, f"cannot list folder ({exc.strerror})") from None
    files = [p for p in entries if p.is_file() and _suffix(p) in SUPPORTED]
    whole = [p for p in files if _suffix(p) not in _SLICE_SUFFIXES]  # NRRD, NIfTI, npy...
    tiffs = [p for p in files if _suffix(p) in (".tif", ".tiff", ".btf", ".ome.tif", ".ome.tiff")]
    if whole or any(_multi_page(p) for p in tiffs[:3]):
        return whole + [p for p in tiffs if p not in whole]
    if files:
        return [folder]  # slices or a DICOM series: one volume
    subfolders = [p for p in entries if p.is_dir()]
    if subfolders:
        return [v for sub in subfolders for v in _folder_volumes(sub)]
    return [folder]  # empty or foreign: the loader names what is wrong


def _listed(list_file: Path) -> list[Path]:
    try:
        lines = list_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CtreviewError(list_file, f"cannot read the list of volumes ({exc.__class__.__name__})") from None
    out = []
    for line in lines:
        text = line.strip()
        if text and not text.startswith("#"):
            path = Path(text).expanduser()
            out.append(path if path.is_absolute() else list_file.parent / path)
    if not out:
        raise CtreviewError(list_file, "the list of volumes is empty")
    return out


def _image_sets(folder: Path) -> list[Path]:
    """The image sets of a folder: ``[folder]`` when it holds images, else its subfolders that do."""
    from ctreview.io.images import IMAGE_SUFFIXES

    try:
        entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        raise CtreviewError(folder, f"cannot list folder ({exc.strerror})") from None
    if any(p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES for p in entries):
        return [folder]
    subfolders = [p for p in entries if p.is_dir()]
    return [s for sub in subfolders for s in _image_sets(sub)] or [folder]


def expand_inputs(inputs: Iterable[str | Path], images: bool = False) -> list[Path]:
    """Return the absolute paths of the volumes named by ``inputs``, each once, in order.

    With ``images`` every folder of image files (and every image or
    multi-page file) is one set of independent images instead.

    Raises
    ------
    CtreviewError
        An input given directly that does not exist, an unreadable list
        file, or no volume at all. A path *listed* in a text file that does
        not exist is kept: its task reports it as a failed volume.
    """
    found: list[Path] = []
    folder_items = _image_sets if images else _folder_volumes
    for item in inputs:
        path = Path(item).expanduser()
        if not path.exists():
            raise CtreviewError(path, "no such file or folder")
        if path.is_dir():
            found += folder_items(path)
        elif _suffix(path) in LIST_SUFFIXES:
            for listed in _listed(path):
                found += folder_items(listed) if listed.is_dir() else [listed]
        else:
            found.append(path)
    unique = list(dict.fromkeys(p.absolute() for p in found))
    if not unique:
        raise CtreviewError(None, "no volumes to score")
    return unique


def run_name(path: str | Path) -> str:
    """Run folder name of a volume: its stem and a short hash of its absolute path.

    Stable from one batch to the next (so a rerun finds its runs) and unique
    when two volumes share a file name in different folders.
    """
    path = Path(path).absolute()
    stem = path.name[: -len(_suffix(path))] if _suffix(path) and not path.is_dir() else path.name
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "volume"
    digest = hashlib.sha1(str(path).encode("utf-8")).hexdigest()[:8]
    return f"{safe[:60]}-{digest}"


def model_digest(model_dir: str | Path) -> str:
    """SHA-256 of a model folder's files (names and bytes), the model's identity in a batch."""
    folder = Path(model_dir)
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(folder)).encode("utf-8") + b"\0")
        with open(file, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def run_key(model_hash: str, settings: ScoringSettings, images: bool = False) -> str:
    """Short key of what a run was made with: model files, every scoring setting and the layout."""
    what: dict[str, object] = {"model": model_hash, "settings": settings.to_dict()}
    if images:  # volume runs keep the keys they had before image sets existed
        what["layout"] = "images"
    text = json.dumps(what, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
