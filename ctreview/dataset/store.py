"""Tile storage of a training set: one memory-mappable ``.npy`` per source volume.

Files are never rewritten in place: an append or a prune writes the source's
array under a new generation name, then the manifest, then deletes the old
file. A crash at any point leaves a manifest that points at complete files.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ctreview.dataset.manifest import MANIFEST_NAME, Manifest, read_manifest, tile_key, write_manifest
from ctreview.errors import CtreviewError

TILES_DIR = "tiles"


def _save_npy(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` atomically."""
    fd, tmp = tempfile.mkstemp(prefix=".tiles-", suffix=".npy", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class TrainingSet:
    """A training-set folder opened for reading or changing.

    Parameters
    ----------
    set_dir : Path
        The folder holding ``manifest.json``.
    manifest : Manifest
        Its parsed manifest.
    """

    def __init__(self, set_dir: Path, manifest: Manifest) -> None:
        self.dir = Path(set_dir)
        self.manifest = manifest
        self._arrays: dict[str, np.ndarray] = {}

    # -- opening -----------------------------------------------------------
    @classmethod
    def open(cls, set_dir: str | os.PathLike) -> TrainingSet:
        """Open an existing set; CtreviewError naming the file if it is broken."""
        return cls(Path(set_dir), read_manifest(set_dir))

    @classmethod
    def open_or_create(cls, set_dir: str | os.PathLike) -> TrainingSet:
        """Open a set, or start a new one in a missing or empty folder."""
        set_dir = Path(set_dir)
        if (set_dir / MANIFEST_NAME).exists():
            return cls.open(set_dir)
        if set_dir.exists() and (not set_dir.is_dir() or any(set_dir.iterdir())):
            raise CtreviewError(set_dir, "exists and is not an empty folder or a training set; "
                                         "choose a new folder")
        set_dir.mkdir(parents=True, exist_ok=True)
        return cls(set_dir, Manifest())

    # -- reading -----------------------------------------------------------
    def __len__(self) -> int:
        return len(self.manifest.tiles)

    @property
    def records(self) -> list[dict]:
        """Return the tile records, index order."""
        return self.manifest.tiles

    @property
    def tile_size(self) -> int | None:
        return self.manifest.tile_size

    def source_array(self, fingerprint: str) -> np.ndarray:
        """Return the source's stored tiles, shape (count, T, T), memory-mapped read-only."""
        if fingerprint not in self._arrays:
            src = self.manifest.sources[fingerprint]
            path = self.dir / src["file"]
            try:
                arr = np.load(path, mmap_mode="r", allow_pickle=False)
            except FileNotFoundError:
                raise CtreviewError(path, "tile file listed in the manifest is missing") from None
            except (OSError, ValueError, EOFError) as exc:
                raise CtreviewError(path, f"tile file is corrupt or truncated ({exc})") from None
            t = self.manifest.tile_size
            if arr.ndim != 3 or arr.shape[0] != src["count"] or arr.shape[1:] != (t, t):
                raise CtreviewError(path, f"tile file holds shape {arr.shape}, the manifest "
                                          f"expects ({src['count']}, {t}, {t})")
            self._arrays[fingerprint] = arr
        return self._arrays[fingerprint]

    def tile(self, index: int) -> np.ndarray:
        """Return tile ``index`` as a (T, T) array in its stored dtype."""
        rec = self.manifest.tiles[index]
        return np.asarray(self.source_array(rec["source"])[rec["row"]])

    def dtype(self) -> np.dtype:
        """Return the common dtype of the stored tiles (float32 when sources differ)."""
        kinds = {src.get("dtype") for src in self.manifest.sources.values() if src["count"]}
        return np.dtype(kinds.pop()) if len(kinds) == 1 else np.dtype(np.float32)

    def tiles(self, indices: Sequence[int] | None = None) -> np.ndarray:
        """Return tiles as one array, shape (n, T, T), in index order (all when ``indices`` is None)."""
        recs = self.manifest.tiles
        idx = range(len(recs)) if indices is None else indices
        t = self.manifest.tile_size or 0
        out = np.empty((len(idx), t, t), self.dtype())
        by_source: dict[str, list[tuple[int, int]]] = {}
        for k, i in enumerate(idx):
            by_source.setdefault(recs[i]["source"], []).append((k, recs[i]["row"]))
        for fp, pairs in by_source.items():
            dest, rows = (np.array(v) for v in zip(*pairs))
            # Sorted fancy indexing keeps reads from the memory map sequential.
            order = np.argsort(rows)
            out[dest[order]] = self.source_array(fp)[rows[order]]
        return out

    # -- changing ----------------------------------------------------------
    def _stage_source(self, fp: str, array: np.ndarray) -> str | None:
        """Write ``array`` as the source's tiles under a new generation; return the old file."""
        src = self.manifest.sources[fp]
        old = src.get("file")
        gen = int(src.get("generation", 0)) + 1
        (self.dir / TILES_DIR).mkdir(exist_ok=True)
        # fingerprints read "v1:<hex>"; a colon is not allowed in Windows file names
        new = f"{TILES_DIR}/{fp.replace(':', '_')[:24]}-{gen:04d}.npy"
        _save_npy(self.dir / new, array)
        src.update(file=new, generation=gen, count=int(array.shape[0]), dtype=array.dtype.name)
        self._arrays.pop(fp, None)
        return old if old != new else None

    def _commit(self, old_files: Iterable[str | None]) -> None:
        """Save the manifest, then delete the files it no longer names."""
        write_manifest(self.dir, self.manifest)
        for old in old_files:
            if old:
                (self.dir / old).unlink(missing_ok=True)

    def append(self, source: dict, tiles: np.ndarray, records: list[dict]) -> int:
        """Add tiles of one source, skipping any already present; return how many were added.

        Parameters
        ----------
        source : dict
            ``fingerprint``, ``name``, ``path`` and any extra facts about the volume.
        tiles : ndarray, shape (n, T, T)
            The tiles, in the volume's dtype.
        records : list of dict
            One record per tile with ``slice`` and ``tile_box`` (plus provenance).
        """
        fp = source["fingerprint"]
        t = int(tiles.shape[-1]) if tiles.ndim == 3 else None
        if self.manifest.tile_size not in (None, t):
            raise CtreviewError(self.dir, f"the set holds {self.manifest.tile_size}-pixel tiles, "
                                          f"cannot add {t}-pixel tiles")
        have = self.manifest.keys()
        keep = [k for k, r in enumerate(records) if tile_key(fp, r["slice"], r["tile_box"]) not in have]
        keep = list({tile_key(fp, records[k]["slice"], records[k]["tile_box"]): k for k in keep}.values())
        if not keep:
            return 0
        if t is None:
            raise CtreviewError(self.dir, f"tiles must be a stack of shape (n, T, T), got {tiles.shape}")
        self.manifest.tile_size = t
        src = self.manifest.sources.setdefault(fp, {"count": 0, "file": None})
        src.update({k: v for k, v in source.items() if k not in ("count", "file", "generation")})
        old = self.source_array(fp) if src["count"] else np.empty((0, t, t), tiles.dtype)
        if src["count"] and old.dtype != tiles.dtype:
            raise CtreviewError(self.dir, f"source {fp[:12]} is stored as {old.dtype}, "
                                          f"new tiles are {tiles.dtype}")
        new = np.concatenate([old, tiles[keep]])
        for row, k in enumerate(keep, start=int(src["count"])):
            rec = dict(records[k], source=fp, row=row)
            rec["tile_box"] = [int(v) for v in rec["tile_box"]]
            self.manifest.tiles.append(rec)
        stale = self._stage_source(fp, new)
        self.manifest.dtype = self.dtype().name
        self._commit([stale])
        return len(keep)

    def remove(self, indices: Iterable[int]) -> int:
        """Delete the tiles at ``indices`` (later tiles move down); return how many went."""
        drop = set(int(i) for i in indices)
        bad = [i for i in drop if not 0 <= i < len(self)]
        if bad:
            raise CtreviewError(self.dir, f"no tile with index {min(bad)} (the set holds {len(self)})")
        if not drop:
            return 0
        kept = [r for i, r in enumerate(self.manifest.tiles) if i not in drop]
        stale = []
        for fp in {self.manifest.tiles[i]["source"] for i in drop}:
            rows = [r for r in kept if r["source"] == fp]
            if not rows:
                stale += self._drop_source(fp)
                continue
            arr = np.asarray(self.source_array(fp)[[r["row"] for r in rows]])
            stale.append(self._stage_source(fp, arr))
            for new_row, rec in enumerate(rows):
                rec["row"] = new_row
        self.manifest.tiles = kept
        self.manifest.dtype = self.dtype().name if kept else None
        self._commit(stale)
        return len(drop)

    def _drop_source(self, fp: str) -> list[str | None]:
        """Forget a source that has no tiles left; return its files (deleted on commit)."""
        src = self.manifest.sources.pop(fp)
        files = [src.get("file")] + [c["file"] for c in self.manifest.crops if c["source"] == fp]
        self.manifest.crops = [c for c in self.manifest.crops if c["source"] != fp]
        self._arrays.pop(fp, None)
        return files
