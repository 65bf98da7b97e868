"""``batch.csv`` and ``batch.json``: the batch's table, worst volume first, rewritten atomically.

Both are written to a temporary name and renamed after every finished
volume, so a batch killed at any moment leaves a whole table of what was
finished, which the next run resumes from.
"""
from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any

from ctreview.batch.events import CSV_COLUMNS, BatchRow, rank_key
from ctreview.errors import CtreviewError
from ctreview.timestamps import now_iso

FORMAT = "ctreview-batch"
VERSION = 1


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8", newline="")
    os.replace(tmp, path)


def ranked(rows: list[BatchRow]) -> list[BatchRow]:
    """Rows worst first: scored in the model's domain by worst relative score, then those outside it,
    then failed, then pending."""
    return sorted(rows, key=rank_key)


def write_table(out: Path, rows: list[BatchRow], info: dict[str, Any]) -> list[BatchRow]:
    """Write ``out/batch.csv`` and ``out/batch.json``; return the rows as written (worst first)."""
    rows = ranked(rows)
    lines = [list(CSV_COLUMNS)]
    for r in rows:
        lines.append([_cell(v) for v in (r.volume, r.run, r.fingerprint, r.status, r.worst, r.above,
                                         r.defects, round(r.seconds, 2), r.device, r.error, r.domain,
                                         r.domain_reason)])
    from io import StringIO

    buffer = StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    _replace(out / "batch.csv", buffer.getvalue())
    totals = {"volumes": len(rows)}
    for status in ("done", "skipped", "failed", "pending"):
        totals[status] = sum(1 for r in rows if r.status == status)
    totals["above"] = sum(1 for r in rows if r.scored and r.worst is not None and r.worst >= 1.0)
    # volumes per domain verdict: those "outside" are ranked after the others, their scores not comparable
    domain = {v: sum(1 for r in rows if r.scored and r.domain == v) for v in sorted({r.domain for r in rows} - {""})}
    document = {"format": FORMAT, "version": VERSION, "updated": now_iso(), **info, "totals": totals,
                "domain": domain, "volumes": [r.to_dict() for r in rows]}
    _replace(out / "batch.json", json.dumps(document, indent=1, allow_nan=False, default=str))
    return rows


def read_table(path: str | Path) -> tuple[list[BatchRow], dict[str, Any]]:
    """Read ``batch.json`` (or the batch folder holding it): ``(rows worst first, the rest of it)``.

    Raises
    ------
    CtreviewError
        Missing, unreadable, or not a ctreview batch table.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "batch.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CtreviewError(path, "no batch table here (expected batch.json of `ctreview batch`)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CtreviewError(path, f"unreadable batch table ({exc.__class__.__name__})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CtreviewError(path, "not a ctreview batch table")
    if document.get("version") != VERSION:
        raise CtreviewError(path, f"batch table version {document.get('version')!r} is not supported")
    try:
        rows = [BatchRow.from_dict(item) for item in document.pop("volumes")]
    except (KeyError, TypeError) as exc:
        raise CtreviewError(path, f"damaged batch table ({exc.__class__.__name__})") from None
    return ranked(rows), document


def earlier_runs(out: Path) -> dict[str, BatchRow]:
    """Rows of an earlier batch into ``out`` by run folder name (empty when there is none or it is damaged)."""
    try:
        rows, _ = read_table(out)
    except CtreviewError:
        return {}
    return {row.run: row for row in rows}
