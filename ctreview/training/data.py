"""Gather training tiles from whatever the user hands to ``train``.

Accepted inputs (any mix):

* an ndarray ``(n, T, T)`` of tiles, already cut;
* a :class:`ctreview.io.Volume`;
* a volume file or a volume folder (anything ``open_volume`` reads);
* a folder of volumes (a phantom set: ``labels.json`` entries marked
  ``defective`` are skipped, and ``masks/`` is ignored);
* a training-set folder with ``manifest.json`` (see :mod:`ctreview.dataset`),
  whose tiles are used as they are, grouped by source slice.

Volumes are cut into ROI tiles with the component profile. Tiles keep a
group id per slice so calibration can hold out whole slices.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ctreview.errors import CtreviewError
from ctreview.io import VolumeLike
from ctreview.roi.profiles import ProfileSpec

log = logging.getLogger(__name__)
_SKIP_NAMES = {"labels.json", "manifest.json", "masks", "model.json", "twins"}


@dataclass
class TileSet:
    """Training tiles with their slice groups and provenance.

    Attributes
    ----------
    tiles : ndarray, shape (n, T, T), float32
    groups : ndarray, shape (n,), int64
        Tiles from one slice share a group id.
    sources : list of dict
        ``{"path", "sha256", "kind", "tiles"}`` per input.
    volumes : list of (Volume, list of int or None)
        The normal volumes behind the tiles, for calibrations that need
        whole slices in z order, each with the slices known to be normal
        (None: all). A training set contributes its source volumes where
        they are still on disk unchanged, with their accepted slices.
    """

    tiles: np.ndarray
    groups: np.ndarray
    sources: list[dict] = field(default_factory=list)
    volumes: list = field(default_factory=list)


def _hash_array(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _hash_path(path: Path) -> str:
    from ctreview.model.store import file_sha256

    if path.is_file():
        return file_sha256(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode())
        digest.update(file_sha256(file).encode())
    return digest.hexdigest()


def volume_tiles(volume: VolumeLike, profile: ProfileSpec, tile_size: int,
                 stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cut a volume's ROI tiles; return tiles ``(n, T, T)`` float32 and slice indices ``(n,)``."""
    from ctreview.roi import cut_tiles, extract_roi

    roi = extract_roi(volume, profile, tile_size=tile_size, stride=stride)
    tiles, index = [], []
    for k, sroi in roi.slices.items():
        if not sroi.tiles:
            continue
        image = volume.slice(k)
        tiles.append(cut_tiles(image, sroi.tiles, tile_size).astype(np.float32))
        index.append(np.full(len(sroi.tiles), k, np.int64))
    if not tiles:
        return np.zeros((0, tile_size, tile_size), np.float32), np.zeros(0, np.int64)
    return np.concatenate(tiles), np.concatenate(index)


def _defective_stems(folder: Path) -> set[str]:
    labels = folder / "labels.json"
    if not labels.is_file():
        return set()
    try:
        data = json.loads(labels.read_text(encoding="utf-8"))
        return {stem for stem, info in data.items() if isinstance(info, dict) and info.get("defective")}
    except (OSError, ValueError):
        raise CtreviewError(labels, "unreadable labels.json") from None


def _reopen_source(source: dict, fingerprint: str) -> Any:
    """Open a training set's source volume if it is still where the manifest says, unchanged."""
    from ctreview.io import open_volume, volume_fingerprint

    path = Path(str(source.get("path") or "")).expanduser()
    if not source.get("path") or not path.exists():
        log.info("source volume %s of the training set is not on this machine", path)
        return None
    try:
        volume = open_volume(path)
        if volume_fingerprint(volume) == fingerprint:
            return volume
    except CtreviewError as exc:
        log.info("source volume %s of the training set: %s", path, exc)
        return None
    log.info("source volume %s changed since the training set was made", path)
    return None


