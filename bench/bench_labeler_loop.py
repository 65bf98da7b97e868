"""The labeler's loop end to end with the real CLI, measured: the figures of docs/labeler-loop.md.

    .venv/bin/python bench/bench_labeler_loop.py [--quick] [--work bench/out/labeler-loop]

1. ``ctreview phantom``: a few normal transformer phantoms to train a first model on,
   a review batch (normal + defective), and a held-out test batch.
2. ``ctreview train``: model v1 from the first phantoms.
3. ``ctreview score``: the review batch with v1 (fast mode), into run folders.
4. ``ctreview decide``: the labeler accepts normal slices and flags defective ones
   (ground truth from the phantoms' labels.json stands in for the human).
5. ``ctreview dataset export`` / ``info``: accepted slices -> training set.
6. ``ctreview train``: model v2 from the first phantoms plus the new set.
7. ``ctreview score`` the test batch with v1 and v2; slice AUROC from labels.json.

Figures go to ``docs/labeler-loop/`` (PNG) and a summary is printed as Markdown.
Every command is echoed; commands run in-process through ``ctreview.cli.main``
(the same code as the ``ctreview`` executable, without paying Python start-up
for each of the hundreds of ``decide`` calls).
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "labeler-loop"
LOG: list[tuple[str, float]] = []
MODELS = {"v1": "initial phantoms",
          "v2": "initial + set (above-threshold slices dropped)",
          "v3": "initial + set (above-threshold slices confirmed)"}
QUICK = False


def cli(*argv: str, quiet: bool = False) -> float:
    """Run one ctreview command in-process; return its wall time in seconds."""
    from ctreview.cli import main

    t0 = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the Markdown summary
        code = main([str(a) for a in argv])
    seconds = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"ctreview {' '.join(argv)} failed with exit code {code}")
    if not quiet:
        LOG.append(("ctreview " + shlex.join(str(a) for a in argv), seconds))
        print(f"$ ctreview {shlex.join(str(a) for a in argv)}    # {seconds:.1f} s", file=sys.stderr)
    return seconds


def auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Area under the ROC curve (ties count half)."""
    p, n = np.asarray(pos, float)[:, None], np.asarray(neg, float)[None, :]
    return float(np.mean(p > n) + 0.5 * np.mean(p == n))


def read_scores(run_dir: Path) -> dict[int, float]:
    with open(run_dir / "scores.csv", newline="") as fh:
        return {int(r["slice"]): float(r["relative_score"]) for r in csv.DictReader(fh)}


def slice_auroc(folder: Path, runs: Path) -> tuple[float, list[float], list[int]]:
    """Pool the scored slices of every test volume; return AUROC, scores and labels."""
    labels = json.loads((folder / "labels.json").read_text())
    scores, truth = [], []
    for stem, info in sorted(labels.items()):
        for z, rel in read_scores(runs / stem).items():
            scores.append(rel)
            truth.append(int(info["slices"][z]))
    s, t = np.array(scores), np.array(truth)
    return auroc(s[t == 1], s[t == 0]), scores, truth


def roc_points(scores: list[float], truth: list[int]) -> tuple[np.ndarray, np.ndarray]:
    s, t = np.asarray(scores), np.asarray(truth)
    order = np.argsort(-s, kind="stable")
    tp = np.concatenate([[0], np.cumsum(t[order] == 1)]) / max(1, (t == 1).sum())
    fp = np.concatenate([[0], np.cumsum(t[order] == 0)]) / max(1, (t == 0).sum())
    return fp, tp


