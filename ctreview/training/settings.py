"""Training settings and progress events (no torch here, so ``--help`` and the GUI stay quick)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class TrainSettings:
    """Every setting of a training run and its default (stored in ``model.json``)."""

    tile_size: int = 64
    latent_dim: int = 100
    width: int = 32
    epochs: int = 20
    encoder_epochs: int | None = None
    batch_size: int = 64
    loss: str = "dcgan"
    lr: float = 2e-4
    kappa: float = 1.0
    n_critic: int = 5
    seed: int = 0
    percentiles: tuple[float, float] = (0.5, 99.5)
    holdout: float = 0.15
    fpr: float = 0.01
    sample_every: int = 50
    stride: int | None = None
    min_iters_per_epoch: int = 1


@dataclass
class TrainEvent:
    """Progress of training, yielded after every iteration.

    ``phase`` is ``"gan"``, ``"encoder"``, ``"calibrate"`` or ``"done"``
    (the fused engine: ``"scale"``, ``"features"``, ``"head"``, ...);
    ``samples`` (every ``sample_every`` iterations) is an ndarray
    ``(k, T, T)`` of generator output in ``[0, 1]``, else None;
    ``note`` a line for the user (e.g. the working scale chosen), else empty.
    """

    phase: str
    epoch: int
    epochs: int
    iteration: int
    iterations: int
    losses: dict = field(default_factory=dict)
    samples: np.ndarray | None = None
    note: str = ""
