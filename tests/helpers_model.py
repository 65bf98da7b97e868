"""Tiny, seeded models and synthetic tiles for tests of every area.

``train_tiny_model(out_dir)`` trains a small AnoGAN + encoder (tile 32,
width 8) on the ROI tiles of two small normal transformer phantoms in a
few seconds and returns the model folder. Other areas' tests import it to
get a real model without the cost of a real training run.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

# One CPU thread: test machines are often busy, and two threads then wait on each other.
os.environ.setdefault("CTREVIEW_THREADS", "1")


def _set_threads() -> None:
    import torch

    from ctreview.model.device import cpu_threads

    torch.set_num_threads(cpu_threads())


_set_threads()

TINY = dict(tile_size=32, latent_dim=16, width=8, batch_size=32)


def disc_tiles(n: int, tile: int = 32, *, defect: bool = False, seed: int = 0) -> np.ndarray:
    """Synthetic tiles ``(n, T, T)`` float32: a bright disc on a noisy background.

    With ``defect=True`` every tile also holds a 5x5 spot much brighter than
    anything normal, placed on the background.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:tile, :tile]
    out = np.empty((n, tile, tile), np.float32)
    for i in range(n):
        cy, cx = rng.uniform(tile * 0.35, tile * 0.65, 2)
        r = rng.uniform(tile * 0.15, tile * 0.25)
        disc = ((yy - cy) ** 2 + (xx - cx) ** 2) < r * r
        img = 1000 + 1500 * disc + rng.normal(0, 50, (tile, tile))
        if defect:
            while True:
                y, x = rng.integers(2, tile - 7, 2)
                if not disc[y:y + 5, x:x + 5].any():
                    break
            img[y:y + 5, x:x + 5] += 3000
        out[i] = img
    return out


def auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Area under the ROC curve of scores (ties count half)."""
    p = np.asarray(positive, float)[:, None]
    n = np.asarray(negative, float)[None, :]
    return float(np.mean(p > n) + 0.5 * np.mean(p == n))


def tiny_phantom_volumes(out_dir: Path, *, normal: int = 2, defective: int = 1, seed: int = 0) -> list[Path]:
    """Write small transformer phantoms (96 px, 24 slices) into ``out_dir``; return their paths."""
    from ctreview.phantom import write_phantom_set

    return write_phantom_set(out_dir, part="transformer", normal=normal, defective=defective, seed=seed,
                             size=96, slices=24)


def train_tiny_model(out_dir: str | Path, *, epochs: int = 30, seed: int = 0) -> Path:
    """Train a tiny model (tile 32, width 8) on two small normal phantoms; return its folder.

    The model scores phantoms written by :func:`tiny_phantom_volumes` (or
    ``make_phantom(..., size=96, slices=24)``) with the ``whole-part`` profile.
    """
    from ctreview.training import train

    out_dir = Path(out_dir)
    data = out_dir.parent / f"{out_dir.name}-data"
    if not data.exists():
        tiny_phantom_volumes(data, normal=2, defective=0, seed=seed)
    return train([data], out_dir, profile="whole-part", epochs=epochs, seed=seed, **TINY)


_SHARED: dict[str, Path] = {}


def shared_tiny_data(tmp_path_factory) -> Path:
    """Tiny phantom folder (2 normal + 1 defective), made once per test session."""
    if "data" not in _SHARED:
        folder = tmp_path_factory.mktemp("tiny") / "model-data"
        tiny_phantom_volumes(folder, normal=2, defective=1, seed=0)
        _SHARED["data"] = folder
    return _SHARED["data"]


def shared_tiny_model(tmp_path_factory) -> Path:
    """Tiny model trained on :func:`shared_tiny_data`, once per test session (any conftest may ask)."""
    if "model" not in _SHARED:
        data = shared_tiny_data(tmp_path_factory)
        _SHARED["model"] = train_tiny_model(data.parent / "model")
    return _SHARED["model"]


def tiny_detector_settings():
    """Settings of a tiny fused model (seconds to train): small head, a fifth of the patches kept.

    Features and head only (the shared tiny model's tests predate the AnoGAN scorer); a test that
    wants the AnoGAN too passes ``scorers=(..., "anogan")`` and gets a tiny one.
    """
    from dataclasses import replace

    from ctreview.training.detector_settings import DetectorSettings

    base = DetectorSettings(tile_size=32, scorers=("features", "head"))
    return replace(base, features=replace(base.features, coreset_ratio=0.2),
                   head=replace(base.head, iterations=40, widths=(8, 16, 16), eval_every=20, batch_size=8),
                   anogan=replace(base.anogan, tile_size=32, latent_dim=16, width=8, iterations=40,
                                  encoder_iterations=20, batch_size=8, eval_every=20))


def train_tiny_detector(data, out_dir, **changes):
    """Train a tiny fused model (format 2) on ``data``; return its folder."""
    from dataclasses import replace

    from ctreview.progress import drain as run
    from ctreview.training.detector_train import iter_train_detector

    settings = replace(tiny_detector_settings(), **changes)
    return run(iter_train_detector(data, out_dir, settings, profile="whole-part", device="cpu"))


def shared_tiny_detector(tmp_path_factory) -> Path:
    """A tiny fused model trained once per test session on :func:`shared_tiny_data`'s normal volumes."""
    if "detector" not in _SHARED:
        data = shared_tiny_data(tmp_path_factory)
        _SHARED["detector"] = train_tiny_detector([data], data.parent / "detector")
    return _SHARED["detector"]


def shared_tiny_anogan_detector(tmp_path_factory) -> Path:
    """A tiny fused model with the conditioned AnoGAN scorer too, trained once per test session."""
    if "anogan-detector" not in _SHARED:
        data = shared_tiny_data(tmp_path_factory)
        _SHARED["anogan-detector"] = train_tiny_detector([data], data.parent / "anogan-detector",
                                                         scorers=("features", "head", "anogan"))
    return _SHARED["anogan-detector"]


def drain(stream):
    """Run a scoring stream to its end; return ``(results, summary)``."""
    from ctreview.progress import drain as run

    results: list = []
    summary = run(stream, results.append)
    return results, summary
