"""A reviewed phantom session for the training-set tests: real files, model, run and decisions.

Built once per test session (both ``tests/dataset`` and ``tests/gui_dialogs``
use it, so it is cached in the session's base temp folder): two small
transformer phantoms (one normal, one with defects), a tiny seeded model, a
real scoring run of each in a real workspace, and decisions:

The model trains on two more normal phantoms.

* normal volume: every ROI slice accepted, except one flagged and one unsure; it
  hides an unlabelled defect, so some accepted slices score above the threshold;
* defective volume: slices with defect voxels flagged, the rest accepted.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

TILE = 32


@dataclass
class Reviewed:
    root: Path
    workspace: Path
    model: Path
    volumes: list[Path]
    volume_ids: list[int]
    flagged: dict[int, list[int]] = field(default_factory=dict)   # volume id -> slices
    unsure: dict[int, list[int]] = field(default_factory=dict)
    accepted: dict[int, list[int]] = field(default_factory=dict)
    relative: dict[int, dict[int, float]] = field(default_factory=dict)  # volume id -> slice -> rel

    def above(self, vid: int) -> list[int]:
        """Accepted slices of a volume that its run scored above threshold."""
        return sorted(z for z in self.accepted[vid] if self.relative[vid].get(z, 0.0) >= 1.0)


def _score_into(ws, vol, model, model_dir: Path) -> tuple[int, dict[int, float], list[int]]:
    from ctreview.progress import drain
    from ctreview.roi import extract_roi
    from ctreview.scoring import ScoringSettings, run_scoring

    roi = extract_roi(vol, model.profile, tile_size=model.tile_size)
    summary = drain(run_scoring(vol, model, ScoringSettings(mode="fast"), roi=roi, workspace=ws))
    vid = ws.run_info(summary.run_id)["volume_id"]
    rel = {s.index: s.relative for s in ws.run_scores(summary.run_id)}
    return vid, rel, [z for z, s in roi.slices.items() if s.tiles]


def _hide_a_defect(path: Path) -> None:
    """Plant a stray solder ball (a dense 13x13x3 block in the air beside the part), unlabelled.

    The reviewer accepts its slices unawares, so the export has accepted
    slices scored above the threshold to warn about.
    """
    import numpy as np

    from ctreview.io import open_volume, write_tiff
    from ctreview.roi import extract_roi

    with open_volume(path) as vol:
        data, spacing = vol.read(), vol.spacing
        roi = extract_roi(vol, "whole-part", tile_size=32)
    ks = [k for k, s in roi.slices.items() if s.tiles]
    z = ks[len(ks) // 2]
    y0, x0, y1, x1 = roi.slices[z].boxes[0]
    box = data[z, y0:y1, x0:x1].astype(float)
    from scipy.ndimage import uniform_filter

    calm = uniform_filter(box, 13)[6:-6, 6:-6]  # air: the darkest 13x13 neighbourhood in the ROI
    iy, ix = np.unravel_index(np.argmin(calm), calm.shape)
    cy, cx = y0 + 6 + iy, x0 + 6 + ix
    data[z - 1:z + 2, cy - 6:cy + 7, cx - 6:cx + 7] = data.max()
    write_tiff(path, data, spacing=spacing)


def _build(root: Path) -> Reviewed:
    from helpers_model import TINY, tiny_phantom_volumes

    from ctreview.io import open_volume
    from ctreview.model import load_model
    from ctreview.review import open_workspace
    from ctreview.training import train

    # two normal phantoms train the model, the other two are reviewed
    *first, normal, defective = tiny_phantom_volumes(root / "volumes", normal=3, defective=1,
                                                     seed=7)
    paths = [normal, defective]
    _hide_a_defect(normal)
    model_dir = train(first, root / "tiny-model", profile="whole-part", epochs=3, seed=0,
                      device="cpu", **TINY)
    labels = json.loads((root / "volumes" / "labels.json").read_text())
    model = load_model(model_dir, device="cpu")
    out = Reviewed(root, root / "workspace.sqlite", model_dir, list(paths), [])
    with open_workspace(out.workspace) as ws:
        for path in paths:
            with open_volume(path) as vol:
                vid, rel, roi_slices = _score_into(ws, vol, model, model_dir)
            defect = [z for z, v in enumerate(labels[path.stem]["slices"]) if v]
            flagged = defect or roi_slices[1:2]
            unsure = [] if defect else roi_slices[-2:-1]
            accepted = [z for z in roi_slices if z not in flagged and z not in unsure]
            for z, status in ([(z, "flag") for z in flagged] + [(z, "unsure") for z in unsure]
                              + [(z, "accept") for z in accepted]):
                ws.decide(vid, z, status, reviewer="tester")
            out.volume_ids.append(vid)
            out.flagged[vid], out.unsure[vid], out.accepted[vid] = flagged, unsure, accepted
            out.relative[vid] = rel
    return out


def _to_json(data: Reviewed) -> dict:
    doc = {k: getattr(data, k) for k in ("flagged", "unsure", "accepted", "relative", "volume_ids")}
    doc.update(root=str(data.root), workspace=str(data.workspace), model=str(data.model),
               volumes=[str(p) for p in data.volumes])
    return doc


def _from_json(doc: dict) -> Reviewed:
    by_vid = {k: {int(v): x for v, x in doc[k].items()}
              for k in ("flagged", "unsure", "accepted")}
    relative = {int(v): {int(z): r for z, r in m.items()} for v, m in doc["relative"].items()}
    return Reviewed(Path(doc["root"]), Path(doc["workspace"]), Path(doc["model"]),
                    [Path(p) for p in doc["volumes"]], doc["volume_ids"], relative=relative,
                    **by_vid)


def reviewed_session(base: Path) -> Reviewed:
    """Return the reviewed session under ``base`` (built on first use, then read back)."""
    root = base / "reviewed-session"
    cache = root / "reviewed.json"
    if cache.is_file():
        return _from_json(json.loads(cache.read_text()))
    root.mkdir(parents=True, exist_ok=True)
    data = _build(root)
    cache.write_text(json.dumps(_to_json(data)))
    return data