class _Collector:
    def __init__(self, profile: ProfileSpec, tile_size: int, stride: int | None) -> None:
        self.profile, self.tile_size, self.stride = profile, tile_size, stride
        self.tiles: list[np.ndarray] = []
        self.groups: list[np.ndarray] = []
        self.sources: list[dict] = []
        self.volumes: list = []
        self.next_group = 0

    def add_tiles(self, tiles: np.ndarray, groups: np.ndarray | None, source: dict) -> None:
        if len(tiles) == 0:
            log.warning("no ROI tiles in %s", source.get("path"))
        if groups is None:
            groups = np.arange(len(tiles))
        _, inverse = np.unique(groups, return_inverse=True)
        self.tiles.append(np.asarray(tiles, np.float32))
        self.groups.append(inverse.astype(np.int64) + self.next_group)
        self.next_group += int(inverse.max(initial=-1)) + 1
        self.sources.append({**source, "tiles": int(len(tiles))})

    def add_array(self, array: np.ndarray, path: str | None, kind: str) -> None:
        t = self.tile_size
        if array.ndim == 3 and array.shape[1:] == (t, t) and kind != "volume":
            self.add_tiles(array, None, {"path": path, "kind": "tiles", "sha256": _hash_array(array)})
        else:
            from ctreview.io import Volume

            self.add_volume(Volume.from_array(array), path, _hash_array(array))

    def add_volume(self, volume: VolumeLike, path: str | None, digest: str) -> None:
        tiles, index = volume_tiles(volume, self.profile, self.tile_size, self.stride)
        if len(tiles):
            self.volumes.append((volume, None))
        self.add_tiles(tiles, index, {"path": path, "kind": "volume", "sha256": digest,
                                      "shape": list(getattr(volume, "shape", ()))})

    def add_path(self, path: Path) -> None:
        from ctreview.io import open_volume

        if not path.exists():
            raise CtreviewError(path, "training input not found")
        if path.is_dir() and (path / "manifest.json").is_file():
            self.add_training_set(path)
            return
        if path.is_dir() and self._folder_of_volumes(path):
            return
        self.add_volume(open_volume(path), str(path), _hash_path(path))

    def add_training_set(self, folder: Path) -> None:
        """Add every tile of a training set, grouped by source slice for calibration."""
        from ctreview.dataset import load_training_tiles, open_training_set, training_groups

        tset = open_training_set(folder)
        size = tset.manifest.tile_size
        if size is not None and int(size) != self.tile_size:
            raise CtreviewError(folder, f"the training set holds {size}-pixel tiles but the model is "
                                        f"{self.tile_size} pixels; train with --tile-size {size}")
        tiles = load_training_tiles(folder)
        self.add_tiles(np.asarray(tiles, np.float32), training_groups(folder),
                       {"path": str(folder), "kind": "training-set", "sha256": _hash_array(tiles)})
        for fingerprint, source in tset.manifest.sources.items():
            volume = _reopen_source(source, fingerprint)
            if volume is not None:
                accepted = sorted({int(r["slice"]) for r in tset.records if r.get("source") == fingerprint})
                self.volumes.append((volume, accepted))

    def _folder_of_volumes(self, folder: Path) -> bool:
        from ctreview.io import open_volume

        skip = _defective_stems(folder)
        files = sorted(p for p in folder.iterdir() if p.name not in _SKIP_NAMES and not p.name.startswith("."))
        volumes = []
        for file in files:
            stem = file.name.split(".")[0]
            if stem in skip:
                log.info("skipping %s: labelled defective", file)
                continue
            try:
                volumes.append((file, open_volume(file)))
            except CtreviewError:
                if file.is_dir():
                    raise
                return False
        if not volumes or all(v.shape[0] == 1 for _, v in volumes):
            return False  # a folder of 2-D slices: one volume, read by open_volume(folder)
        for file, vol in volumes:
            self.add_volume(vol, str(file), _hash_path(file))
        return True


def collect_tiles(inputs: Iterable[Any] | Any, profile: ProfileSpec, tile_size: int,
                  stride: int | None = None) -> TileSet:
    """Gather training tiles ``(n, T, T)`` from inputs (see module docstring).

    Raises
    ------
    CtreviewError
        An input is unreadable, or no tiles at all were found.
    """
    if isinstance(inputs, (str, Path, np.ndarray, VolumeLike)):
        inputs = [inputs]
    col = _Collector(profile, tile_size, stride)
    for item in inputs:
        if isinstance(item, np.ndarray):
            if not np.issubdtype(item.dtype, np.number) or item.ndim != 3 or item.size == 0:
                raise CtreviewError(None, f"training array must be (n, T, T) numbers, got {item.shape} {item.dtype}")
            col.add_array(item, None, "array")
        elif isinstance(item, VolumeLike):
            col.add_volume(item, str(item.path or "<volume>"), "")
        else:
            col.add_path(Path(item))
    if not col.tiles or sum(len(t) for t in col.tiles) == 0:
        raise CtreviewError(None, "no training tiles found in the inputs")
    tiles = np.concatenate(col.tiles)
    if not np.isfinite(tiles).all():
        raise CtreviewError(None, "training tiles contain NaN or infinite values")
    return TileSet(tiles, np.concatenate(col.groups), col.sources, col.volumes)
