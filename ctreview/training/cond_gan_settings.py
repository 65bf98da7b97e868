"""Settings of the conditioned AnoGAN scorer family, declared once (no torch here: ``--help`` stays quick).

The command line builds its ``--anogan-*`` flags from these fields, the
train dialog its AnoGAN fields, and a fused model stores them whole in
``model.json`` (``training.anogan``). Fields whose ``metadata`` says
``cli=False`` are for benches and tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _opt(default: Any, help: str, **extra: Any) -> Any:
    return field(default=default, metadata={"help": help, **extra})


def _fixed(default: Any) -> Any:
    return field(default=default, metadata={"cli": False})


@dataclass(frozen=True)
class CondGanSettings:
    """Every setting of a conditioned-GAN run, and the scorer's default search depth.

    The defaults keep training cheap on a CPU (about 1-2 minutes on six
    64 x 128 x 128 phantoms with one thread; see BENCHMARKS.md).
    ``collapse_patience`` iterations in a row with the hinge D loss below
    ``collapse_eps`` (D tells every real from every fake: G gets no useful
    gradient any more), a non-finite loss, or a held-out reconstruction error
    ``rise_factor`` times its best so far, raise a
    :class:`~ctreview.training.cond_gan.GanWarning`; with ``stop_on_collapse``
    the GAN phase then ends early. ``eval_steps`` latent-search steps (from a
    fixed random z) measure the held-out error during the GAN phase, when no
    encoder exists yet. ``search_steps`` is the depth the trained scorer
    searches by default (0: the encoder alone, f-AnoGAN); a scoring run may
    choose another (``ctreview score --anogan-steps``).
    """

    tile_size: int = _fixed(64)
    latent_dim: int = _opt(64, "AnoGAN: size of the latent vector z")
    width: int = _opt(16, "AnoGAN: channels of the first conv layer")
    iterations: int = _opt(500, "AnoGAN: GAN iterations (one batch each)")
    encoder_iterations: int = _opt(250, "AnoGAN: encoder (izi_f) iterations")
    batch_size: int = _opt(16, "AnoGAN: tile stacks per training batch")
    lr_d: float = _opt(4e-4, "AnoGAN: discriminator learning rate")
    lr_g: float = _opt(1e-4, "AnoGAN: generator learning rate")
    lr_e: float = _opt(2e-4, "AnoGAN: encoder learning rate")
    betas: tuple[float, float] = _fixed((0.0, 0.9))
    kappa: float = _opt(1.0, "AnoGAN: weight of the encoder's feature term")
    flip: bool = _fixed(True)
    rot90: bool = _fixed(True)
    eval_every: int = _fixed(100)
    eval_steps: int = _fixed(20)
    collapse_eps: float = _fixed(0.05)
    collapse_patience: int = _fixed(50)
    rise_factor: float = _fixed(2.0)
    stop_on_collapse: bool = _fixed(False)
    percentiles: tuple[float, float] = _fixed((0.5, 99.5))
    seed: int = _fixed(0)
    max_tiles: int = _opt(20000, "AnoGAN: at most this many tile stacks of the fit slices are kept (a seeded "
                                 "sample), so memory stays bounded on large volumes")
    search_steps: int = _opt(0, "AnoGAN: latent-search steps the scorer takes from E(x, c) by default "
                                "(0: the encoder alone, f-AnoGAN)")
