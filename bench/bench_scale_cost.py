"""What training and scoring cost as scans and image sets grow, with the defaults.

    .venv/bin/python bench/bench_scale_cost.py --cubes [--size 512] [--big 1024]
    .venv/bin/python bench/bench_scale_cost.py --images 100,300,700

``--cubes``: three normal transformer phantoms of the train set (64 x 128 x 128, seed 100) resampled to
``--size``^3 (x8 along z, x4 in y and x, nearest: the same parts scanned finer) are the training data of
``ctreview train`` with its defaults; the model then scores a defective dev phantom resampled the same way,
and one resampled to ``--big``^3 (x16, x8). Targets (issue 21): training on 3 volumes of 512^3 under 15
minutes and 2 GB, scoring a 512^3 scan under 20 s and 1 GB, a 1024^3 scan under 2 minutes and 1 GB,
heatmaps no larger than the volume.

``--images``: ``ctreview train --images`` on N grey 256 x 256 images of smooth random blobs with CT-like
noise (seeded; bench/bench_images.py's generator at 256 px), for each N; then ``ctreview score --images``
of 40 more. Targets: 700 images under 10 minutes and 2 GB, scoring under 0.1 s per image, training cost
at most linear in N.

Every command runs in a fresh process (wall time, peak RSS from ``wait4``); the load average is recorded
beside each. Writes bench/results/scale-cost.json (runs of earlier calls with other options stay).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench_real_size import measured_run, upsampled  # noqa: E402

CACHE = ROOT / "bench" / ".cache" / "scale-cost"
PHANTOMS = ROOT / "bench" / ".cache" / "phantoms"


def run(cmd: list[str], env: dict[str, str]) -> dict:
    load = os.getloadavg()[0]
    row = {"load_before": round(load, 2), **measured_run(cmd, env), "load_after": round(os.getloadavg()[0], 2)}
    print(" ".join(cmd[2:5]), "->", row, flush=True)
    return row


def cubes(size: int, big: int, env: dict[str, str]) -> dict:
    from bench_detection import phantom_set

    f = size // 128
    train, dev = phantom_set("train", "transformer"), phantom_set("dev", "transformer")
    folder = CACHE / f"train-{size}"
    folder.mkdir(parents=True, exist_ok=True)
    for src in sorted(train.glob("transformer_normal_*.tif"))[:3]:
        upsampled(src, (2 * f, f, f), folder / src.name)
    model = CACHE / f"model-{size}"
    py = sys.executable
    rows = {"train": run([py, "-m", "ctreview", "train", str(folder), "--out", str(model), "--profile", "transformer",
                          "--force"], env)}
    rows["train"]["scale"] = json.loads((model / "model.json").read_text()).get("scale", {}).get("line")
    defect = sorted(dev.glob("transformer_defect_*.tif"))[0]
    for n in (size, big):
        g = n // 128
        scan = upsampled(defect, (2 * g, g, g), CACHE / f"defect-{n}.tif")
        out = CACHE / f"run-{n}"
        row = run([py, "-m", "ctreview", "score", str(scan), "--model", str(model), "--out", str(out), "--force"], env)
        summary = json.loads((out / "summary.json").read_text())
        row.update({"scale": summary["volume"].get("scale"), "volume_mib": round(scan.stat().st_size / 2**20, 1),
                    "heatmap_mib": round((out / "heatmap.tif").stat().st_size / 2**20, 1)})
        rows[f"score-{n}"] = row
    return rows


def blob_images(folder: Path, n: int, seed: int, size: int = 256) -> Path:
    """``n`` normal blob images of ``size`` px as PNG files (made once)."""
    import numpy as np
    from PIL import Image
    from scipy.ndimage import gaussian_filter

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        path = folder / f"img{i:04d}.png"
        if path.exists():
            continue
        field = gaussian_filter(rng.normal(size=(size, size)), 12.0)
        field = (field - field.min()) / max(float(np.ptp(field)), 1e-9)
        img = 60 + 120 * (field > 0.5) + 30 * field + rng.normal(0, 6, (size, size))
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)
    return folder


def images(counts: list[int], env: dict[str, str]) -> dict:
    rows: dict[str, dict] = {}
    py = sys.executable
    test = blob_images(CACHE / "images-test", 40, seed=99)
    for n in counts:
        folder = blob_images(CACHE / f"images-{n}", n, seed=n)
        model = CACHE / f"images-model-{n}"
        rows[f"train-{n}"] = run([py, "-m", "ctreview", "train", str(folder), "--images", "--out", str(model),
                                  "--force"], env)
        row = run([py, "-m", "ctreview", "score", str(test), "--images", "--model", str(model), "--out",
                   str(CACHE / f"images-run-{n}"), "--force"], env)
        row["s_per_image"] = round(row["wall_s"] / 40, 3)
        rows[f"score-40-with-{n}"] = row
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cubes", action="store_true")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--big", type=int, default=1024)
    parser.add_argument("--images", default="")
    args = parser.parse_args()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
    rows: dict[str, dict] = {}
    if args.cubes:
        rows.update({f"cubes {k}": v for k, v in cubes(args.size, args.big, env).items()})
    if args.images:
        rows.update({f"images {k}": v for k, v in images([int(c) for c in args.images.split(",")], env).items()})
    out = ROOT / "bench" / "results" / "scale-cost.json"
    old = json.loads(out.read_text()).get("runs", {}) if out.exists() else {}
    out.write_text(json.dumps({"machine": f"{platform.node()} {os.cpu_count()} cores",
                               "date": time.strftime("%Y-%m-%d %H:%M"),
                               "threads": env.get("CTREVIEW_THREADS", "auto"), "runs": {**old, **rows}}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
