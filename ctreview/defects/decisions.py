"""A defect's review decision: made on the defect, from all of its slices, or carried from an earlier run.

Decisions are kept per slice (the workspace's audit log, each row with the
run it was made in). Deciding a defect records the decision on each of its
slices with the defect's id in the note (:func:`defect_note`). Reading it
back (:func:`defect_verdict`) follows what the analyst did, and nothing more:

1. **made on the defect**: its slices' latest decisions tagged ``defect N``
   in the same run (the newest of them counts);
2. **carried from run X**: a defect decided in an earlier run X of the same
   volume whose object is the same as this one (:data:`SAME_OBJECT_IOU`);
3. **from its slices**: every one of its slices has its own decision (not
   one made on a defect) and all of them are the same. A single flagged
   slice never flags a defect that spans others.

Anything else leaves the defect undecided (``"mixed"`` when its slices were
decided differently).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ctreview.defects.objects import Defect

_TAG = re.compile(r"^defect (\d+)(?:: |$)")

SAME_OBJECT_IOU = 0.5
"""Two defects of runs of the same volume are the same object when the intersection of their
(z, y, x) boxes is at least this share of their union."""

Rows = Mapping[int, Mapping[str, Any]]


@dataclass(frozen=True)
class DefectVerdict:
    """A defect's decision and where it came from.

    Attributes
    ----------
    status : str
        ``"flag"``, ``"accept"``, ``"unsure"``, or ``""`` (undecided).
    source : str
        ``"defect"`` (made on it), ``"carried"``, ``"slices"``, ``"mixed"`` (its slices
        disagree: undecided), or ``""``.
    run_id : int or None
        The run a carried decision was made in.
    """

    status: str = ""
    source: str = ""
    run_id: int | None = None

    @property
    def origin(self) -> str:
        """Where the decision came from, as a report says it."""
        return {"defect": "made on the defect", "slices": "from its slices",
                "carried": f"carried from run {self.run_id}",
                "mixed": "its slices were decided differently"}.get(self.source, "")


def defect_note(defect_id: int, note: str = "") -> str:
    """The note recorded on each slice of a decided defect: ``"defect 3: <note>"``."""
    note = note.strip()
    base = _TAG.sub("", note).strip() if _TAG.match(note) else note
    return f"defect {int(defect_id)}" + (f": {base}" if base else "")


def note_defect(note: Any) -> int | None:
    """The defect id a decision's note names (``"defect 3: ..."`` -> 3), None for a slice's own decision."""
    match = _TAG.match(str(note or ""))
    return int(match.group(1)) if match else None


def same_object(a: Defect, b: Defect, iou: float = SAME_OBJECT_IOU) -> bool:
    """Whether two defects of runs of one volume are one object: their boxes overlap by ``iou`` or more."""
    inter, vol_a, vol_b = 1, 1, 1
    for lo_a, hi_a, lo_b, hi_b in ((a.z0, a.z1, b.z0, b.z1), (a.y0, a.y1, b.y0, b.y1), (a.x0, a.x1, b.x0, b.x1)):
        inter *= max(0, min(hi_a, hi_b) - max(lo_a, lo_b))
        vol_a, vol_b = vol_a * (hi_a - lo_a), vol_b * (hi_b - lo_b)
    union = vol_a + vol_b - inter
    return union > 0 and inter / union >= iou


def defect_verdict(defect: Defect, decisions: Rows, *, run_id: int | None = None,
                   carried: Mapping[int, DefectVerdict] | None = None) -> DefectVerdict:
    """The defect's decision and its source (see the module's rules).

    Parameters
    ----------
    defect : Defect
    decisions : dict of slice -> latest decision row (``status``, ``note``, ``run_id``)
    run_id : int, optional
        The defect's run; None: a tagged row of any run counts as made on it.
    carried : dict of defect id -> DefectVerdict, optional
        What :func:`carried_verdicts` found for this run.
    """
    rows = [(k, decisions.get(k)) for k in defect.slices]
    tagged = [row for _, row in rows if row and note_defect(row.get("note")) == defect.id
              and (run_id is None or row.get("run_id") == run_id)]
    if tagged:
        return DefectVerdict(str(max(tagged, key=_order)["status"]), "defect")
    if carried and defect.id in carried:
        return carried[defect.id]
    own = [str(row["status"]) for _, row in rows if row and note_defect(row.get("note")) is None]
    if own and len(own) == len(rows) and len(set(own)) == 1:
        return DefectVerdict(own[0], "slices")
    return DefectVerdict("", "mixed" if len(set(own)) > 1 else "")


def defect_decision(defect: Defect, decisions: Rows, *, run_id: int | None = None,
                    carried: Mapping[int, DefectVerdict] | None = None) -> str:
    """``"flag"``, ``"accept"``, ``"unsure"`` or ``""``: :func:`defect_verdict`'s status."""
    return defect_verdict(defect, decisions, run_id=run_id, carried=carried).status


def carried_verdicts(defects: Iterable[Defect], decisions: Rows, run_id: int,
                     run_defects: Callable[[int], Sequence[Defect] | None]) -> dict[int, DefectVerdict]:
    """Decisions made on defects of other runs of the volume, carried to the same objects of ``run_id``.

    Parameters
    ----------
    defects : the run's defects
    decisions : dict of slice -> latest decision row
    run_id : int
    run_defects : callable(run id) -> that run's defects (None when it has none stored)

    Returns
    -------
    dict of defect id -> DefectVerdict (source ``"carried"``)
    """
    made: dict[tuple[int, int], Mapping[str, Any]] = {}
    for row in decisions.values():
        tag, other = note_defect(row.get("note")), row.get("run_id")
        if tag is not None and other is not None and other != run_id:
            key = (int(other), tag)
            if key not in made or _order(row) > _order(made[key]):
                made[key] = row
    found: list[Defect] = list(defects)
    out: dict[int, DefectVerdict] = {}
    for (other, tag), row in sorted(made.items(), key=lambda item: _order(item[1]), reverse=True):
        earlier = next((d for d in run_defects(other) or () if d.id == tag), None)
        if earlier is None:
            continue
        for d in found:
            if d.id not in out and same_object(d, earlier):  # the newest decision wins
                out[d.id] = DefectVerdict(str(row["status"]), "carried", other)
    return out


def _order(row: Mapping[str, Any]) -> int:
    return int(row.get("id") or 0)
