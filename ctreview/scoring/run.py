"""Write a scoring run to a folder: ``scores.csv``, ``heatmap.tif``, ``summary.json``.

:func:`record_run` consumes a ``score_volume`` stream and writes while it
goes (the heatmap is a memory-mapped float32 TIFF, so a large volume never
needs its heatmap in RAM); :func:`write_run` does the same for results
already at hand. Other recorders (the review workspace) can consume the
same stream instead.
"""
from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any, Generator, Iterable

import numpy as np
import tifffile

from ctreview.results import SliceResult

CSV_HEADER = ["slice", "score", "relative_score", "tile_y", "tile_x", "tile_y1", "tile_x1",
              "paper_score", "paper_relative", "stage", "n_tiles"]


class RunWriter:
    """Collect slice results into a run folder.

    Parameters
    ----------
    run_dir : path
        Folder to write (created).
    shape : (z, y, x)
        Volume shape; ``heatmap.tif`` gets this shape, float32, zero where unscored.
    """

    def __init__(self, run_dir: str | Path, shape: tuple[int, int, int]) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.heatmap_path = self.run_dir / "heatmap.tif"
        self._heat = tifffile.memmap(self.heatmap_path, shape=tuple(int(s) for s in shape),
                                     dtype=np.float32, photometric="minisblack")
        self._heat[:] = 0.0
        self.rows: dict[int, SliceResult] = {}

    def add(self, result: SliceResult) -> None:
        """Record one slice result; a later result for the same slice replaces it."""
        self.rows[int(result.index)] = _light(result)
        self._heat[int(result.index)] = result.heatmap

    def close(self, summary: dict) -> dict:
        """Write ``scores.csv`` and ``summary.json``; return the completed summary."""
        self._heat.flush()
        del self._heat
        _write_csv(self.run_dir / "scores.csv", [self.rows[k] for k in sorted(self.rows)])
        rel = [r.relative for r in self.rows.values()]
        summary = dict(summary)
        summary.setdefault("counts", {})
        summary["counts"]["above_threshold"] = int(sum(r >= 1.0 for r in rel))
        summary["files"] = {"scores": "scores.csv", "heatmap": "heatmap.tif"}
        tmp = self.run_dir / "summary.json.tmp"
        tmp.write_text(json.dumps(summary, indent=2, default=_jsonable))
        os.replace(tmp, self.run_dir / "summary.json")
        return summary


def _light(result: SliceResult) -> SliceResult:
    # The heatmap already sits in the memmap; keep rows small for large volumes.
    copy = type(result).__new__(type(result))
    copy.__dict__.update(result.__dict__)
    copy.heatmap = np.zeros((0, 0), np.float32)
    return copy


def _fmt(value: float) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.6g}"


def _write_csv(path: Path, rows: list[SliceResult]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_HEADER)
        for r in rows:
            y0, x0, y1, x1 = r.tile_box
            writer.writerow([r.index, _fmt(r.score), _fmt(r.relative), y0, x0, y1, x1,
                             _fmt(getattr(r, "paper", float("nan"))),
                             _fmt(getattr(r, "paper_relative", float("nan"))), r.stage, len(r.tile_scores)])
    os.replace(tmp, path)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (Path, tuple)):
        return str(value) if isinstance(value, Path) else list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def record_run(run_dir: str | Path, volume: Any, stream: Generator[SliceResult, None, dict],
               extra: dict | None = None) -> dict:
    """Consume a ``score_volume`` stream into ``run_dir``; return the summary written."""
    writer = RunWriter(run_dir, tuple(volume.shape))
    while True:
        try:
            writer.add(next(stream))
        except StopIteration as stop:
            summary = stop.value or {}
            break
    return writer.close({**summary, **(extra or {})})


def write_run(run_dir: str | Path, volume: Any, results: Iterable[SliceResult], summary: dict) -> dict:
    """Write results (any iterable, e.g. a list) and a summary into ``run_dir``; return the summary."""
    writer = RunWriter(run_dir, tuple(volume.shape))
    for result in results:
        writer.add(result)
    return writer.close(summary)
