"""The real cell scan end to end with the defaults: train on its first 70 slices, score all 100.

    .venv/bin/python bench/bench_real_scan.py [--slices 70] [--retrain]

What a new user does with ``../shared/data/battery_xct/data/cell_vol`` (100 x 728 x 728 uint8, no voxel
spacing in the files): ``ctreview train FOLDER --out MODEL`` on a folder of the first ``--slices`` slices
(symbolic links in bench/.cache/real-scan/, the data are never copied), then ``ctreview score`` of the whole
scan. Each command runs in a fresh process; peak RSS is its ``ru_maxrss``. Reported beside the figures:
the scale line each command printed, the share of the trained slices above threshold (target <= 5 %), the
arithmetic floor of the scoring pass (the networks' FLOPs per scored slice over a measured float32 matmul
rate, times the slices scored), and the machine's load. Targets (issue 21): training under 10 minutes and
2 GB, scoring under 20 s and 1 GB. Writes bench/results/real-scan.json.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench_real_size import matmul_flops, measured_run  # noqa: E402

SCAN = ROOT.parent / "shared" / "data" / "battery_xct" / "data" / "cell_vol"
CACHE = ROOT / "bench" / ".cache" / "real-scan"


def first_slices(n: int) -> Path:
    """A folder of links to the scan's first ``n`` slice files."""
    folder = CACHE / f"cell_first{n}"
    folder.mkdir(parents=True, exist_ok=True)
    for f in sorted(SCAN.glob("*.tif"))[:n]:
        link = folder / f.name
        if not link.exists():
            link.symlink_to(f)
    return folder


def conv_flops(net, shape: tuple[int, ...]) -> float:
    """Multiply-add FLOPs of the conv layers of ``net`` on one zero input of ``shape`` (c, y, x)."""
    import torch

    flops = [0.0]

    def hook(mod, _inp, out):
        k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
        flops[0] += 2.0 * k * out.numel()

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    try:
        with torch.inference_mode():
            net(torch.zeros(1, *shape))
    finally:
        for h in handles:
            h.remove()
    return flops[0]


def floor_flops(model_dir: Path, crop: int) -> float:
    """FLOPs of one scored slice of a ``crop`` x ``crop`` ROI crop: the backbone on the slice turned into the
    part's frame and upsampled, plus the defect head on the crop and its context slices."""
    from ctreview.model import load_model
    from ctreview.model.scorers._turn import square_side

    model = load_model(model_dir, "cpu")
    total = 0.0
    features = model.scorers.get("features")
    if features is not None:
        fm = features.model
        side = square_side((crop, crop)) if features.align else crop
        total += conv_flops(fm.features.backbone, (1, int(side * fm.settings.scale), int(side * fm.settings.scale)))
    head = model.scorers.get("head")
    if head is not None:
        total += conv_flops(head.head.net, (1 + len(head.head.offsets), crop, crop))
    return total


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slices", type=int, default=70)
    parser.add_argument("--retrain", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
    model, run = CACHE / "model", CACHE / "run"
    rows: dict[str, dict] = {}
    if args.retrain or not (model / "model.json").exists():
        cmd = [sys.executable, "-m", "ctreview", "train", str(first_slices(args.slices)), "--out", str(model),
               "--force"]
        load = os.getloadavg()[0]
        rows["train"] = {"load_before": round(load, 2), **measured_run(cmd, env),
                         "load_after": round(os.getloadavg()[0], 2)}
        meta = json.loads((model / "model.json").read_text())
        rows["train"].update({"scale": meta.get("scale", {}).get("line"),
                              "held_out_slices": meta["calibration"]["held_out_slices"]})
        print("train:", rows["train"], flush=True)
    cmd = [sys.executable, "-m", "ctreview", "score", str(SCAN), "--model", str(model), "--out", str(run), "--force"]
    load = os.getloadavg()[0]
    row = {"load_before": round(load, 2), **measured_run(cmd, env), "load_after": round(os.getloadavg()[0], 2)}
    summary = json.loads((run / "summary.json").read_text())
    with open(run / "scores.csv", newline="") as fh:
        rel = {int(r["slice"]): float(r["relative_score"]) for r in csv.DictReader(fh)}
    trained = [k for k in rel if k < args.slices]
    row.update({"scale": summary["volume"].get("scale"), "binning": summary["volume"]["binning"],
                "scored_slices": summary["counts"]["scored_slices"],
                "trained_above": sum(rel[k] >= 1.0 for k in trained), "trained_slices": len(trained),
                "unseen_above": sum(rel[k] >= 1.0 for k in rel if k >= args.slices),
                "unseen_slices": sum(1 for k in rel if k >= args.slices),
                "heatmap_mib": round((run / "heatmap.tif").stat().st_size / 2**20, 1),
                "domain": summary["domain"].get("reason") or "ok"})
    threads = int(env.get("CTREVIEW_THREADS", "1"))
    flops = matmul_flops(threads)
    scored = len(set(range(0, summary["volume"]["shape"][0], summary["volume"]["binning"][0])))
    crop = int(json.loads((model / "model.json").read_text())["scale"]["part_side"]) + 32  # the crop's margins
    per_slice = floor_flops(model, crop)
    row.update({"floor_s": round(scored * per_slice / flops, 2), "gflop_per_slice": round(per_slice / 1e9, 2),
                "matmul_gflops": round(flops / 1e9, 1)})
    rows["score"] = row
    print("score:", row, flush=True)
    out = ROOT / "bench" / "results" / "real-scan.json"
    result = {"machine": f"{platform.node()} {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d %H:%M"),
              "threads": threads, "runs": rows}
    if out.exists() and "train" not in rows:  # a score-only rerun keeps the training figures
        result["runs"] = {**json.loads(out.read_text()).get("runs", {}), **rows}
    out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
