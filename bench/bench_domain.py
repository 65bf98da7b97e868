"""Measure the domain check: normal and defective volumes of a model's own part against
other parts, rescaled grey values and real scans; the basis of the tolerances in
``ctreview/model/domain/__init__.py``.

    CTREVIEW_THREADS=1 .venv/bin/python bench/bench_domain.py [--train DIR] [--out results.json]

For each bundled-like reference (a part's normal training phantoms, seed 0, the
bundled models' training data, regenerated in ``bench/.cache/domain`` when missing),
it measures :func:`ctreview.model.domain.volume_features` of every test volume with
the reference's ROI profile (tile 64) and prints the check's measures: intensity
excess (share of the training span), footprint factors and spacing factor, and
whether the check flags it. Volumes: the dev phantom sets (other seeds, normal and
defective), the same rescaled to 8 bit, to float 0..1 and to 0.6x grey, the other
part, and the real scans under ``../shared/data`` when present. Also the tests' tiny
configuration (whole-part, tile 32, 96 px phantoms).
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
CACHE = ROOT / "bench" / ".cache" / "domain"
DEV = Path("/work/cache/phantoms")
SHARED = ROOT.parent / "shared" / "data"


def _shared() -> Path:
    for base in (SHARED, Path("/work/shared/data")):
        if base.is_dir():
            return base
    return SHARED


def reference(part: str, train: Path | None) -> tuple[dict, str]:
    """The fingerprint of a part's seed-0 normal phantoms (the bundled models' data)."""
    from ctreview.io import open_volume
    from ctreview.model.domain import training_fingerprint, volume_features
    from ctreview.phantom import write_phantom_set
    from ctreview.roi import extract_roi

    data = (train or CACHE) / part
    if not any(data.glob(f"{part}_normal_*.tif")):
        data.mkdir(parents=True, exist_ok=True)
        write_phantom_set(data, part=part, normal=8, defective=0, seed=0)
    feats = []
    for file in sorted(data.glob(f"{part}_normal_*.tif")):
        vol = open_volume(file)
        feats.append(volume_features(vol, extract_roi(vol, part, tile_size=64)))
    return training_fingerprint(feats, profile=part, tile_size=64), part


def variants(path: Path):
    """The volume and its rescaled copies: (name, array or Volume)."""
    from ctreview.io import open_volume

    vol = open_volume(path)
    yield path.stem, vol
    a = vol.read().astype(np.float64)
    lo, hi = a.min(), a.max()
    yield path.stem + " as uint8", ((a - lo) / (hi - lo) * 255).round().astype(np.uint8)
    yield path.stem + " as float 0..1", ((a - lo) / (hi - lo)).astype(np.float32)
    yield path.stem + " x0.6", (a * 0.6).round().astype(np.uint16)


def measure(fp: dict, profile: str, name: str, data) -> dict:
    from ctreview.errors import CtreviewError
    from ctreview.io import Volume, as_volume, open_volume
    from ctreview.model.domain import compare, volume_features
    from ctreview.roi import extract_roi

    try:
        if isinstance(data, Path):
            data = open_volume(data)
        vol = data if isinstance(data, Volume) else as_volume(data, spacing=(0.05, 0.05, 0.05))
        roi = extract_roi(vol, profile, tile_size=fp["tile_size"])
    except CtreviewError as exc:
        return {"volume": name, "error": str(exc)}
    check = compare(fp, volume_features(vol, roi))
    c = check.checks
    foot = c.get("footprint", {})
    return {"volume": name, "ok": check.ok, "intensity": c.get("intensity", {}).get("value"),
            **{k: foot.get(k, {}).get("factor") for k in ("area_px", "footprint_px", "tiles_per_slice")},
            "spacing": c.get("spacing", {}).get("factor"), "distance": round(check.distance, 3)}


def volumes_for(part: str, other: str):
    for kind in ("normal", "defect"):
        for file in sorted((DEV / f"dev-{part}").glob(f"{part}_{kind}_*.tif")):
            if kind == "normal" and file.stem.endswith("000"):
                yield from (("own " + n, v) for n, v in variants(file))
            else:
                yield "own " + file.stem, file
    for file in sorted((DEV / f"dev-{other}").glob(f"{other}_*_00[0-3].tif")):
        yield "other " + file.stem, file
    base = _shared()
    for rel in ("qim3d/fly_150x256x256.tif", "battery_xct/data/cell_vol", "qim3d/shell_225x128x128.tif",
                "qim3d/cement_128x128x128.tif", "qim3d/bone_128x128x128.tif"):
        if (base / rel).exists():
            yield "real " + rel, base / rel


def tiny_rows() -> list[dict]:
    """The tests' configuration: whole-part, tile 32, 96 px / 24 slice transformer phantoms."""
    from ctreview.io import as_volume
    from ctreview.model.domain import training_fingerprint, volume_features
    from ctreview.phantom import make_phantom
    from ctreview.roi import extract_roi

    def phantom(part, seed, defective=False, size=96, slices=24):
        p = make_phantom(part, size=size, slices=slices, defective=defective, seed=seed)
        return as_volume(p.volume, spacing=p.spacing)

    feats = []
    for seed in (0, 1):  # write_phantom_set(seed=0, normal=2) draws seeds 0, 1 for the normal ones
        v = phantom("transformer", seed)
        feats.append(volume_features(v, extract_roi(v, "whole-part", tile_size=32)))
    fp = training_fingerprint(feats, profile="whole-part", tile_size=32)
    rows = []
    for seed in range(10, 16):
        for defective in (False, True):
            rows.append(measure(fp, "whole-part", f"tiny transformer seed {seed}{' defective' if defective else ''}",
                                phantom("transformer", seed, defective)))
    rows.append(measure(fp, "whole-part", "tiny transformer 64 px x16 (gui fixture)",
                        phantom("transformer", 3, True, 64, 16)))
    for seed in (10, 11):
        rows.append(measure(fp, "whole-part", f"tiny capacitor seed {seed}", phantom("capacitor", seed)))
    return rows


