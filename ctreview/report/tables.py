"""CSV and JSON reports: every scored slice with its score, rank and decision."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from ctreview import __version__
from ctreview.report._output import atomic_output
from ctreview.report.data import ReportData, clean_path, defuse_formula

COLUMNS = ("slice", "score", "relative_score", "rank", "decision", "note", "reviewer",
           "decided_at")
"""Columns of the CSV, in order; also the keys of each ``slices`` entry of the JSON."""


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def write_csv(data: ReportData, path: str | Path) -> None:
    """Write one row per scored slice (ordered by slice) with :data:`COLUMNS`."""
    with atomic_output(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for row in data.rows:
                score, relative = _number(row["score"]), _number(row["relative_score"])
                writer.writerow([
                    row["slice"], "" if score is None else f"{score:.6g}",
                    "" if relative is None else f"{relative:.6g}", row["rank"], row["decision"],
                    defuse_formula(row["note"]), defuse_formula(row["reviewer"]),
                    row["decided_at"]])


def report_dict(data: ReportData) -> dict:
    """Return the JSON report as a dict: volume, model, run, counts, slices, flagged."""
    volume, model, run = data.volume, data.model or {}, data.run
    return {
        "ctreview_version": __version__,
        "volume": {"path": clean_path(volume["path"]), "fingerprint": volume["fingerprint"],
                   "format": volume["format"], "shape": list(volume["shape"]),
                   "spacing": list(volume["spacing"]), "dtype": volume["dtype"]},
        "model": {"name": model.get("name"), "hash": model.get("hash"),
                  "path": clean_path(model.get("path")) if model else None},
        "threshold": data.threshold,
        "run": {"id": run["id"], "mode": run["mode"], "device": run["device"],
                "started_at": run["started_at"], "finished_at": run["finished_at"],
                "settings": run["settings"], "summary": run["summary"]},
        "reviewers": data.reviewers,
        "counts": data.counts,
        "notes": data.notes,
        "slices": [{key: (_number(row[key]) if key in ("score", "relative_score") else row[key])
                    for key in COLUMNS} for row in data.rows],
        "flagged": [{"slice": row["slice"], "history": row["history"]} for row in data.flagged],
        **({} if data.defects is None else {"defects": data.defects}),
    }


def _finite(value):
    # JSON has no NaN/inf; strict readers reject them, so they become null.
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def write_json(data: ReportData, path: str | Path) -> None:
    """Write :func:`report_dict` as UTF-8 JSON (non-finite numbers become null)."""
    text = json.dumps(_finite(report_dict(data)), indent=2, ensure_ascii=False, default=str,
                      allow_nan=False)
    with atomic_output(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
