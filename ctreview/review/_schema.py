"""The workspace schema, its version and the migrations that build it.

The version lives in ``PRAGMA user_version`` and the file is marked as ours
with ``PRAGMA application_id`` so that an SQLite database of another program
is recognised and refused instead of being written into. ``MIGRATIONS[i]``
takes a database from version ``i`` to ``i + 1``; a new version appends one
entry and never edits an old one.
"""
from __future__ import annotations

import sqlite3

APPLICATION_ID = 0x43545276  # "CTRv"

_V1 = """
CREATE TABLE volumes (
    id          INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    path        TEXT,
    format      TEXT,
    shape       TEXT NOT NULL,        -- JSON [z, y, x]
    spacing     TEXT NOT NULL,        -- JSON [z, y, x] in mm
    dtype       TEXT,
    added_at    TEXT NOT NULL,
    opened_at   TEXT NOT NULL
);
CREATE TABLE models (
    id        INTEGER PRIMARY KEY,
    hash      TEXT NOT NULL UNIQUE,
    path      TEXT,
    name      TEXT,
    meta      TEXT NOT NULL,          -- JSON (model.json)
    added_at  TEXT NOT NULL
);
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    volume_id   INTEGER NOT NULL REFERENCES volumes(id),
    model_id    INTEGER REFERENCES models(id),
    mode        TEXT NOT NULL,
    settings    TEXT NOT NULL,        -- JSON
    device      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    summary     TEXT                  -- JSON, set by finish_run (timings live here)
);
CREATE INDEX runs_by_volume ON runs(volume_id, id);
CREATE TABLE scores (
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    slice       INTEGER NOT NULL,
    score       REAL NOT NULL,
    relative    REAL NOT NULL,
    tile_box    TEXT NOT NULL,        -- JSON [y0, x0, y1, x1]
    boxes       TEXT NOT NULL,        -- JSON [[y0, x0, y1, x1], ...]
    stage       TEXT NOT NULL,
    PRIMARY KEY (run_id, slice)
) WITHOUT ROWID;
CREATE TABLE decisions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: the audit order
    volume_id   INTEGER NOT NULL REFERENCES volumes(id),
    slice       INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('accept', 'flag', 'unsure', 'cleared')),
    note        TEXT NOT NULL DEFAULT '',
    reviewer    TEXT NOT NULL,
    decided_at  TEXT NOT NULL,
    run_id      INTEGER REFERENCES runs(id),
    undo_of     INTEGER REFERENCES decisions(id)
);
CREATE INDEX decisions_by_slice ON decisions(volume_id, slice, id);
"""

# What the window and reports show of a slice without reading its heatmap.
_V2 = """
ALTER TABLE scores ADD COLUMN paper REAL;
ALTER TABLE scores ADD COLUMN paper_relative REAL;
ALTER TABLE scores ADD COLUMN heat_max REAL NOT NULL DEFAULT 0;
ALTER TABLE scores ADD COLUMN n_tiles INTEGER NOT NULL DEFAULT 0;
"""

# The 3D defect objects of a run (ctreview.defects), worst first by rank; a run with a row in
# defect_sets had its defects found (possibly none), one without never had.
_V3 = """
CREATE TABLE defect_sets (
    run_id      INTEGER PRIMARY KEY REFERENCES runs(id),
    settings    TEXT NOT NULL,        -- JSON (DefectSettings)
    found_at    TEXT NOT NULL
);
CREATE TABLE defects (
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    id          INTEGER NOT NULL,
    rank        INTEGER NOT NULL,
    z0          INTEGER NOT NULL,
    z1          INTEGER NOT NULL,
    peak        REAL NOT NULL,
    voxels      INTEGER NOT NULL,
    data        TEXT NOT NULL,        -- JSON (Defect.to_dict)
    PRIMARY KEY (run_id, id)
) WITHOUT ROWID;
"""

MIGRATIONS: list[str] = [_V1, _V2, _V3]
"""SQL scripts; entry ``i`` migrates a database from version ``i`` to ``i + 1``."""

SCHEMA_VERSION = len(MIGRATIONS)


def has_tables(conn: sqlite3.Connection) -> bool:
    """Return whether the database holds any table, index or view."""
    return conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0


def migrate(conn: sqlite3.Connection, current: int) -> None:
    """Bring a database from version ``current`` up to :data:`SCHEMA_VERSION`.

    Each step runs in one transaction together with its version bump, so a
    crash leaves the database at either the old or the new version.
    """
    for version in range(current, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the lock.
            if conn.execute("PRAGMA user_version").fetchone()[0] != version:
                conn.execute("ROLLBACK")
                continue
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    # executescript() would commit our open transaction; split instead.
    lines = [line.split("--")[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
