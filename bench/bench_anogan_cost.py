"""What the AnoGAN scorer costs the default scoring: one model scored with and without it, interleaved.

    CTREVIEW_THREADS=1 .venv/bin/python bench/bench_anogan_cost.py MODEL_DIR [PART] [ROUNDS]

The same trained model scores the first three dev phantoms of PART (bench_detection's set) as
trained, and with its AnoGAN scorer dropped (the work of the previous default, features and head),
the two alternating volume by volume so that a busy machine slows both alike. Prints the median and
the minimum seconds per volume of each.
"""
import glob
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ctreview.io import open_volume  # noqa: E402
from ctreview.model import load_model  # noqa: E402
from ctreview.progress import drain  # noqa: E402
from ctreview.scoring import ScoringSettings, score_volume  # noqa: E402


def main() -> None:
    torch.set_num_threads(1)
    model_dir = sys.argv[1]
    part = sys.argv[2] if len(sys.argv) > 2 else "transformer"
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    full = load_model(model_dir, "cpu")
    two = load_model(model_dir, "cpu")
    del two.scorers["anogan"]
    files = sorted(glob.glob(str(ROOT / f"bench/.cache/phantoms/dev-{part}/*.tif")))[:3]
    volumes = [open_volume(f) for f in files]
    seconds: dict[str, list[float]] = {"with the AnoGAN": [], "features and head": []}
    for _ in range(rounds):
        for volume in volumes:
            for name, model in (("with the AnoGAN", full), ("features and head", two)):
                start = time.perf_counter()
                drain(score_volume(volume, model, ScoringSettings()))
                seconds[name].append(time.perf_counter() - start)
    for name, values in seconds.items():
        values.sort()
        print(f"{name}: median {values[len(values) // 2]:.2f} s per volume, min {values[0]:.2f} s")


if __name__ == "__main__":
    main()
