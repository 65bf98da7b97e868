"""How often the domain check warns on unseen normal volumes of a model's own part, and on another part.

    CTREVIEW_THREADS=1 .venv/bin/python bench/bench_domain_twins.py [--twins 24] [--normal 6] [--seed 5]

Writes a phantom set with ``ctreview phantom --twins`` (small transformers,
64 px, 24 slices: ``--normal`` normal and ``--twins`` defective volumes, each
with its defect-free twin), trains a tiny fused model on the normal volumes
(as the tests do: features + a small head, tile 32, whole-part), and checks
with the model's fingerprint (:mod:`ctreview.model.domain`): every twin
(unseen defect-free volumes of the model's own part: should warn at most 1
in 20), every defective volume (same part: the input check should pass; its
scores may still say "many slices above threshold"), and capacitor phantoms
of the same size (another part: should always warn). A few minutes on a
2-core machine; everything lives in a temporary folder.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SIZE = ["--size", "64", "--slices", "24"]


def tiny_settings():
    """The tests' tiny fused model (tests/helpers_model.py): seconds to train."""
    from ctreview.training.detector_settings import DetectorSettings

    base = DetectorSettings(tile_size=32)
    return replace(base, features=replace(base.features, coreset_ratio=0.2),
                   head=replace(base.head, iterations=40, widths=(8, 16, 16), eval_every=20, batch_size=8))


def check(model_dir: Path, file: Path):
    from ctreview.io import open_volume
    from ctreview.model import read_meta
    from ctreview.model.domain import compare, volume_features
    from ctreview.model.meta import read_fingerprint
    from ctreview.roi import extract_roi

    meta = read_meta(model_dir)
    volume = open_volume(file)
    roi = extract_roi(volume, meta["profile"], tile_size=int(meta["tile_size"]))
    return compare(read_fingerprint(meta), volume_features(volume, roi))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--twins", type=int, default=24)
    parser.add_argument("--normal", type=int, default=6)
    parser.add_argument("--others", type=int, default=10, help="capacitor phantoms checked")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    from ctreview.cli import main as cli
    from ctreview.progress import drain
    from ctreview.training.detector_train import iter_train_detector

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        data, other = Path(tmp) / "set", Path(tmp) / "other"
        assert cli(["phantom", str(data), "--part", "transformer", "--normal", str(args.normal), "--defective",
                    str(args.twins), "--seed", str(args.seed), "--twins", *SIZE]) == 0
        assert cli(["phantom", str(other), "--part", "capacitor", "--normal", str(args.others), "--defective", "0",
                    "--seed", str(args.seed + 1), *SIZE]) == 0
        model = drain(iter_train_detector([data], Path(tmp) / "model", tiny_settings(), profile="whole-part",
                                          device="cpu"))
        t1 = time.perf_counter()
        groups = {"twins (own part, defect-free)": sorted((data / "twins").glob("*.tif")),
                  "defective (own part)": sorted(data.glob("transformer_defect_*.tif")),
                  "capacitor (another part)": sorted(other.glob("capacitor_*.tif"))}
        for name, files in groups.items():
            checks = [check(model, f) for f in files]
            warned = [(f.name, c) for f, c in zip(files, checks) if not c.ok]
            d = sorted(c.distance for c in checks)
            print(f"{name:32s} {len(warned):3d} of {len(files):3d} warn   distance {d[0]:.2f}-{d[-1]:.2f} "
                  "tolerances (over 1 warns)")
            for file, c in warned[:3]:
                print(f"    {file}: {c.reason[:150]}")
    print(f"train {t1 - t0:.0f} s, check {time.perf_counter() - t1:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
