"""The workspace: one SQLite file holding volumes, models, runs, scores and decisions.

Every write is one transaction, committed before the method returns;
decisions are additionally synced to disk (see :mod:`._decisions`). The
store may be used from several threads (each gets its own connection, see
:mod:`._db`) and by several processes at once (SQLite file locking).
Heatmaps live beside the database in ``<workspace>.heatmaps/``.
"""
from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np

from ctreview.defects import Defect
from ctreview.errors import CtreviewError
from ctreview.io import VolumeLike, volume_fingerprint
from ctreview.results import SliceResult, SliceScore
from ctreview.review._db import _Connections, check_and_migrate
from ctreview.review._decisions import _DecisionsMixin
from ctreview.review._util import box, from_json, to_json
from ctreview.review.heatmap_store import HeatmapStore, cache_dir_for
from ctreview.timestamps import now_iso

RESULT_BATCH = 64
"""Slice results committed per transaction by :meth:`Workspace.add_results`."""


@dataclass
class Session:
    """What the workspace remembers about one volume: enough to resume review."""

    volume_id: int
    run_id: int | None
    scores: list[SliceScore] = field(default_factory=list)
    decisions: dict[int, dict] = field(default_factory=dict)


def open_workspace(path: str | Path | None = None, *, create: bool = True) -> Workspace:
    """Open (creating if needed) a workspace; None means :func:`ctreview.paths.default_workspace`.

    With ``create=False`` (commands that only read: reports, exports) a
    missing file is a :class:`CtreviewError` and nothing is created on disk.
    """
    if path is None:
        from ctreview.paths import default_workspace
        path = default_workspace()
    if not create:
        full = Path(path).expanduser().absolute()
        if not full.exists():
            raise CtreviewError(full, "no workspace here: nothing was scored or reviewed with it "
                                      "(`ctreview score VOLUME --workspace PATH` starts one)")
    return Workspace(path)