def review(folder: Path, model: Path, runs: Path, workspace: Path) -> None:
    """Score each volume of the review batch and decide every scored slice like a careful labeler."""
    labels = json.loads((folder / "labels.json").read_text())
    for stem, info in sorted(labels.items()):
        volume = folder / f"{stem}.tif"
        cli("score", volume, "--model", model, "--out", runs / stem, "--mode", "fast",
            "--device", "cpu")
        t0, n = time.perf_counter(), 0
        for z in sorted(read_scores(runs / stem)):
            status = "flag" if info["slices"][z] else "accept"
            cli("decide", volume, "--slice", z, "--status", status, "--reviewer", "labeler",
                "--workspace", workspace, quiet=True)
            n += 1
        LOG.append((f"ctreview decide {volume.name} --slice K --status accept|flag  (x{n})",
                    time.perf_counter() - t0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "labeler-loop")
    parser.add_argument("--quick", action="store_true", help="smaller phantoms and fewer epochs")
    parser.add_argument("--report-only", action="store_true",
                        help="only score the test batch and redo the figures of an earlier run")
    args = parser.parse_args()
    global QUICK
    QUICK = args.quick
    if args.report_only:
        os.chdir(args.work)
        return score_tests(Path("."))
    import shutil

    args.work = args.work.resolve()
    marker = args.work / ".labeler-loop"
    if args.work.exists() and any(args.work.iterdir()) and not marker.exists():
        raise SystemExit(f"{args.work} is not empty and not an earlier labeler-loop folder")
    shutil.rmtree(args.work, ignore_errors=True)  # only ever a folder this script made
    args.work.mkdir(parents=True)
    marker.touch()
    os.chdir(args.work)  # relative paths keep the echoed commands short
    w = Path(".")
    size, slices, epochs = (96, 24, 4) if args.quick else (96, 32, 10)
    geo = ["--size", size, "--slices", slices]
    train_opts = ["--tile-size", 32, "--latent-dim", 32, "--width", 16, "--batch-size", 64,
                  "--epochs", epochs, "--device", "cpu"]
    cli("phantom", w / "initial", "--part", "transformer", "--normal", 2, "--defective", 0,
        "--seed", 0, *geo)
    cli("phantom", w / "review", "--part", "transformer", "--normal", 4, "--defective", 2,
        "--seed", 100, *geo)
    cli("phantom", w / "test", "--part", "transformer", "--normal", 4, "--defective", 4,
        "--seed", 1000, *geo)
    cli("train", w / "initial", "--out", w / "models" / "v1", *train_opts)
    ws = w / "workspace.sqlite"
    review(w / "review", w / "models" / "v1", w / "runs" / "review-v1", ws)
    vols = sorted((w / "review").glob("*.tif"))
    runs = [a for v in vols for a in ("--run", w / "runs" / "review-v1" / v.stem)]
    cli("dataset", "export", *vols, *runs, "--out", w / "sets" / "review",
                   "--workspace", ws)
    cli("dataset", "info", w / "sets" / "review")
    cli("train", w / "initial", w / "sets" / "review", "--out", w / "models" / "v2",
               *train_opts)
    # the labeler looks at the dropped slices, finds them normal and confirms them
    cli("dataset", "export", *vols, *runs, "--out", w / "sets" / "review-confirmed",
        "--workspace", ws, "--include-above-threshold")
    cli("train", w / "initial", w / "sets" / "review-confirmed", "--out", w / "models" / "v3",
        *train_opts)
    score_tests(w)


def score_tests(w: Path) -> None:
    """Score the test batch with every model, then report."""
    results = {}
    for name in MODELS:
        for v in sorted((w / "test").glob("*.tif")):
            cli("score", v, "--model", w / "models" / name, "--out", w / "runs" / f"test-{name}" / v.stem,
                "--mode", "fast", "--device", "cpu")
        results[name] = slice_auroc(w / "test", w / "runs" / f"test-{name}")
    report(w, results)


def report(w: Path, results: dict) -> None:
    """Write the figures and print the Markdown summary."""
    from ctreview.dataset import load_training_tiles, summarise
    from ctreview.model import read_meta

    FIGURES.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if QUICK else ""
    tiles = load_training_tiles(w / "sets" / "review")
    save_mosaic(tiles, FIGURES / f"tiles{suffix}.png")
    save_roc({k: roc_points(*v[1:]) for k, v in results.items()},
             {k: v[0] for k, v in results.items()}, FIGURES / f"roc{suffix}.png")
    info = summarise(w / "sets" / "review")
    print("| step | seconds |\n|---|---|")
    for command, seconds in LOG:
        print(f"| `{command}` | {seconds:.1f} |")
    print("\n| model | trained on | training tiles | training time (s) | test slices | slice AUROC |"
          "\n|---|---|---|---|---|---|")
    for name, what in MODELS.items():
        meta = read_meta(w / "models" / name)
        n = len(results[name][1])
        print(f"| {name} | {what} | {meta['data']['tiles']} | {meta['training']['seconds']:.0f} | {n} | "
              f"{results[name][0]:.3f} |")
    print(f"\ntraining set sets/review: {info['tiles']} tiles from {len(info['sources'])} volumes")


def save_mosaic(tiles: np.ndarray, path: Path, n: int = 64, columns: int = 16) -> None:
    """Save ``n`` evenly spaced tiles (n, T, T) as a grid PNG, one window for all."""
    from PIL import Image

    pick = tiles[np.linspace(0, len(tiles) - 1, min(n, len(tiles))).astype(int)].astype(np.float32)
    lo, hi = np.percentile(pick, (0.5, 99.5))
    pick = (np.clip((pick - lo) / max(hi - lo, 1e-6), 0, 1) * 255).astype(np.uint8)
    t, gap = pick.shape[-1], 2
    rows = -(-len(pick) // columns)
    grid = np.full((rows * (t + gap) - gap, columns * (t + gap) - gap), 40, np.uint8)
    for k, tile in enumerate(pick):
        r, c = divmod(k, columns)
        grid[r * (t + gap):r * (t + gap) + t, c * (t + gap):c * (t + gap) + t] = tile
    Image.fromarray(grid).resize((grid.shape[1] * 2, grid.shape[0] * 2), Image.NEAREST).save(path)


def save_roc(curves: dict, aucs: dict, path: Path, size: int = 360, pad: int = 40) -> None:
    """Draw the slice-level ROC curves of the models into a PNG."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size + 2 * pad, size + 2 * pad), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle([pad, pad, pad + size, pad + size], outline="black")
    draw.line([pad, pad + size, pad + size, pad], fill=(190, 190, 190))
    colours = {"v1": (120, 120, 120), "v2": (200, 30, 30), "v3": (30, 90, 200)}
    for k, (fp, tp) in curves.items():
        pts = [(pad + f * size, pad + size - t * size) for f, t in zip(fp, tp)]
        draw.line(pts, fill=colours.get(k, "blue"), width=3)
    for i, (k, auc) in enumerate(aucs.items()):
        y = pad + size - 16 * (len(aucs) + 1) + 16 * i
        draw.text((pad + size - 150, y), f"{k}: AUROC {auc:.3f}", fill=colours.get(k, "blue"))
    draw.text((pad + size // 2 - 60, pad + size + 12), "false positive rate (slices)", fill="black")
    draw.text((4, pad - 20), "true positive rate", fill="black")
    img.save(path)


if __name__ == "__main__":
    main()
