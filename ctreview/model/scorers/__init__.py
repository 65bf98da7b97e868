"""The scorer families (see :mod:`ctreview.model.scorer`) and how each is rebuilt from a model folder.

Imported on first use: each family pulls in torch and its networks.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from ctreview.model.scorer import Scorer

FAMILIES = {"features": "features_scorer", "head": "head_scorer", "anogan": "cond_anogan_scorer",
            "atlas": "atlas_scorer"}
"""Scorer family -> module holding its ``load(config, state, device)``."""
VARIANTS = {("anogan", "unconditioned"): "anogan_scorer"}
"""Earlier variants of a family that model files may still hold (``config["variant"]``): the
unconditioned DCGAN AnoGAN of the first fused models; its configs carry no variant."""
DEFAULT_VARIANT = {"anogan": "unconditioned"}
"""The variant of a config without one (written before variants existed)."""


def load_scorer(name: str, config: dict[str, Any], state: dict[str, torch.Tensor], device: torch.device) -> Scorer:
    """Rebuild scorer ``name`` from its config and tensors (as a model folder stores them)."""
    from ctreview.errors import CtreviewError

    family = str(config.get("family", name))
    if family not in FAMILIES:
        raise CtreviewError(None, f"unknown scorer family {family!r} in the model "
                                  f"(this ctreview knows {', '.join(FAMILIES)})")
    variant = str(config.get("variant", DEFAULT_VARIANT.get(family, "")))
    module_name = VARIANTS.get((family, variant), FAMILIES[family])
    module = importlib.import_module(f"ctreview.model.scorers.{module_name}")
    scorer: Scorer = module.load(config, state, device)
    return scorer