class Workspace(_DecisionsMixin):
    """A review store in one SQLite file.

    Parameters
    ----------
    path : str or Path
        The database file; created when missing. Raises
        :class:`CtreviewError` naming the file when it is damaged, foreign or
        of a newer schema; :meth:`create_fresh` is the way out.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser().absolute()
        if self.path.is_dir():
            raise CtreviewError(self.path, "is a folder, not a workspace file")
        check_and_migrate(self.path)
        self._db = _Connections(self.path)
        self.heatmaps = HeatmapStore(cache_dir_for(self.path))
        self.expected_images = HeatmapStore(cache_dir_for(self.path), "expected")
        self.recovered_from: Path | None = None

    @classmethod
    def create_fresh(cls, path: str | Path) -> Workspace:
        """Move a bad workspace aside to ``<name>.corrupt-<timestamp>`` and start an empty one.

        The database's ``-wal``/``-shm`` companions and its heatmap folder
        move along, so the old file stays whole for inspection. The new
        workspace's ``recovered_from`` names where the old one went.
        """
        path = Path(path).expanduser().absolute()
        aside = _free_name(path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}"))
        moves = [(path, aside), (cache_dir_for(path), cache_dir_for(aside))]
        moves += [(path.with_name(path.name + s), aside.with_name(aside.name + s))
                  for s in ("-wal", "-shm", "-journal")]
        try:
            for src, dst in moves:
                if src.exists():
                    src.rename(dst)
        except OSError as exc:
            raise CtreviewError(path, f"cannot move the old workspace aside: {exc}") from exc
        workspace = cls(path)
        workspace.recovered_from = aside if aside.exists() else None
        return workspace

    def close(self) -> None:
        """Close the connections of every thread."""
        self._db.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- volumes -----------------------------------------------------------------
    def add_volume(self, volume: VolumeLike) -> int:
        """Register a volume, or find it by content when known (even moved); return its id.

        A known volume gets its path updated to where it is now.
        """
        fingerprint = volume_fingerprint(volume)
        path = getattr(volume, "path", None)
        if path is not None:  # absolute: the GUI and the CLI run from different folders
            path = Path(path).expanduser().absolute()
        now = now_iso()
        with self._db.write() as conn:
            row = conn.execute(
                "INSERT INTO volumes (fingerprint, path, format, shape, spacing, dtype, "
                "added_at, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(fingerprint) DO UPDATE SET opened_at = excluded.opened_at, "
                "path = coalesce(excluded.path, volumes.path) RETURNING id",
                (fingerprint, None if path is None else str(path), getattr(volume, "format", None),
                 to_json([int(s) for s in volume.shape]),
                 to_json([float(s) for s in volume.spacing]),
                 str(getattr(volume, "dtype", "")), now, now)).fetchone()
        return int(row["id"])

    def add_volume_record(self, fingerprint: str, path: str | Path | None, shape: Iterable[int],
                          spacing: Iterable[float], dtype: str = "", format: str | None = None) -> int:
        """Register a volume read elsewhere (a batch worker), by its fingerprint and header; return its id.

        The same as :meth:`add_volume` without reading the volume again.
        """
        if path is not None:
            path = Path(path).expanduser().absolute()
        now = now_iso()
        with self._db.write() as conn:
            row = conn.execute(
                "INSERT INTO volumes (fingerprint, path, format, shape, spacing, dtype, "
                "added_at, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(fingerprint) DO UPDATE SET opened_at = excluded.opened_at, "
                "path = coalesce(excluded.path, volumes.path) RETURNING id",
                (str(fingerprint), None if path is None else str(path), format,
                 to_json([int(s) for s in shape]), to_json([float(s) for s in spacing]),
                 str(dtype), now, now)).fetchone()
        return int(row["id"])

    def find_fingerprint(self, fingerprint: str) -> int | None:
        """Return the id of the volume with this content fingerprint, or None."""
        rows = self._db.read("SELECT id FROM volumes WHERE fingerprint = ?", (str(fingerprint),))
        return int(rows[0]["id"]) if rows else None

    def find_volume(self, volume: VolumeLike) -> int | None:
        """Return the id of a known volume (matched by content fingerprint), or None."""
        rows = self._db.read("SELECT id FROM volumes WHERE fingerprint = ?",
                             (volume_fingerprint(volume),))
        return int(rows[0]["id"]) if rows else None

    def _volume_row(self, volume_id: int) -> sqlite3.Row:
        rows = self._db.read("SELECT * FROM volumes WHERE id = ?", (int(volume_id),))
        if not rows:
            raise CtreviewError(self.path, f"the workspace has no volume {volume_id}")
        return rows[0]

    def volume_info(self, volume_id: int) -> dict:
        """Return id, fingerprint, path, format, shape (z, y, x), spacing (z, y, x), dtype, dates."""
        row = dict(self._volume_row(volume_id))
        row["shape"] = tuple(from_json(row["shape"]))
        row["spacing"] = tuple(from_json(row["spacing"]))
        return row

    def volumes(self) -> list[dict]:
        """Return every known volume, most recently opened first."""
        rows = self._db.read("SELECT id FROM volumes ORDER BY opened_at DESC, id DESC")
        return [self.volume_info(row["id"]) for row in rows]

    # -- models ------------------------------------------------------------------
    def add_model(self, model_dir: str | Path, meta: dict) -> int:
        """Register a model (by hash of its files and metadata) and return its id."""
        digest = _model_hash(Path(model_dir), meta)
        name = str(meta.get("name") or Path(model_dir).stem)
        with self._db.write() as conn:
            row = conn.execute(
                "INSERT INTO models (hash, path, name, meta, added_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(hash) DO UPDATE SET path = excluded.path RETURNING id",
                (digest, str(model_dir), name, to_json(meta), now_iso())).fetchone()
        return int(row["id"])

    def model_info(self, model_id: int | None) -> dict | None:
        """Return id, hash, path, name, meta (dict), added_at; None for None."""
        if model_id is None:
            return None
        rows = self._db.read("SELECT * FROM models WHERE id = ?", (int(model_id),))
        if not rows:
            return None
        info = dict(rows[0])
        info["meta"] = from_json(info["meta"], {})
        return info

    # -- runs and scores ---------------------------------------------------------
    def start_run(self, volume_id: int, model_id: int | None, mode: str, settings: dict,
                  device: str) -> int:
        """Record the start of a scoring run and return its id."""
        self._volume_row(volume_id)
        with self._db.write() as conn:
            row = conn.execute(
                "INSERT INTO runs (volume_id, model_id, mode, settings, device, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (int(volume_id), model_id, str(mode), to_json(settings), str(device),
                 now_iso())).fetchone()
        run_id = int(row["id"])
        self.heatmaps.drop_run(run_id)  # left over from a workspace this one replaced
        return run_id

    def add_results(self, run_id: int, results: Iterable[SliceResult]) -> int:
        """Store slice results (a later one for a slice replaces it); return how many.

        Heatmaps go to the on-disk cache before their scores are committed, so
        a stored score always has its heatmap. Results are committed in
        batches of :data:`RESULT_BATCH`, so a long stream keeps its progress.
        """
        count, stream = 0, iter(results)
        while batch := list(islice(stream, RESULT_BATCH)):
            for result in batch:
                if result.heatmap is not None and result.heatmap.size:
                    self.heatmaps.put(run_id, result.index, result.heatmap)
                if result.expected is not None and result.expected.size:
                    self.expected_images.put(run_id, result.index, result.expected)
            rows = [_score_row(run_id, r.summary()) for r in batch]
            with self._db.write() as conn:
                conn.executemany(
                    "INSERT INTO scores (run_id, slice, score, relative, tile_box, boxes, stage, paper, "
                    "paper_relative, heat_max, n_tiles) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(run_id, slice) DO UPDATE SET score = excluded.score, relative = "
                    "excluded.relative, tile_box = excluded.tile_box, boxes = excluded.boxes, stage = "
                    "excluded.stage, paper = excluded.paper, paper_relative = excluded.paper_relative, "
                    "heat_max = excluded.heat_max, n_tiles = excluded.n_tiles", rows)
            count += len(batch)
        return count

    def finish_run(self, run_id: int, summary: dict) -> None:
        """Mark a run finished and keep its summary (timings, threshold, counts...)."""
        with self._db.write() as conn:
            conn.execute("UPDATE runs SET finished_at = ?, summary = ? WHERE id = ?",
                         (now_iso(), to_json(summary), int(run_id)))

    def latest_run(self, volume_id: int) -> int | None:
        """Return the newest finished run of a volume, else the newest run at all, else None."""
        rows = self._db.read("SELECT id FROM runs WHERE volume_id = ? "
                             "ORDER BY finished_at IS NULL, id DESC LIMIT 1", (int(volume_id),))
        return int(rows[0]["id"]) if rows else None

    def runs(self, volume_id: int) -> list[dict]:
        """Return every run of a volume, newest first (see :meth:`run_info`)."""
        rows = self._db.read("SELECT id FROM runs WHERE volume_id = ? ORDER BY id DESC",
                             (int(volume_id),))
        return [self.run_info(row["id"]) for row in rows]

    def run_info(self, run_id: int) -> dict:
        """Return id, volume_id, model_id, mode, settings, device, started_at, finished_at, summary."""
        rows = self._db.read("SELECT * FROM runs WHERE id = ?", (int(run_id),))
        if not rows:
            raise CtreviewError(self.path, f"the workspace has no scoring run {run_id}")
        info = dict(rows[0])
        info["settings"] = from_json(info["settings"], {})
        info["summary"] = from_json(info["summary"], None)
        return info

    def run_scores(self, run_id: int) -> list[SliceScore]:
        """Return every scored slice of a run, by slice index."""
        rows = self._db.read("SELECT * FROM scores WHERE run_id = ? ORDER BY slice", (int(run_id),))
        return [SliceScore(int(row["slice"]), float(row["score"]), float(row["relative"]),
                           box(from_json(row["tile_box"])), [box(b) for b in from_json(row["boxes"])],
                           str(row["stage"]), _real(row["paper"]), _real(row["paper_relative"]),
                           float(row["heat_max"]), int(row["n_tiles"]))
                for row in rows]

    def import_run(self, volume_id: int, model_id: int | None, settings: dict, device: str,
                   scores: Iterable[SliceScore], heatmaps: Iterable[tuple[int, np.ndarray]],
                   summary: dict) -> int:
        """Record a run scored elsewhere (a run folder of ``ctreview batch``) and return its id.

        ``heatmaps`` yields ``(slice, heatmap (y, x) float32)``; they are
        stored before the scores, and the run is marked finished last, so an
        import that stops half way is an unfinished run that
        :meth:`latest_run` passes over.
        """
        run_id = self.start_run(volume_id, model_id, str(settings.get("mode", "")), settings, device)
        for index, heat in heatmaps:
            if heat is not None and heat.size:
                self.heatmaps.put(run_id, int(index), heat)
        rows = [_score_row(run_id, s) for s in scores]
        with self._db.write() as conn:
            conn.executemany(
                "INSERT INTO scores (run_id, slice, score, relative, tile_box, boxes, stage, paper, "
                "paper_relative, heat_max, n_tiles) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(run_id, slice) DO NOTHING", rows)
        self.finish_run(run_id, summary)
        return run_id

    def add_defects(self, run_id: int, defects: Iterable[Defect], settings: dict | None = None) -> int:
        """Store the defects of a run (replacing any it had) and how they were found; return how many."""
        rows = [(int(run_id), d.id, d.rank, d.z0, d.z1, d.peak, d.voxels, to_json(d.to_dict()))
                for d in defects]
        with self._db.write() as conn:
            conn.execute("DELETE FROM defects WHERE run_id = ?", (int(run_id),))
            conn.execute("INSERT INTO defect_sets (run_id, settings, found_at) VALUES (?, ?, ?) "
                         "ON CONFLICT(run_id) DO UPDATE SET settings = excluded.settings, "
                         "found_at = excluded.found_at", (int(run_id), to_json(settings or {}), now_iso()))
            conn.executemany("INSERT INTO defects (run_id, id, rank, z0, z1, peak, voxels, data) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def run_defects(self, run_id: int) -> list[Defect] | None:
        """Return a run's defects by rank; None if they were never found (a run of an older ctreview)."""
        if not self._db.read("SELECT 1 FROM defect_sets WHERE run_id = ?", (int(run_id),)):
            return None
        rows = self._db.read("SELECT data FROM defects WHERE run_id = ? ORDER BY rank, id", (int(run_id),))
        return [Defect.from_dict(from_json(row["data"])) for row in rows]

    def heatmap(self, run_id: int, slice: int) -> np.ndarray | None:
        """Return the cached (y, x) float32 heatmap of a slice, or None."""
        return self.heatmaps.get(run_id, slice)

    def expected(self, run_id: int, slice: int) -> np.ndarray | None:
        """Return the (y, x) float32 slice the run's model expected (0 outside the ROI), or None."""
        return self.expected_images.get(run_id, slice)

    def session(self, volume_id: int) -> Session:
        """Return the latest run's scores and the current decisions of a volume."""
        run_id = self.latest_run(volume_id)
        scores = self.run_scores(run_id) if run_id is not None else []
        return Session(int(volume_id), run_id, scores, self.decisions(volume_id))

    def resume(self, volume: VolumeLike) -> Session | None:
        """Return the session of a known volume (updating its path), or None if unknown."""
        if self.find_volume(volume) is None:
            return None
        return self.session(self.add_volume(volume))


def _score_row(run_id: int, s: SliceScore) -> tuple:
    return (int(run_id), s.index, s.score, s.relative, to_json(box(s.tile_box)),
            to_json([box(b) for b in s.boxes]), s.stage, s.paper, s.paper_relative,
            s.heat_max, s.n_tiles)


def _real(value: float | None) -> float | None:
    return None if value is None else float(value)


def _model_hash(model_dir: Path, meta: dict) -> str:
    digest = hashlib.sha256(to_json(meta).encode())
    files = sorted(p for p in model_dir.rglob("*") if p.is_file()) if model_dir.is_dir() else (
        [model_dir] if model_dir.is_file() else [])
    for file in files:
        digest.update(file.name.encode())
        with open(file, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _free_name(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        candidate, n = path.with_name(f"{path.name}-{n}"), n + 1
    return candidate
