"""Reading a training set as a whole: its tiles, a summary, pruning."""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable

import numpy as np

from ctreview.dataset.manifest import MANIFEST_NAME, write_manifest
from ctreview.dataset.store import TrainingSet
from ctreview.errors import CtreviewError
from ctreview.timestamps import now_iso


def open_training_set(set_dir: str | os.PathLike) -> TrainingSet:
    """Open the training set in ``set_dir`` (CtreviewError naming the file when broken)."""
    return TrainingSet.open(set_dir)


def is_training_set(path: str | os.PathLike) -> bool:
    """Return whether ``path`` is a folder holding a training-set manifest (unchecked)."""
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, MANIFEST_NAME))


def load_training_tiles(set_dir: str | os.PathLike) -> np.ndarray:
    """Return every tile of a training set, for training.

    Parameters
    ----------
    set_dir : path
        A training-set folder written by :func:`export_training_set`.

    Returns
    -------
    ndarray, shape (n, T, T)
        Tiles in manifest index order, in their stored dtype (the volumes'
        native dtype, e.g. uint16; float32 when sources differ).

    Raises
    ------
    CtreviewError
        Naming the manifest or tile file when the set is broken, or the
        folder when the set holds no tiles.
    """
    tset = TrainingSet.open(set_dir)
    if not len(tset):
        raise CtreviewError(set_dir, "the training set holds no tiles")
    return tset.tiles()


def training_groups(set_dir: str | os.PathLike) -> np.ndarray:
    """Return a group id per tile, shape (n,), int64: tiles of one source slice share an id.

    Calibration holds out whole slices, so it needs to know which tiles
    come from the same slice; ids follow :func:`load_training_tiles`'s order.
    """
    keys: dict[tuple, int] = {}
    recs = TrainingSet.open(set_dir).records
    return np.array([keys.setdefault((r["source"], r["slice"]), len(keys)) for r in recs],
                    np.int64)


def _ranges(values: Iterable[int]) -> str:
    """Return ``"0-4, 7, 9-10"`` for sorted distinct integers."""
    out: list[str] = []
    run: list[int] = []
    for v in sorted(set(values)):
        if run and v == run[-1] + 1:
            run.append(v)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [v]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ", ".join(out)


def summarise(set_dir: str | os.PathLike) -> dict:
    """Return a JSON-ready summary of a training set.

    Keys: ``path, tiles, tile_size, dtype, bytes, created, updated, sources``
    (each ``fingerprint, name, path, tiles, slices, first_index``),
    ``profiles``, ``reviewers``, ``models`` (counts of tiles) and ``crops``.
    """
    tset = TrainingSet.open(set_dir)
    man = tset.manifest
    per_source: dict[str, list[int]] = {}
    first: dict[str, int] = {}
    for i, rec in enumerate(man.tiles):
        per_source.setdefault(rec["source"], []).append(int(rec["slice"]))
        first.setdefault(rec["source"], i)
    sources = [{"fingerprint": fp, "name": src.get("name"), "path": src.get("path"),
                "tiles": len(per_source.get(fp, [])),
                "slices": sorted(set(per_source.get(fp, []))), "first_index": first.get(fp)}
               for fp, src in man.sources.items()]
    size = sum(f.stat().st_size for f in tset.dir.rglob("*") if f.is_file())
    count = lambda key: dict(Counter(str(r.get(key)) for r in man.tiles))  # noqa: E731
    models = Counter(str((r.get("run") or {}).get("model")) for r in man.tiles)
    return {"path": str(tset.dir), "tiles": len(tset), "tile_size": man.tile_size,
            "dtype": man.dtype, "bytes": size, "created": man.created, "updated": man.updated,
            "sources": sources, "profiles": count("profile"), "reviewers": count("reviewer"),
            "models": dict(models), "crops": len(man.crops)}


def _size(n: int) -> str:
    """``"512 B"``, ``"48.3 kB"``, ``"12.4 MB"``: never "0.0 MB" for a small set."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} B"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def format_summary(info: dict) -> str:
    """Return the summary as the lines ``ctreview dataset info`` prints."""
    lines = [f"training set {info['path']}",
             f"  {_count(info['tiles'], 'tile')} of {info['tile_size']}x{info['tile_size']} "
             f"{info['dtype']}, {_count(len(info['sources']), 'source')}, {_size(info['bytes'])}, "
             f"updated {info['updated']}",
             "  profiles: " + ", ".join(f"{k} ({v})" for k, v in info["profiles"].items()),
             "  reviewers: " + ", ".join(f"{k} ({v})" for k, v in info["reviewers"].items()),
             "  scored by: " + ", ".join(f"{k} ({v})" for k, v in info["models"].items())]
    for src in info["sources"]:
        start = src["first_index"]
        span = f"tiles {start}-{start + src['tiles'] - 1}" if src["tiles"] else "no tiles"
        lines.append(f"  {src['fingerprint']}  {src['name']}: {src['tiles']} tiles ({span}), "
                     f"slices {_ranges(src['slices'])}")
    return "\n".join(lines)


def match_source(tset: TrainingSet, spec: str) -> str:
    """Return the fingerprint named by ``spec``: a fingerprint, its unique prefix or a source name."""
    fps = list(tset.manifest.sources)
    exact = [fp for fp in fps if fp == spec or tset.manifest.sources[fp].get("name") == spec]
    hits = exact or [fp for fp in fps if fp.startswith(spec) or fp.split(":")[-1].startswith(spec)]
    if len(hits) != 1:
        what = "no source matches" if not hits else f"{len(hits)} sources match"
        raise CtreviewError(tset.dir, f"{what} {spec!r}; see `ctreview dataset info`")
    return hits[0]


def prune(set_dir: str | os.PathLike, *, tiles: Iterable[int] = (), source: str | None = None,
          slices: Iterable[int] | None = None) -> int:
    """Remove tiles from a training set and return how many were removed.

    Parameters
    ----------
    tiles : iterable of int
        Tile indices (as ``info`` and the dialog's grid number them).
    source : str, optional
        Fingerprint (or unique prefix, or file name) of a source: all its tiles,
        or with ``slices`` only those slices' tiles.
    slices : iterable of int, optional
        Slice indices; of ``source`` when given, else of every source.
    """
    tset = TrainingSet.open(set_dir)
    drop = set(int(i) for i in tiles)
    fp = match_source(tset, source) if source else None
    wanted = None if slices is None else {int(z) for z in slices}
    if fp is not None or wanted is not None:
        drop |= {i for i, r in enumerate(tset.records)
                 if (fp is None or r["source"] == fp) and (wanted is None or r["slice"] in wanted)}
    removed = tset.remove(sorted(drop))
    if removed:
        tset.manifest.history.append({"action": "prune", "at": now_iso("seconds"), "removed": removed})
        write_manifest(tset.dir, tset.manifest)
    return removed
