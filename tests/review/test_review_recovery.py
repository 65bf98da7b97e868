"""Bad workspace files are refused with a clear error and can be moved aside."""
import sqlite3

import numpy as np
import pytest
from review_data import scored_workspace

from ctreview.errors import CtreviewError
from ctreview.review import SCHEMA_VERSION, Workspace, cache_dir_for, open_workspace


def test_random_bytes_are_refused_and_recoverable(tmp_path):
    db = tmp_path / "workspace.sqlite"
    db.write_bytes(np.random.default_rng(0).bytes(8192))
    with pytest.raises(CtreviewError, match="not a database") as info:
        open_workspace(db)
    assert info.value.path == str(db)
    with Workspace.create_fresh(db) as ws:
        assert ws.recovered_from.name.startswith("workspace.sqlite.corrupt-")
        assert ws.recovered_from.read_bytes() == np.random.default_rng(0).bytes(8192)
        assert ws.volumes() == []
    with open_workspace(db) as ws:               # the fresh one is a good workspace
        assert ws.volumes() == []


def test_foreign_sqlite_database_is_refused_untouched(tmp_path):
    db = tmp_path / "photos.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE albums (id INTEGER PRIMARY KEY, title TEXT)")
    conn.execute("INSERT INTO albums (title) VALUES ('holiday')")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(CtreviewError, match="another application") as info:
        open_workspace(db)
    assert str(db) in str(info.value)
    assert db.read_bytes() == before


def test_newer_schema_is_refused(tmp_path):
    db = tmp_path / "ws.sqlite"
    Workspace(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(CtreviewError, match="newer ctreview"):
        open_workspace(db)


def test_truncated_workspace_is_refused(tmp_path, volume):
    db = tmp_path / "ws.sqlite"
    with Workspace(db) as ws:
        scored_workspace(ws, volume)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")   # move everything into the main file
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    data = db.read_bytes()
    assert len(data) > 8192
    db.write_bytes(data[: len(data) // 2])
    with pytest.raises(CtreviewError, match="damaged") as info:
        Workspace(db)
    assert info.value.path == str(db)


def test_create_fresh_moves_heatmaps_along(tmp_path, volume):
    db = tmp_path / "ws.sqlite"
    with Workspace(db) as ws:
        _, run_id = scored_workspace(ws, volume)
    with Workspace.create_fresh(db) as fresh:
        old = fresh.recovered_from
        assert not cache_dir_for(db).exists()
        assert (cache_dir_for(old) / str(run_id)).is_dir()
        volume_id = fresh.add_volume(volume)
        new_run = fresh.start_run(volume_id, None, "fast", {}, "cpu")
        assert fresh.heatmap(new_run, 0) is None   # no stale heatmaps under a reused run id
    with Workspace(old) as ws:                     # the old one is intact where it went
        assert len(ws.run_scores(run_id)) == volume.shape[0]


def test_empty_file_and_missing_folder_become_a_workspace(tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with Workspace(empty) as ws:
        assert ws.volumes() == []
    with Workspace(tmp_path / "new" / "deeper" / "ws.sqlite") as ws:
        assert ws.path.is_file()


def test_folder_is_refused(tmp_path):
    with pytest.raises(CtreviewError, match="folder"):
        Workspace(tmp_path)


def test_older_schema_is_migrated_keeping_data(tmp_path, volume, monkeypatch):
    from ctreview.review import _schema

    db = tmp_path / "ws.sqlite"
    with Workspace(db) as ws:
        volume_id, run_id = scored_workspace(ws, volume)
    monkeypatch.setattr(_schema, "MIGRATIONS",
                        [*_schema.MIGRATIONS, "CREATE TABLE tags (slice INTEGER, tag TEXT);"])
    monkeypatch.setattr(_schema, "SCHEMA_VERSION", len(_schema.MIGRATIONS))
    with Workspace(db) as ws:
        assert len(ws.run_scores(run_id)) == volume.shape[0]
        assert ws.decisions(volume_id)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert conn.execute("SELECT count(*) FROM tags").fetchone()[0] == 0
    conn.close()


def test_workspace_locked_too_long_is_a_clear_error(tmp_path, volume, monkeypatch):
    from ctreview.review import _db

    db = tmp_path / "ws.sqlite"
    with Workspace(db) as ws:
        volume_id = ws.add_volume(volume)
    monkeypatch.setattr(_db, "BUSY_TIMEOUT_MS", 200)
    other_app = sqlite3.connect(db, isolation_level=None)
    other_app.execute("BEGIN EXCLUSIVE")          # another program sits on the write lock
    try:
        with Workspace(db) as ws:
            with pytest.raises(CtreviewError, match="locked") as info:
                ws.decide(volume_id, 0, "flag")
            assert info.value.path == str(db)
    finally:
        other_app.execute("ROLLBACK")
        other_app.close()
    with Workspace(db) as ws:
        assert ws.decisions(volume_id) == {}
        ws.decide(volume_id, 0, "flag")
