"""Opening, checking and sharing the workspace's SQLite connections.

Threads: SQLite connections must not be used by two threads at once, and the
store is used from the GUI thread (decisions) and a worker thread (scoring
results) at the same time. :class:`Connections` therefore hands every thread
its own connection, opened lazily. Writers in different threads or processes
are serialised by SQLite's own file locks (WAL mode, a busy timeout, and
``BEGIN IMMEDIATE`` so that a writer takes the lock before reading instead of
failing on a lock upgrade).
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ctreview.errors import CtreviewError
from ctreview.review import _schema

BUSY_TIMEOUT_MS = 30_000
RECOVERY_HINT = "move it aside and start a fresh workspace (Workspace.create_fresh)"


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves. check_same_thread
    # is off only so that close() may run in another thread; use stays per thread.
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000,
                           isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def check_and_migrate(path: Path) -> None:
    """Make sure ``path`` is a ctreview workspace of a version we can read.

    Creates and initialises the file when it is missing or empty, migrates an
    older schema, and raises :class:`CtreviewError` naming the file when it is
    not an SQLite database, is damaged, belongs to another application or was
    written by a newer ctreview.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(path)
    except (OSError, sqlite3.Error) as exc:
        raise CtreviewError(path, f"cannot open the workspace: {exc}") from exc
    try:
        _check(conn, path)
    except sqlite3.OperationalError as exc:  # locked for too long, read-only, disk full ...
        raise CtreviewError(path, f"cannot use the workspace: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        raise CtreviewError(path, f"the workspace file is damaged or not a database ({exc}); "
                                  f"{RECOVERY_HINT}") from exc
    finally:
        conn.close()


def _check(conn: sqlite3.Connection, path: Path) -> None:
    # The first read of the header fails with DatabaseError on random bytes.
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app_id not in (0, _schema.APPLICATION_ID) or (app_id == 0 and _schema.has_tables(conn)):
        raise CtreviewError(path, "this SQLite database belongs to another application, not a "
                                  f"ctreview workspace; choose another file or {RECOVERY_HINT}")
    if version > _schema.SCHEMA_VERSION:
        raise CtreviewError(path, f"the workspace was written by a newer ctreview (schema "
                                  f"version {version}, this version reads up to "
                                  f"{_schema.SCHEMA_VERSION}); update ctreview")
    if version > 0:
        result = conn.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            raise CtreviewError(path, f"the workspace file is damaged ({result}); {RECOVERY_HINT}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":  # e.g. a file system without shared memory
        conn.execute("PRAGMA journal_mode = DELETE")
    _schema.migrate(conn, version)


class _Connections:
    """One SQLite connection per thread to one workspace file.

    Parameters
    ----------
    path : Path
        The workspace database, already checked by :func:`check_and_migrate`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def get(self) -> sqlite3.Connection:
        """Return the calling thread's connection, opening it on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise CtreviewError(self.path, "the workspace is closed")
            conn = _connect(self.path)
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def write(self, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """Run the block as one write transaction, committed when it ends.

        ``durable=True`` makes the commit reach the disk before returning
        (``synchronous = FULL``): used for decisions, which must survive even
        a power cut. Without it a commit survives a killed process but the
        last ones may be lost when the machine loses power.
        """
        conn = self.get()
        if durable:
            conn.execute("PRAGMA synchronous = FULL")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise CtreviewError(self.path, f"cannot write the workspace: {exc}") from exc
        except sqlite3.IntegrityError as exc:  # e.g. a run id the workspace does not have
            raise CtreviewError(self.path, f"the workspace refused the change: {exc}") from exc
        finally:
            if durable:
                conn.execute("PRAGMA synchronous = NORMAL")

    def read(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        """Run one query and return all its rows."""
        return self.get().execute(sql, params).fetchall()

    def close(self) -> None:
        """Close every thread's connection; the object is unusable afterwards."""
        with self._lock:
            self._closed = True
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
