"""Write a scoring run to a folder: ``scores.csv``, ``heatmap.tif``, ``defects.csv``, ``summary.json``.

:class:`RunWriter` takes results as a scoring stream yields them (the
heatmap is kept compressed and written as a compact uint16 TIFF, so a large
volume never needs its heatmap in RAM); :func:`write_run` does the same for results already at
hand. ``summary.json`` is written last, under a temporary name then
renamed, so a folder with a summary is complete.
"""
from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ctreview.defects import write_defects_csv
from ctreview.paths import refuse_existing
from ctreview.results import SliceResult, SliceScore
from ctreview.scoring.heatmap_file import HeatmapWriter
from ctreview.scoring.summary import RunSummary

CSV_HEADER = ["slice", "score", "relative_score", "tile_y", "tile_x", "tile_y1", "tile_x1",
              "paper_score", "paper_relative", "stage", "n_tiles"]
FILES = {"scores": "scores.csv", "heatmap": "heatmap.tif", "defects": "defects.csv"}
SUMMARY = "summary.json"


def refuse_used_run_dir(run_dir: str | Path, fingerprint: str, volume_path: str | Path | None,
                        model_dir: str | Path | None, *, force: bool = False, same_volume_ok: bool = False) -> None:
    """Refuse (CtreviewError) to score into a folder that holds a run, unless ``force``.

    The folder's ``summary.json`` names the volume (content fingerprint and
    path) and the model of its run, so the one line says whether it is a run
    of this volume with this model, with another model, or of another volume.

    Parameters
    ----------
    run_dir : path
    fingerprint, volume_path : the volume about to be scored (:func:`ctreview.io.volume_fingerprint`)
    model_dir : path or None
        The model's folder.
    force : bool
        Replace the earlier run (``--force``).
    same_volume_ok : bool
        A run of the same volume may be replaced (a batch rescoring its own
        run folder with new settings); another volume's still may not.
    """
    folder = Path(run_dir).expanduser()
    held = [*(name for name in (SUMMARY, *FILES.values()) if (folder / name).exists()),
            *sorted(p.name for p in folder.glob("heatmap-*.tif"))] if folder.is_dir() else []
    if force or not held:
        return
    earlier = _read_json(folder / SUMMARY)
    volume, model = earlier.get("volume") or {}, earlier.get("model") or {}
    same_volume = volume.get("fingerprint") == fingerprint or (
        volume_path is not None and bool(volume.get("path")) and _same_path(volume["path"], volume_path))
    if same_volume and same_volume_ok:
        return
    if not earlier:
        what = "files of a scoring run ({found})"
    elif not same_volume:
        what = f"a run of another volume ({volume.get('path') or 'not from a file'})"
    elif model_dir is not None and model.get("path") and _same_path(model["path"], model_dir):
        what = f"a run of this volume with this model ({model.get('name') or model['path']})"
    else:
        what = f"a run of this volume with another model ({model.get('name') or model.get('path')})"
    refuse_existing(folder, held, what=f"{what} exists", advice="use --force to replace it")


def _same_path(a: str | Path, b: str | Path) -> bool:
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


class RunWriter:
    """Collect slice results into a run folder.

    Parameters
    ----------
    run_dir : path
        Folder to write (created).
    shape : (z, y, x)
        Volume shape; ``heatmap.tif`` gets this shape, zero where unscored (compact:
        see :mod:`ctreview.scoring.heatmap_file`).
    maps : tuple of str
        Scorers whose own maps also go into ``heatmap-<name>.tif``.
    """

    def __init__(self, run_dir: str | Path, shape: tuple[int, int, int], maps: tuple[str, ...] = ()) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "summary.json").unlink(missing_ok=True)  # incomplete until written again
        self.heatmap_path = self.run_dir / FILES["heatmap"]
        dims = (int(shape[0]), int(shape[1]), int(shape[2]))
        self._heat = HeatmapWriter(self.heatmap_path, dims)
        # one map per scorer asked for (``--maps``), in units of that scorer's own 1 % threshold
        self._maps = {name: HeatmapWriter(self.run_dir / f"heatmap-{name}.tif", dims) for name in maps}
        self.rows: dict[int, SliceScore] = {}

    def add(self, result: SliceResult) -> None:
        """Record one slice result; a later result for the same slice replaces it."""
        self.rows[int(result.index)] = result.summary()
        self._heat.put(result.index, result.heatmap)
        for name, writer in self._maps.items():
            if name in result.maps:
                writer.put(result.index, result.maps[name])

    @property
    def heatmap(self) -> HeatmapWriter:
        """The ``(z, y, x)`` heatmap so far, sliced as float32 slabs (until :meth:`close`)."""
        return self._heat

    def close(self, summary: RunSummary) -> RunSummary:
        """Write ``scores.csv``, ``defects.csv`` and, last, ``summary.json``; return the summary with its files."""
        self._heat.close()
        for writer in self._maps.values():
            writer.close()
        names = list(self._maps)
        self._maps.clear()
        _write_csv(self.run_dir / FILES["scores"], [self.rows[k] for k in sorted(self.rows)])
        write_defects_csv(self.run_dir / FILES["defects"], summary.defects)
        summary.files = {**FILES, **{f"heatmap:{n}": f"heatmap-{n}.tif" for n in names}}
        tmp = self.run_dir / "summary.json.tmp"
        tmp.write_text(json.dumps(summary.to_dict(), indent=2, default=_jsonable))
        os.replace(tmp, self.run_dir / "summary.json")
        return summary


def _fmt(value: float | None) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.6g}"


def _write_csv(path: Path, rows: list[SliceScore]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_HEADER)
        for r in rows:
            y0, x0, y1, x1 = r.tile_box
            writer.writerow([r.index, _fmt(r.score), _fmt(r.relative), y0, x0, y1, x1,
                             _fmt(r.paper), _fmt(r.paper_relative), r.stage, r.n_tiles])
    os.replace(tmp, path)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (Path, tuple)):
        return str(value) if isinstance(value, Path) else list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_run(run_dir: str | Path, shape: tuple[int, int, int], results: Iterable[SliceResult],
              summary: RunSummary) -> RunSummary:
    """Write results (any iterable, e.g. a list) and a summary into ``run_dir``; return the summary."""
    writer = RunWriter(run_dir, shape)
    for result in results:
        writer.add(result)
    return writer.close(summary)
