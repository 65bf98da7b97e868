"""The ``manifest.json`` of a training set: what each stored tile is and where it came from.

A training set is a folder::

    SET_DIR/manifest.json              this file (format tag + version)
    SET_DIR/tiles/<fp>-<gen>.npy       one (n, T, T) array per source volume, native dtype
    SET_DIR/crops/<fp>/z<slice>_<k>.npy optional whole ROI crops, (h, w)

The manifest lists sources (keyed by volume fingerprint) and tiles (a flat
list; a tile's *index* is its position in that list). Each tile record holds
``source`` (fingerprint), ``row`` (row in the source's array), ``slice``,
``roi_box`` and ``tile_box`` (``(y0, x0, y1, x1)`` half-open, slice pixels),
``profile``, ``reviewer``, ``decided_at``, ``run`` (the scoring run that
ranked the slice: id, model name/path, score, relative) or ``None``.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctreview.errors import CtreviewError
from ctreview.timestamps import now_iso

MANIFEST_NAME = "manifest.json"
FORMAT_TAG = "ctreview-training-set"
FORMAT_VERSION = 1

_TILE_KEYS = ("source", "row", "slice", "tile_box")
_SOURCE_KEYS = ("fingerprint", "name", "file", "count")


def _now() -> str:
    return now_iso("seconds")


def sanitise_path(path: str | os.PathLike | None) -> str | None:
    """Return a path safe to write into a shared manifest.

    The user's home becomes ``~`` (so a set handed to a colleague does not
    carry login names), separators become ``/`` and control characters are
    dropped (they would corrupt one-line listings).
    """
    if path is None:
        return None
    text = str(Path(path).expanduser().absolute())
    home = str(Path.home())
    if home not in ("", "/") and (text == home or text.startswith(home + os.sep)):
        text = "~" + text[len(home):]
    text = text.replace(os.sep, "/")
    return re.sub(r"[\x00-\x1f\x7f]", "", text)


@dataclass
class Manifest:
    """The parsed ``manifest.json`` of a training set.

    Attributes
    ----------
    tile_size : int or None
        Side T of every tile; ``None`` only for a set without tiles yet.
    dtype : str or None
        NumPy dtype name of the stored tiles (all sources share it).
    sources : dict of str to dict
        Per fingerprint: ``fingerprint, name, path, file, count, shape, spacing``.
    tiles : list of dict
        One record per tile, in index order (see module docstring).
    crops : list of dict
        One record per stored ROI crop: ``source, slice, box, file``.
    """

    tile_size: int | None = None
    dtype: str | None = None
    sources: dict[str, dict] = field(default_factory=dict)
    tiles: list[dict] = field(default_factory=list)
    crops: list[dict] = field(default_factory=list)
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)
    history: list[dict] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON document written to disk."""
        return {"format": FORMAT_TAG, "version": FORMAT_VERSION,
                "created": self.created, "updated": self.updated,
                "tile_size": self.tile_size, "dtype": self.dtype,
                # ``files`` lets readers that only want the arrays find them
                # without knowing the tile records (ctreview.model.data does so).
                "files": [src["file"] for src in self.sources.values() if src.get("file")],
                "sources": self.sources, "tiles": self.tiles,
                "crops": self.crops, "history": self.history}

    def keys(self) -> set[tuple]:
        """Return the dedup keys (fingerprint, slice, tile box) of every tile."""
        return {tile_key(t["source"], t["slice"], t["tile_box"]) for t in self.tiles}


def tile_key(fingerprint: str, slice_index: int, tile_box: Sequence[int]) -> tuple[str, int, tuple[int, ...]]:
    """Return the identity of a tile: same source, slice and box is the same tile."""
    return (str(fingerprint), int(slice_index), tuple(int(v) for v in tile_box))


def _fail(path: Path, message: str) -> CtreviewError:
    return CtreviewError(path, f"not a valid ctreview training-set manifest: {message}")


def _check_tiles(path: Path, doc: dict) -> None:
    sources = doc["sources"]
    for i, tile in enumerate(doc["tiles"]):
        if not isinstance(tile, dict) or any(k not in tile for k in _TILE_KEYS):
            raise _fail(path, f"tile {i} lacks one of {', '.join(_TILE_KEYS)}")
        if tile["source"] not in sources:
            raise _fail(path, f"tile {i} names unknown source {tile['source']!r}")
        box = tile["tile_box"]
        if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, int) for v in box)):
            raise _fail(path, f"tile {i} has a malformed tile_box")
        if not isinstance(tile["row"], int) or not 0 <= tile["row"] < sources[tile["source"]]["count"]:
            raise _fail(path, f"tile {i} points past its source's stored tiles")


def _check(path: Path, doc: Any) -> None:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_TAG:
        raise _fail(path, f"format tag is not {FORMAT_TAG!r}")
    version = doc.get("version")
    if not isinstance(version, int) or version < 1:
        raise _fail(path, "missing or malformed version")
    if version > FORMAT_VERSION:
        raise CtreviewError(path, f"training-set format version {version} is newer than this "
                                  f"ctreview understands ({FORMAT_VERSION}); update ctreview")
    for key, kind in (("sources", dict), ("tiles", list), ("crops", list)):
        if not isinstance(doc.get(key), kind):
            raise _fail(path, f"{key!r} missing or not a {kind.__name__}")
    for fp, src in doc["sources"].items():
        if not isinstance(src, dict) or any(k not in src for k in _SOURCE_KEYS):
            raise _fail(path, f"source {fp!r} lacks one of {', '.join(_SOURCE_KEYS)}")
        if not isinstance(src["count"], int) or src["count"] < 0:
            raise _fail(path, f"source {fp!r} has a malformed count")
    if doc["tiles"] and not (isinstance(doc.get("tile_size"), int) and doc["tile_size"] > 0):
        raise _fail(path, "tile_size missing or not a positive integer")
    _check_tiles(path, doc)


def read_manifest(set_dir: str | os.PathLike) -> Manifest:
    """Read and validate ``SET_DIR/manifest.json``.

    Raises
    ------
    CtreviewError
        Naming the manifest (or the folder) when it is missing, not JSON,
        foreign, from a newer ctreview, or inconsistent.
    """
    set_dir = Path(set_dir)
    path = set_dir / MANIFEST_NAME
    if not set_dir.is_dir():
        raise CtreviewError(set_dir, "training set folder does not exist")
    if not path.is_file():
        raise CtreviewError(path, "missing: this folder is not a ctreview training set")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(path, f"cannot be read as JSON ({exc.__class__.__name__})") from None
    _check(path, doc)
    return Manifest(tile_size=doc.get("tile_size"), dtype=doc.get("dtype"),
                    sources=doc["sources"], tiles=doc["tiles"], crops=doc["crops"],
                    created=str(doc.get("created", "")), updated=str(doc.get("updated", "")),
                    history=list(doc.get("history") or []))


def write_manifest(set_dir: str | os.PathLike, manifest: Manifest) -> Path:
    """Write the manifest atomically (temp file + rename) and return its path."""
    set_dir = Path(set_dir)
    manifest.updated = _now()
    path = set_dir / MANIFEST_NAME
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".json", dir=set_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(manifest.to_json(), fh, indent=1)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
