"""Train the bundled demo models on simulated phantoms (rerunnable by anyone).

    .venv/bin/python bench/train_demo_model.py [--part transformer|capacitor|all] [--out resources/models]

Writes ``<out>/demo-<part>/`` (model.json + weights.safetensors, ~1 MB).
Normal phantoms are generated with seed 0 (the benchmark's test phantoms
use other seeds, so the model never sees them). On a 2-core machine this
takes a few minutes per part; set ``CTREVIEW_THREADS=1`` when the machine is
busy with other work (two threads then wait on each other).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETTINGS = dict(tile_size=64, latent_dim=64, width=16, batch_size=32, epochs=30, encoder_epochs=20)
NORMAL_VOLUMES = 8


def train_part(part: str, out: Path, data_dir: Path | None = None) -> Path:
    from ctreview.phantom import write_phantom_set
    from ctreview.training import train

    t0 = time.perf_counter()
    data = data_dir or Path(tempfile.mkdtemp(prefix=f"ctreview-demo-{part}-"))
    if not any(data.glob(f"{part}_normal_*.tif")):
        write_phantom_set(data, part=part, normal=NORMAL_VOLUMES, defective=0, seed=0)
    t1 = time.perf_counter()
    print(f"{part}: {NORMAL_VOLUMES} normal phantoms in {t1 - t0:.0f} s", flush=True)
    last = [0.0]

    def progress(ev) -> None:
        if time.perf_counter() - last[0] > 15 or ev.phase in ("calibrate", "done"):
            last[0] = time.perf_counter()
            losses = " ".join(f"{k}={v:.3f}" for k, v in ev.losses.items())
            print(f"  {ev.phase} {ev.iteration}/{ev.iterations} {losses}", flush=True)

    path = train([data], out / f"demo-{part}", profile=part, seed=0, on_event=progress,
                 name=f"demo-{part}", **SETTINGS)
    print(f"{part}: trained in {time.perf_counter() - t1:.0f} s -> {path} "
          f"(total {time.perf_counter() - t0:.0f} s)", flush=True)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="transformer", choices=("transformer", "capacitor", "all"))
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "models")
    parser.add_argument("--data", type=Path, default=None, help="reuse/keep phantoms in this folder")
    args = parser.parse_args()
    parts = ("transformer", "capacitor") if args.part == "all" else (args.part,)
    for part in parts:
        data = args.data / part if args.data else None
        if data:
            data.mkdir(parents=True, exist_ok=True)
        train_part(part, args.out, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
