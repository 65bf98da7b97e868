"""The scorer families (see :mod:`ctreview.model.scorer`) and how each is rebuilt from a model folder.

Imported on first use: each family pulls in torch and its networks.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from ctreview.model.scorer import Scorer

FAMILIES = {"features": "features_scorer", "head": "head_scorer", "anogan": "anogan_scorer"}
"""Scorer name -> module holding its ``load(config, state, device)``."""


def load_scorer(name: str, config: dict[str, Any], state: dict[str, torch.Tensor], device: torch.device) -> Scorer:
    """Rebuild scorer ``name`` from its config and tensors (as a model folder stores them)."""
    from ctreview.errors import CtreviewError

    family = str(config.get("family", name))
    if family not in FAMILIES:
        raise CtreviewError(None, f"unknown scorer family {family!r} in the model "
                                  f"(this ctreview knows {', '.join(FAMILIES)})")
    module = importlib.import_module(f"ctreview.model.scorers.{FAMILIES[family]}")
    scorer: Scorer = module.load(config, state, device)
    return scorer
