"""The learned defect head as a scorer: per-pixel defect evidence from a slice and its z-context."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ctreview.model.head import DefectHead, HeadConfig, HeadModel
from ctreview.model.scorer import RunOptions, SliceInput
from ctreview.model.scorers._util import by_shape


class HeadScorer:
    """A U-Net trained on normal tiles with synthetic defects (DRAEM's recipe).

    Its map is ``softplus(logit)``: non-negative, monotone in the logit and
    about the logit where the head is sure, so strong evidence keeps its range
    (a probability would flatten at 1).
    """

    name = "head"
    SLICES_PER_BATCH = 8
    """Crops per network batch unless a run sets ``batch_size``."""

    def __init__(self, head: HeadModel) -> None:
        if head.extras:
            raise ValueError("a head with extra input maps needs their scorer; not supported here")
        self.head = head
        self.run = RunOptions()

    def maps(self, inputs: Sequence[SliceInput]) -> list[np.ndarray]:
        stacks = [i.stack_of(self.head.offsets) for i in inputs]

        def run(idx: list[int]) -> list[np.ndarray]:
            batch = self.run.slices_per_batch(stacks[idx[0]].shape, self.SLICES_PER_BATCH)
            logits = self.head.logits(np.stack([stacks[i] for i in idx]), batch_size=batch)
            return list(F.softplus(torch.from_numpy(logits)).numpy())

        out = by_shape(stacks, run)
        return [np.where(i.mask, m, 0.0).astype(np.float32) for i, m in zip(inputs, out)]

    def configure(self, options: RunOptions) -> None:
        """Take the run's batch size (the rest concerns the AnoGAN)."""
        self.run = options

    def slice_values(self, index: int) -> dict[str, float]:
        return {}

    def state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().cpu().contiguous() for k, v in self.head.net.state_dict().items()}

    def config(self) -> dict[str, Any]:
        return {"family": "head", "net": asdict(self.head.net.config), "window": list(self.head.window),
                "offsets": list(self.head.offsets), "meta": self.head.meta}


def load(config: dict[str, Any], state: dict[str, torch.Tensor], device: torch.device) -> HeadScorer:
    net_cfg = config["net"]
    net = DefectHead(HeadConfig(int(net_cfg["in_channels"]), tuple(int(w) for w in net_cfg["widths"])))
    net.load_state_dict(state, strict=True)
    net.to(device).eval()
    head = HeadModel(net, tuple(config["window"]), tuple(int(o) for o in config["offsets"]), (),
                     dict(config.get("meta") or {}))
    return HeadScorer(head)
