"""Normal volumes (or images) to train a fused model on, each with its ROI and its normal slices.

Inputs as ``ctreview train`` takes them: volume files and folders, folders
of volumes (a phantom set's defective volumes are skipped), training sets
(their source volumes where still on disk unchanged, with the accepted
slices), Volume objects, or independent images (``layout="images"``).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ctreview.errors import CtreviewError
from ctreview.io import VolumeLike, as_volume
from ctreview.roi import ProfileSpec, RoiResult, extract_roi


@dataclass
class NormalVolume:
    """One normal volume: the volume, its ROI and the slices known to be normal.

    Attributes
    ----------
    volume : VolumeLike
    roi : RoiResult
    slices : list of int
        ROI slices that count as normal (all of them, or a training set's accepted ones).
    source : str
        Where it came from (a path, for the model's provenance).
    """

    volume: VolumeLike
    roi: RoiResult
    slices: list[int]
    source: str


Found = tuple[VolumeLike, "list[int] | None", str]


def _training_set(folder: Path) -> list[Found]:
    """A training set's source volumes still on disk unchanged, each with its accepted slices."""
    from ctreview.dataset import open_training_set
    from ctreview.training.data import _reopen_source

    tset = open_training_set(folder)
    out: list[Found] = []
    for fingerprint, source in tset.manifest.sources.items():
        volume = _reopen_source(source, fingerprint)
        if volume is not None:
            accepted = sorted({int(r["slice"]) for r in tset.records if r.get("source") == fingerprint})
            out.append((volume, accepted, str(volume.path)))
    return out


@contextmanager
def _quiet_io() -> Iterator[None]:
    """Hold back the readers' warnings while probing what a folder holds (its volume says them once)."""
    logger = logging.getLogger("ctreview.io")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _folder_of_volumes(folder: Path) -> list[Found] | None:
    """The normal volumes of a folder of volumes (a phantom set), or None for a folder of slices."""
    from ctreview.io import open_volume
    from ctreview.training.data import _SKIP_NAMES, _defective_stems

    skip = _defective_stems(folder)
    entries = sorted(p for p in folder.iterdir() if p.name not in _SKIP_NAMES and not p.name.startswith("."))
    found: list[Found] = []
    for entry in entries:
        if entry.name.split(".")[0] in skip:
            continue
        try:
            with _quiet_io():
                volume = open_volume(entry)
        except CtreviewError:
            if entry.is_dir():
                raise
            return None
        if volume.shape[0] == 1 and not found:
            return None  # a folder of 2-D slices: one volume, read by open_volume(folder)
        for message in volume.warnings:  # a volume of the set says its own warnings
            logging.getLogger("ctreview.io").warning("%s: %s", entry, message)
        found.append((volume, None, str(entry)))
    if not found or all(v.shape[0] == 1 for v, _, _ in found):
        return None
    return found


def _volumes_of(item: Any) -> list[Found]:
    from ctreview.io import open_volume

    if isinstance(item, np.ndarray) or isinstance(item, VolumeLike):
        volume = as_volume(item)
        return [(volume, None, str(volume.path or "<array>"))]
    path = Path(item)
    if not path.exists():
        raise CtreviewError(path, "training input not found")
    if path.is_dir() and (path / "manifest.json").is_file():
        return _training_set(path)
    if path.is_dir():
        folder = _folder_of_volumes(path)
        if folder is not None:
            return folder
    return [(open_volume(path), None, str(path))]


def gather_volumes(inputs: Iterable[Any], profile: ProfileSpec, tile_size: int) -> list[NormalVolume]:
    """Open the normal volumes behind ``inputs`` and find their ROIs.

    Raises
    ------
    CtreviewError
        An unreadable input, or no normal volume at all (tiles alone cannot train a fused model).
    """
    if isinstance(inputs, (str, Path, np.ndarray, VolumeLike)):
        inputs = [inputs]
    found = [f for item in inputs for f in _volumes_of(item)]
    out = []
    for volume, normal, source in found:
        roi = extract_roi(volume, profile, tile_size=tile_size)
        slices = [k for k in roi.slices if normal is None or k in set(normal)]
        if slices:
            out.append(NormalVolume(volume, roi, slices, source))
    if not out:
        raise CtreviewError(None, "no normal volume with a ROI in the inputs (a training set whose source "
                                  "volumes are gone has tiles only: train with --engine anogan)")
    return out


def image_volume(inputs: Sequence[Any], profile: ProfileSpec, tile_size: int) -> NormalVolume:
    """Independent normal images as one :class:`NormalVolume` (each image scored on its own)."""
    from ctreview.io import open_images

    volume = open_images(list(inputs))
    roi = extract_roi(volume, profile, tile_size=tile_size)
    if not roi.slices:
        raise CtreviewError(None, "no image has a ROI")
    return NormalVolume(volume, roi, sorted(roi.slices), "images")


def split(normals: list[NormalVolume], holdout: float, seed: int) -> tuple[list[tuple[int, list[int]]],
                                                                           list[tuple[int, list[int]]]]:
    """Split into ``(fit, held out)`` lists of ``(volume index, slices)``; the thresholds use only the held out.

    Whole volumes are held out when there are several (slices of one scan are
    alike, so a held-out slice beside a fitted one would be no test); one
    volume, or independent images, is split by slice (blocks of 8 full-resolution
    slices in a volume, fewer binned ones in a binned volume; single images in an
    image set).
    """
    rng = np.random.default_rng(seed)
    if len(normals) >= 2:
        order = rng.permutation(len(normals))
        count = min(len(normals) - 1, max(1, int(round(holdout * len(normals)))))
        held = set(int(i) for i in order[:count])
        return ([(i, n.slices) for i, n in enumerate(normals) if i not in held],
                [(i, n.slices) for i, n in enumerate(normals) if i in held])
    only = normals[0]
    block = 1 if only.volume.layout == "images" else max(1, round(8 / _z_binning(only.volume)))
    groups = [only.slices[i:i + block] for i in range(0, len(only.slices), block)]
    if len(groups) < 2:
        raise CtreviewError(None, "too few normal slices to hold some out for the threshold; give more data")
    count = min(len(groups) - 1, max(1, int(math.ceil(holdout * len(groups)))))
    held = set(int(i) for i in rng.choice(len(groups), count, replace=False))
    fit = [k for g, ks in enumerate(groups) if g not in held for k in ks]
    out = [k for g, ks in enumerate(groups) if g in held for k in ks]
    return [(0, fit)], [(0, out)]


def _z_binning(volume: VolumeLike) -> int:
    """Full-resolution slices per slice of a binned view (1 for a volume as scanned)."""
    try:
        return max(1, int(getattr(volume, "metadata", {})["binned"]["factors"][0]))
    except (KeyError, IndexError, TypeError, ValueError):
        return 1
