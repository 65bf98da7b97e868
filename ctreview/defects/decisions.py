"""A defect's review decision, read from the decisions of its slices.

Decisions are kept per slice (the workspace's audit log); deciding a defect
records the decision on each of its slices with the defect's id in the note
(:func:`defect_note`). Reading it back (:func:`defect_decision`) errs on the
side of the quality board: one flagged slice flags the defect.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ctreview.defects.objects import Defect

_TAG = re.compile(r"^defect (\d+)(?:: |$)")


def defect_note(defect_id: int, note: str = "") -> str:
    """The note recorded on each slice of a decided defect: ``"defect 3: <note>"``."""
    note = note.strip()
    base = _TAG.sub("", note).strip() if _TAG.match(note) else note
    return f"defect {int(defect_id)}" + (f": {base}" if base else "")


def defect_decision(defect: Defect, decisions: Mapping[int, Mapping[str, Any]]) -> str:
    """``"flag"`` if a slice of the defect is flagged, else ``"unsure"`` if one is unsure, else
    ``"accept"`` when every slice is accepted, else ``""`` (not fully reviewed).

    Parameters
    ----------
    defect : Defect
    decisions : dict of slice -> decision row (with ``"status"``)
    """
    statuses = [str((decisions.get(k) or {}).get("status", "")) for k in defect.slices]
    if "flag" in statuses:
        return "flag"
    if "unsure" in statuses:
        return "unsure"
    if statuses and all(s == "accept" for s in statuses):
        return "accept"
    return ""