def score_rows(modes: tuple[str, ...]) -> list[dict]:
    """Share of slices above threshold with the bundled models (the run-level check)."""
    from ctreview.io import open_volume
    from ctreview.model import bundled_model_path, load_model
    from ctreview.model.domain import check_scores
    from ctreview.progress import drain
    from ctreview.results import SliceResult
    from ctreview.scoring import ScoringSettings, run_scoring

    rows = []
    for part, other in (("transformer", "capacitor"), ("capacitor", "transformer")):
        model = load_model(bundled_model_path(part), "cpu")
        files = sorted((DEV / f"dev-{part}").glob(f"{part}_*.tif"))
        files += sorted((DEV / f"dev-{other}").glob(f"{other}_normal_*.tif"))[:2]
        files += [p for p in (_shared() / "qim3d/fly_150x256x256.tif", _shared() / "battery_xct/data/cell_vol")
                  if p.exists()]
        for file in files:
            for mode in modes:
                relative: dict[int, float] = {}

                def keep(event, relative=relative) -> None:
                    if isinstance(event, SliceResult):
                        relative[event.index] = event.relative

                drain(run_scoring(open_volume(file), model, ScoringSettings(mode=mode)), keep)
                check = check_scores(relative.values())
                rows.append({"model": part, "volume": file.stem, "mode": mode, **check})
                print(f"{part:12s} {file.stem:28s} {mode:7s} share {check['share']:.3f} "
                      f"median {check['median_relative']:.3f} {'' if check['ok'] else 'FLAG'}", flush=True)
    return rows


def _line(row: dict) -> str:
    def num(key: str, width: int) -> str:
        value = row.get(key)
        return f"{'-' if value is None else f'{value:.2f}':>{width}s}"

    return (f"{row['volume']:48s} {'' if row['ok'] else 'FLAG':5s} {num('intensity', 7)} {num('area_px', 6)} "
            f"{num('footprint_px', 6)} {num('tiles_per_slice', 6)} {num('spacing', 5)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=None, help="folder with <part>/<part>_normal_*.tif")
    parser.add_argument("--out", type=Path, default=None, help="write every row as JSON")
    parser.add_argument("--scores", default="fast", help="modes of the run-level check, comma-separated "
                        "('' to skip): the share of slices above threshold with the bundled models")
    args = parser.parse_args()
    t0 = time.perf_counter()
    rows = []
    for part, other in (("transformer", "capacitor"), ("capacitor", "transformer")):
        fp, profile = reference(part, args.train)
        print(f"\n## {part} model (seed-0 training phantoms, profile {profile}, tile 64)")
        print(f"{'volume':48s} {'flag':5s} {'intens':>7s} {'area':>6s} {'foot':>6s} {'tiles':>6s} {'spac':>5s}")
        for name, data in volumes_for(part, other):
            row = {"model": part, **measure(fp, profile, name, data)}
            rows.append(row)
            if "error" in row:
                print(f"{name:48s} ROI: {row['error'][:70]}")
                continue
            print(_line(row), flush=True)
    print("\n## tiny test model (whole-part, tile 32)")
    for row in tiny_rows():
        rows.append({"model": "tiny", **row})
        print(_line(row) if "error" not in row else f"{row['volume']:48s} ROI: {row['error'][:70]}")
    if args.scores:
        print("\n## share of slices above threshold, bundled models")
        rows += score_rows(tuple(m for m in args.scores.split(",") if m))
    print(f"\n{time.perf_counter() - t0:.0f} s")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
