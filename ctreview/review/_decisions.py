"""Review decisions: an append-only log per slice, with undo as a new row.

Nothing is ever updated or deleted: a change of mind appends a row, and so
does an undo. An undo row carries the state it goes back to (the decision
before the undone one, or ``"cleared"`` when there was none) and
``undo_of`` = the id of the row it reverts. Undos stack: walking the log of a
slice, a normal row pushes and an undo row pops, so undoing twice goes back
two decisions. The newest row of a slice is always its current state, which
keeps :meth:`decisions` a single query.
"""
from __future__ import annotations

import sqlite3

from ctreview.errors import CtreviewError
from ctreview.results import DECISIONS
from ctreview.review._db import _Connections
from ctreview.review._util import default_reviewer, from_json
from ctreview.timestamps import now_iso

CLEARED = "cleared"
"""Status of a slice whose decisions were all undone: unreviewed again."""
STATUSES = (*DECISIONS, CLEARED)


def _row(row: sqlite3.Row) -> dict:
    return {key: row[key] for key in row.keys()}


class _DecisionsMixin:
    """Decision methods of :class:`~ctreview.review.Workspace`."""

    _db: _Connections

    def _volume_row(self, volume_id: int) -> sqlite3.Row:
        raise NotImplementedError  # provided by Workspace

    def _check_slice(self, volume_id: int, index: int) -> None:
        row = self._volume_row(volume_id)
        n_slices = int(from_json(row["shape"])[0])
        if not 0 <= int(index) < n_slices:
            raise CtreviewError(row["path"], f"slice {index} is out of range "
                                             f"(the volume has slices 0 to {n_slices - 1})")

    def decide(self, volume_id: int, slice: int, status: str, note: str = "",
               reviewer: str | None = None, *, run_id: int | None = None) -> dict:
        """Record a decision about one slice; it is on disk when this returns.

        Parameters
        ----------
        volume_id, slice : int
            The volume (from :meth:`add_volume`) and slice index z.
        status : str
            ``"accept"``, ``"flag"``, ``"unsure"``, or ``"cleared"`` to mark
            the slice unreviewed again.
        note : str
            Free text shown in reports.
        reviewer : str, optional
            Defaults to the OS user name.
        run_id : int, optional
            The scoring run the reviewer was looking at.

        Returns
        -------
        dict
            The stored row: id, volume_id, slice, status, note, reviewer,
            decided_at, run_id, undo_of.
        """
        if status not in STATUSES:
            raise CtreviewError(None, f"unknown decision status {status!r} "
                                      f"(use one of {', '.join(STATUSES)})")
        self._check_slice(volume_id, slice)
        return self._append(volume_id, slice, status, str(note or ""),
                            reviewer or default_reviewer(), run_id, None)

    def undo(self, volume_id: int, slice: int, reviewer: str | None = None) -> dict:
        """Revert the slice's latest effective decision by appending a row.

        Returns the appended row; its status is the state the slice is back
        in. Raises :class:`CtreviewError` when there is nothing to undo.
        """
        self._check_slice(volume_id, slice)
        with self._db.write(durable=True) as conn:
            rows = conn.execute("SELECT * FROM decisions WHERE volume_id = ? AND slice = ? "
                                "ORDER BY id", (volume_id, int(slice))).fetchall()
            stack: list[sqlite3.Row] = []
            for row in rows:
                if row["undo_of"] is None:
                    stack.append(row)
                elif stack:
                    stack.pop()
            if not stack:
                raise CtreviewError(None, f"slice {slice} has no decision to undo")
            undone = stack.pop()
            back = stack[-1] if stack else None
            values = (volume_id, int(slice), back["status"] if back else CLEARED,
                      back["note"] if back else "", reviewer or default_reviewer(),
                      now_iso(), undone["run_id"], undone["id"])
            return self._insert(conn, values)

    def _append(self, volume_id: int, index: int, status: str, note: str, reviewer: str,
                run_id: int | None, undo_of: int | None) -> dict:
        with self._db.write(durable=True) as conn:
            return self._insert(conn, (volume_id, int(index), status, note, reviewer,
                                       now_iso(), run_id, undo_of))

    @staticmethod
    def _insert(conn: sqlite3.Connection, values: tuple) -> dict:
        row = conn.execute(
            "INSERT INTO decisions (volume_id, slice, status, note, reviewer, decided_at, "
            "run_id, undo_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *", values).fetchone()
        return _row(row)

    def decisions(self, volume_id: int) -> dict[int, dict]:
        """Return the current decision of every decided slice, keyed by slice.

        Slices whose latest row is ``"cleared"`` count as unreviewed and are
        left out.
        """
        rows = self._db.read(
            "SELECT d.* FROM decisions d JOIN (SELECT max(id) AS id FROM decisions "
            "WHERE volume_id = ? GROUP BY slice) latest ON d.id = latest.id ORDER BY d.slice",
            (volume_id,))
        return {row["slice"]: _row(row) for row in rows if row["status"] != CLEARED}

    def history(self, volume_id: int, slice: int) -> list[dict]:
        """Return every decision row of one slice, oldest first."""
        rows = self._db.read("SELECT * FROM decisions WHERE volume_id = ? AND slice = ? "
                             "ORDER BY id", (volume_id, int(slice)))
        return [_row(row) for row in rows]

    def reviewers(self, volume_id: int) -> list[str]:
        """Return the names of everyone who decided on the volume, in order of first decision."""
        rows = self._db.read("SELECT reviewer, min(id) AS first FROM decisions WHERE "
                             "volume_id = ? GROUP BY reviewer ORDER BY first", (volume_id,))
        return [row["reviewer"] for row in rows]
