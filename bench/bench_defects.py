"""3D defect objects on the dev phantoms: found share, false objects, centroid and volume error.

    .venv/bin/python bench/bench_defects.py [--parts transformer,capacitor] [--mode hybrid]
        [--data /work/cache/phantoms] [--model-prefix bench/.cache/models/fused-] [--reuse] [--sweep]

Scores every volume of ``dev-<part>`` (4 normal, 8 defective; ``--set holdout``: the set no
choice is made on, for the record only, never to tune) with the
bundled ``resources/models/demo-<part>`` (or ``<model-prefix><part>``, e.g. the fused
models ``bench/bench_detection.py`` trains) in the given mode (default: the
default mode of ScoringSettings) through the scoring service, into a run
folder under ``bench/.cache/defects/`` (``--reuse`` keeps those and only
relabels). Ground truth: ``masks/<stem>_defects.tif``, defect k = voxels of
value k. A planted defect is *found* when an object of the run (every
object holds a voxel at or above relative 1.0) overlaps one of its voxels;
an object overlapping no planted defect is *false*. Centroid error: between
the planted defect's voxels and its best-overlapping object, in voxels.
Volume error: object voxels / planted voxels of found voids (and of all
kinds). Targets: found >= 90 %, false <= 1 per volume, centroid <= 2 voxels.
``--sweep`` relabels the cached heatmaps with other grow levels and sizes.
No setting is ever chosen on holdout-* (``--sweep`` refuses it).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CACHE = ROOT / "bench" / ".cache" / "defects"


def score_runs(part: str, data: Path, mode: str | None, reuse: bool, prefix: str) -> dict[str, Path]:
    """Score (or reuse) one run folder per volume of ``data``; return ``{stem: run_dir}``."""
    from ctreview.io import open_volume
    from ctreview.model import load_model
    from ctreview.progress import drain
    from ctreview.roi import extract_roi
    from ctreview.scoring import ScoringSettings, run_scoring

    settings = ScoringSettings() if mode is None else ScoringSettings(mode=mode)
    model = load_model(Path(f"{prefix}{part}"), "cpu")
    labels = json.loads((data / "labels.json").read_text())
    runs = {}
    for stem in sorted(labels):
        run = CACHE / f"{Path(prefix).name}{part}-{settings.mode}-{data.name.split('-')[0]}" / stem
        runs[stem] = run
        if reuse and (run / "summary.json").is_file():
            continue
        volume = open_volume(data / f"{stem}.tif")
        roi = extract_roi(volume, model.profile, tile_size=model.tile_size)
        t = time.perf_counter()
        summary = drain(run_scoring(volume, model, settings, roi=roi, out=run))
        print(f"  {stem}: {len(summary.defects)} objects, {time.perf_counter() - t:.1f} s", flush=True)
    return runs


def object_labels(heat: np.ndarray, defects: list, grow: float) -> tuple[np.ndarray, list[int]]:
    """One-pass 26-connected labels of ``heat >= grow`` and the label of each defect (at its peak)."""
    from scipy import ndimage

    labels, _ = ndimage.label(heat >= grow, structure=np.ones((3, 3, 3), bool))
    return labels, [int(labels[d.peak_slice, d.peak_y, d.peak_x]) for d in defects]


def evaluate(heat: np.ndarray, mask: np.ndarray, planted: list[dict], defects: list, grow: float) -> dict:
    """Match one volume's objects with its planted defects."""
    labels, ids = object_labels(heat, defects, grow)
    out = {"planted": len(planted), "found": 0, "false": 0, "objects": len(defects), "reach": 0,
           "centroid_err": [], "volume_ratio": [], "void_ratio": [], "kinds": {}}
    touched: set[int] = set()
    for k, info in enumerate(planted, start=1):
        where = mask == k
        if not where.any():
            continue
        out["reach"] += bool(heat[where].max() >= 1.0)  # the most any labelling could find
        hit = labels[where]
        overlap = {i: int((hit == i).sum()) for i in ids if i and (hit == i).any()}
        kind = out["kinds"].setdefault(info["kind"], [0, 0])
        kind[1] += 1
        if not overlap:
            continue
        best = max(overlap, key=overlap.get)
        touched |= set(overlap)
        defect = defects[ids.index(best)]
        truth = np.array(np.nonzero(where)).mean(axis=1)
        found = np.array([defect.centroid_z, defect.centroid_y, defect.centroid_x])
        out["found"] += 1
        kind[0] += 1
        out["centroid_err"].append(float(np.linalg.norm(found - truth)))
        ratio = defect.voxels / int(where.sum())
        out["volume_ratio"].append(ratio)
        if info["kind"] == "void":
            out["void_ratio"].append(ratio)
    out["false"] = sum(1 for i in ids if i not in touched)
    return out


