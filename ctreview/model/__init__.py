"""Models: scorer families behind one protocol, their fusion, the model files and the library.

A model is a :class:`~ctreview.model.detector.Detector`: scorer families
(deep features, the defect head, the conditioned AnoGAN) fused and
calibrated. :func:`load_model` loads every model folder as one, a format-1
AnoGAN included. Training lives in :mod:`ctreview.training`; nothing here
imports it.

Rooms: :mod:`~ctreview.model.nets` (the networks), :mod:`~ctreview.model.features`
(deep-feature models of normality), :mod:`~ctreview.model.head` (the defect head),
:mod:`~ctreview.model.anogan` (the latent search, format 1), :mod:`~ctreview.model.scorers`
(each family behind the :class:`~ctreview.model.scorer.Scorer` protocol),
:mod:`~ctreview.model.detector` (fusion), :mod:`~ctreview.model.store`,
:mod:`~ctreview.model.meta`, :mod:`~ctreview.model.library` (the model files),
:mod:`~ctreview.model.domain` (the torch-free domain check).

Core package: never imports Qt. Names that need torch are imported on first
use (PEP 562), so ``from ctreview.model import list_models`` in the GUI does
not load torch on the UI thread.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ctreview.model.config import NetConfig
from ctreview.model.library import ModelInfo, bundled_model_path, list_models
from ctreview.model.meta import FORMAT_VERSION, read_meta

if TYPE_CHECKING:  # the lazy names below, for mypy: without these it sees them as Any
    from ctreview.model.anogan.anomaly import AnomalyModel as AnomalyModel
    from ctreview.model.anogan.anomaly import TileScores as TileScores
    from ctreview.model.detector import Detector as Detector
    from ctreview.model.device import pick_device as pick_device
    from ctreview.model.nets.dcgan import Discriminator as Discriminator
    from ctreview.model.nets.dcgan import Encoder as Encoder
    from ctreview.model.nets.dcgan import Generator as Generator
    from ctreview.model.store import load_anogan as load_anogan
    from ctreview.model.store import load_detector as load_detector
    from ctreview.model.store import load_model as load_model
    from ctreview.model.store import save_model as save_model

_LAZY = {
    "AnomalyModel": "anogan.anomaly", "TileScores": "anogan.anomaly",
    "pick_device": "device",
    "Discriminator": "nets.dcgan", "Encoder": "nets.dcgan", "Generator": "nets.dcgan",
    "load_model": "store", "save_model": "store", "load_detector": "store", "load_anogan": "store",
    "Detector": "detector",
}

__all__ = ["ModelInfo", "bundled_model_path", "list_models", "NetConfig", "FORMAT_VERSION",
           "read_meta", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"ctreview.model.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ctreview.model' has no attribute {name!r}")
