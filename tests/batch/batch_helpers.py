"""Helpers of the batch tests (not fixtures): read what a batch wrote, score a reference run."""
from __future__ import annotations

import csv
from pathlib import Path


def read_rows(runs: Path) -> list[dict[str, str]]:
    """The rows of ``runs/batch.csv``, in file order."""
    with open(runs / "batch.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def score_reference(volume: str | Path, model: Path, out: Path) -> Path:
    """Score one volume with ``ctreview score --mode fast --out``; return the run folder."""
    from ctreview.cli import main

    assert main(["score", str(volume), "--model", str(model), "--out", str(out), "--mode", "fast"]) == 0
    return out
