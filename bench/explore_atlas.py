"""The atlas (nominal/actual) scorer on the dev phantoms: alone, fused with the others, and what it costs.

    CTREVIEW_THREADS=1 .venv/bin/python bench/explore_atlas.py --part transformer --model DIR

DIR is a model trained with the atlas among its scorers, e.g.
``ctreview train bench/.cache/phantoms/train-PART --out DIR --profile PART --scorers features,head,atlas``.
Every dev volume is scored once (``run_scoring``, default settings); from the per-scorer maps it keeps
(each divided by its own held-out 1 % threshold) it measures, as bench/bench_detection.py does (pooled
slice AUROC, mean-free pixel AUROC inside the ROI of the defective volumes):
* the model's fused map (the product with the atlas), each scorer alone,
* the fusion of the scorers other than the atlas (the same rule and weights, before its threshold),
* the twin limit.
and the seconds of the atlas' once-per-volume step (read, register, residual): the run's ``prepare_s``
(wall time on this shared machine) and, measured again apart, its CPU seconds (``time.process_time``:
registration runs on one thread, so CPU seconds are what one idle core would take).
Writes bench/results/atlas-<part>-dev.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_detection import Tally, _twin_tally, phantom_set  # noqa: E402


def _fused_without(model, maps: dict[str, np.ndarray], left_out: str) -> np.ndarray | None:
    kept = {k: v for k, v in maps.items() if k != left_out}
    return model.fusion.fuse(kept) if kept else None


def evaluate(model_dir: Path, data: Path, labels: dict) -> tuple[dict[str, Tally], list[float], list[str]]:
    import tifffile

    from ctreview.io import open_volume
    from ctreview.model import load_model
    from ctreview.results import SliceResult
    from ctreview.scoring import ScoringSettings, run_scoring

    model = load_model(model_dir, "cpu")
    tallies: dict[str, Tally] = {}
    seconds, cpu, warnings = [], [], []
    for stem, info in sorted(labels.items()):
        volume = open_volume(data / f"{stem}.tif")
        mask = tifffile.imread(data / "masks" / f"{stem}_defects.tif") if info["defective"] else None
        results, roi = {}, None
        events = run_scoring(volume, model, ScoringSettings())
        try:
            while True:
                event = next(events)
                if isinstance(event, SliceResult):
                    results[event.index] = event
                else:
                    roi = event.roi
        except StopIteration as stop:
            summary = stop.value
        timings = summary.timings
        seconds.append(float(timings.get("prepare_s", timings.get("binned_prepare_s", float("nan")))))
        warnings += [f"{stem}: {w}" for w in summary.warnings if w.startswith("atlas:")]
        for k, r in sorted(results.items()):
            roi_mask = roi.slices[k].mask(volume.shape[1:])
            truth = None if mask is None else mask[k][roi_mask] > 0
            label = int(info["slices"][k])
            maps = {"fused (model)": r.heatmap, **{f"{n} alone": m for n, m in r.maps.items()}}
            without = _fused_without(model, r.maps, "atlas")
            if without is not None and "atlas" in r.maps:
                maps["fused without atlas"] = without
            for name, m in maps.items():
                tallies.setdefault(name, Tally()).add(stem, k, float(m[roi_mask].max(initial=0.0)), label,
                                                      None if truth is None else m[roi_mask], truth)
        if "atlas" in model.scorers:
            t = time.process_time()
            model.scorers["atlas"].measure(volume, roi)
            cpu.append(time.process_time() - t)
        print(f"{stem}: atlas step {seconds[-1]:.1f} s wall, {cpu[-1] if cpu else float('nan'):.1f} s CPU; "
              f"total {timings.get('total_s', 0):.1f} s", flush=True)
    return tallies, (seconds, cpu), warnings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", default="transformer")
    parser.add_argument("--model", type=Path, required=True)
    args = parser.parse_args()
    load = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    data = phantom_set("dev", args.part)
    labels = json.loads((data / "labels.json").read_text())
    tallies, seconds, warnings = evaluate(args.model, data, labels)
    defective = {s for s, i in labels.items() if i["defective"]}
    rows = {"twin limit": _twin_tally(data, labels, args.part).figures(defective),
            **{k: t.figures(defective) for k, t in tallies.items()}}
    print(f"\n{args.part}, dev set, model {args.model}, {started}, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print("| method | slice AUROC (all volumes) | slice AUROC (defective volumes) | pixel AUROC |")
    print("|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['slice_auroc']:.3f} | {r['slice_auroc_defective_volumes']:.3f} | "
              f"{r['pixel_auroc']:.3f} |")
    wall, cpu = seconds
    print(f"atlas step per volume (read, register, residual): wall median {np.median(wall):.1f} s, max "
          f"{np.max(wall):.1f} s; CPU median {np.median(cpu):.1f} s, max {np.max(cpu):.1f} s ({len(wall)} volumes)")
    print("atlas warnings:", warnings or "none", flush=True)
    out = ROOT / "bench" / "results" / f"atlas-{args.part}-dev.json"
    out.write_text(json.dumps({"part": args.part, "set": "dev", "model": str(args.model), "date": started,
                               "load": load, "methods": rows, "atlas_step_wall_s": wall, "atlas_step_cpu_s": cpu,
                               "warnings": warnings}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
