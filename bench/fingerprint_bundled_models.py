"""Add the domain fingerprint to the bundled models' ``model.json``, from their own training data.

    .venv/bin/python bench/fingerprint_bundled_models.py [--data DIR] [--models resources/models] [--check]

The bundled models were trained (``bench/train_demo_model.py``) on 8 normal
phantoms per part written with seed 0. This script writes those phantoms
again (into ``--data``, kept for reuse), checks every file against the
SHA-256 that ``model.json["data"]["sources"]`` recorded at training time (it
refuses to fingerprint anything else), computes the fingerprint exactly as
training does (:func:`ctreview.model.domain.fingerprint_volumes`, the
model's profile and tile size, its calibration) and writes it into
``model.json["domain"]``. The weights are not touched, so the weights'
checksum in ``model.json`` stays valid; ``--check`` only reports.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def training_volumes(meta: dict, part: str, data: Path) -> list[Path]:
    """The model's training files, regenerated into ``data`` and checked against their recorded hashes."""
    from ctreview.model.store import file_sha256
    from ctreview.phantom import write_phantom_set

    sources = meta["data"]["sources"]
    folder = data / part
    if not all((folder / Path(s["path"]).name).is_file() for s in sources):
        folder.mkdir(parents=True, exist_ok=True)
        write_phantom_set(folder, part=part, normal=len(sources), defective=0, seed=0)
    files = []
    for source in sources:
        file = folder / Path(source["path"]).name
        if file_sha256(file) != source["sha256"]:
            raise SystemExit(f"{file}: not the file {part}'s model was trained on (SHA-256 differs); "
                             "the phantom generator changed since: retrain with bench/train_demo_model.py")
        files.append(file)
    return files


def fingerprint(model_dir: Path, data: Path) -> dict:
    from ctreview.io import open_volume
    from ctreview.model import read_meta
    from ctreview.model.domain import fingerprint_volumes

    meta = read_meta(model_dir)
    part = str(meta["profile"])
    volumes = [open_volume(f) for f in training_volumes(meta, part, data)]
    return fingerprint_volumes(volumes, part, int(meta["tile_size"]), calibration=meta["calibration"])


def write_domain(model_dir: Path, domain: dict) -> None:
    """Put ``domain`` into ``model.json`` (written under a temporary name, then renamed)."""
    path = model_dir / "model.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta["domain"] = domain
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=False))
    os.replace(tmp, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=ROOT / "resources" / "models")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "ctreview-demo-training",
                        help="where the training phantoms are (re)written")
    parser.add_argument("--check", action="store_true", help="print the fingerprints, write nothing")
    args = parser.parse_args()
    from ctreview.model import load_model

    for model_dir in sorted(args.models.glob("anogan-*")):
        domain = fingerprint(model_dir, args.data)
        grey, foot = domain["intensity"]["grey"], domain["footprint"]  # version 2: grey quantiles under "grey"
        print(f"{model_dir.name}: {domain['volumes']} volumes, grey q1-q99 {grey['median'][0]:.0f}-"
              f"{grey['median'][-1]:.0f}, cross-section {foot['area_px']['min']:.0f}-"
              f"{foot['area_px']['max']:.0f} px, spacing {domain['spacing']['median']}")
        if not args.check:
            write_domain(model_dir, domain)
            load_model(model_dir, "cpu")  # the weights' checksum still holds
            print(f"  wrote {model_dir / 'model.json'}; weights unchanged and still verified")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
