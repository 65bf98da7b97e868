"""Training: GAN and encoder loops, calibration on held-out normal data, training data.

Core package: never imports Qt. Split from :mod:`ctreview.model`, which keeps
the networks, model files and inference only. Names that need torch are
imported on first use (PEP 562).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ctreview.training.settings import TrainEvent, TrainSettings

if TYPE_CHECKING:  # the lazy names below, for mypy: without these it sees them as Any
    from ctreview.training.anogan import iter_train as iter_train
    from ctreview.training.anogan import settings_from as settings_from
    from ctreview.training.anogan import train as train
    from ctreview.training.contrast_calibration import calibrate_contrast as calibrate_contrast
    from ctreview.training.data import TileSet as TileSet
    from ctreview.training.data import collect_tiles as collect_tiles

_LAZY = {
    "iter_train": "anogan", "train": "anogan", "settings_from": "anogan",
    "collect_tiles": "data", "TileSet": "data",
    "calibrate_contrast": "contrast_calibration",
}

__all__ = ["TrainEvent", "TrainSettings", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"ctreview.training.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ctreview.training' has no attribute {name!r}")