def summarise(name: str, results: dict[str, dict], normal: set[str]) -> dict:
    planted = sum(r["planted"] for r in results.values())
    reach = sum(r["reach"] for r in results.values())
    found = sum(r["found"] for r in results.values())
    false_all = [r["false"] for r in results.values()]
    false_normal = [results[s]["false"] for s in results if s in normal]
    cerr = [e for r in results.values() for e in r["centroid_err"]]
    vr = [e for r in results.values() for e in r["volume_ratio"]]
    void = [e for r in results.values() for e in r["void_ratio"]]
    kinds: dict[str, list[int]] = {}
    for r in results.values():
        for kind, (f, n) in r["kinds"].items():
            kinds.setdefault(kind, [0, 0])
            kinds[kind][0] += f
            kinds[kind][1] += n

    def med(values: list[float]) -> str:
        return f"{np.median(values):.2f}" if values else "–"

    row = {"name": name, "found": f"{found}/{planted} ({100 * found / max(planted, 1):.0f} %)",
           "heat_reaches_threshold": f"{reach}/{planted}",
           "false_per_volume": f"{np.mean(false_all):.2f}", "false_per_normal": f"{np.mean(false_normal):.2f}"
           if false_normal else "–", "centroid_median": med(cerr),
           "centroid_max": f"{max(cerr):.2f}" if cerr else "–",
           "volume_ratio_median": med(vr), "void_ratio_median": med(void),
           "void_ratios": [round(v, 1) for v in void],
           "kinds": {k: f"{f}/{n}" for k, (f, n) in sorted(kinds.items())}}
    print(f"{name}: found {row['found']} (heatmap >= 1.0 on {reach}), false objects/volume {row['false_per_volume']} "
          f"(normal volumes {row['false_per_normal']}), centroid error median {row['centroid_median']} "
          f"max {row['centroid_max']} voxels, object/planted voxels median {row['volume_ratio_median']} "
          f"(voids {row['void_ratio_median']}: {row['void_ratios']}), by kind {row['kinds']}", flush=True)
    return row


def label_runs(part: str, data: Path, runs: dict[str, Path], settings) -> dict[str, dict]:
    import tifffile

    from ctreview.defects import find_defects
    from ctreview.io import open_volume
    from ctreview.scoring.heatmap_file import read_heatmap

    labels = json.loads((data / "labels.json").read_text())
    results = {}
    for stem, run in runs.items():
        heat = read_heatmap(run / "heatmap.tif")
        mask = tifffile.imread(data / "masks" / f"{stem}_defects.tif")
        with open_volume(data / f"{stem}.tif") as volume:
            spacing = volume.spacing
        defects = find_defects(heat, spacing, settings)
        results[stem] = evaluate(heat, mask, labels[stem]["defects"], defects, settings.grow)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="transformer,capacitor")
    parser.add_argument("--mode", default=None, help="scoring mode (default: ScoringSettings' default)")
    parser.add_argument("--data", default="/work/cache/phantoms", type=Path)
    parser.add_argument("--model-prefix", default=str(ROOT / "resources" / "models" / "demo-"),
                        help="model folder of a part = this prefix + the part's name")
    parser.add_argument("--set", default="dev", choices=("dev", "holdout"))
    parser.add_argument("--reuse", action="store_true", help="reuse the cached run folders")
    parser.add_argument("--sweep", action="store_true", help="also relabel with other grow levels / sizes")
    args = parser.parse_args()
    if args.sweep and args.set == "holdout":
        parser.error("--sweep chooses settings: never on the holdout set")
    from ctreview.defects import DefectSettings

    rows = []
    for part in args.parts.split(","):
        data = args.data / f"{args.set}-{part}"
        labels = json.loads((data / "labels.json").read_text())
        normal = {s for s, info in labels.items() if not info["defective"]}
        print(f"{part}: scoring {len(labels)} volumes of {data}", flush=True)
        t = time.perf_counter()
        runs = score_runs(part, data, args.mode, args.reuse, args.model_prefix)
        print(f"{part}: scored in {time.perf_counter() - t:.0f} s", flush=True)
        grid = [DefectSettings()]
        if args.sweep:
            grid += [DefectSettings(grow=g, min_voxels=m) for g in (0.3, 0.5, 0.7, 0.9)
                     for m in (1, 8, 32) if (g, m) != (0.5, 8)]
        for cfg in grid:
            name = f"{Path(args.model_prefix).name}{part} {args.set} grow {cfg.grow} min {cfg.min_voxels}"
            rows.append(summarise(name, label_runs(part, data, runs, cfg), normal))
    tag = "-anogan-demo" if "demo-" in args.model_prefix else f"-{Path(args.model_prefix).name.rstrip('-')}"
    out = ROOT / "bench" / "results" / f"defects{tag}{'' if args.set == 'dev' else '-' + args.set}.json"
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
