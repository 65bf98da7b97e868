"""Conditioned AnoGAN training: context helps, the latent search refines, collapse is reported.

The tiles come from a synthetic stack whose discs drift smoothly along z,
so the slices 3 above and below predict the centre slice well; an
unconditioned GAN must instead model every arrangement of discs.
"""
import numpy as np
import pytest
import torch

from ctreview.model.anogan.cond_search import cond_latent_search
from ctreview.training.cond_gan import CondGanSettings, GanWarning, iter_train_cond_gan, train_cond_gan
from ctreview.training.settings import TrainEvent

OFFSETS = (-3, 3)


def _stacks(seed: int, volumes: int, tile: int = 32, slices: int = 24) -> np.ndarray:
    """Context stacks ``(n, 3, T, T)``: bright discs moving linearly with z, plus noise."""
    rng = np.random.default_rng(seed)
    zz, yy, xx = np.meshgrid(np.arange(slices), np.arange(tile), np.arange(tile), indexing="ij")
    out = []
    for _ in range(volumes):
        vol = rng.normal(0, 0.03, (slices, tile, tile)).astype(np.float32)
        for _ in range(5):
            y0, x0 = rng.uniform(0, tile, 2)
            vy, vx = rng.uniform(-0.6, 0.6, 2)
            r, amp = rng.uniform(3, 8), rng.uniform(0.5, 1.0)
            cy, cx = y0 + vy * (zz - slices / 2), x0 + vx * (zz - slices / 2)
            vol += amp * (((yy - cy) ** 2 + (xx - cx) ** 2) < r ** 2)
        out += [np.stack([vol[k]] + [vol[k + o] for o in OFFSETS]) for k in range(6, slices - 6)]
    return np.asarray(out, np.float32)


def _settings(**kw) -> CondGanSettings:
    base = dict(tile_size=32, latent_dim=16, width=8, iterations=100, encoder_iterations=40, batch_size=16,
                eval_every=50, eval_steps=5, seed=0)
    return CondGanSettings(**{**base, **kw})


@pytest.fixture(scope="module")
def data():
    return _stacks(1, 8), _stacks(2, 2)


@pytest.fixture(scope="module")
def trained(data):
    train, held = data
    cond = train_cond_gan(train, _settings(), held_out=held)
    plain = train_cond_gan(train[:, :1], _settings(), held_out=held[:, :1])
    return cond, plain


def test_the_conditioned_gan_reconstructs_held_out_normal_tiles_better(data, trained):
    _, held = data
    cond, plain = trained
    e_cond, e_plain = cond.holdout_mse(held), plain.holdout_mse(held[:, :1])
    assert e_cond < 0.6 * e_plain, (e_cond, e_plain)
    # the error is logged during training, in both phases
    phases = {h["phase"] for h in cond.history if "holdout_mse" in h}
    assert phases == {"cond-gan", "cond-encoder"}
    assert all("d_loss" in h and "g_loss" in h for h in cond.history if h["phase"] == "cond-gan")


def test_latent_search_with_c_fixed_lowers_the_residual_below_the_encoder_start(data, trained):
    _, held = data
    cond, _ = trained
    t = cond.normalise(held[:16])
    x, c = t[:, :1], t[:, 1:]
    with torch.inference_mode():
        z0 = cond.encoder(x, c).clone()
        start = (x - cond.generator(z0, c)).abs().flatten(1).sum(1)
    z, _, _ = cond_latent_search(cond.generator, cond.discriminator, x, c, z0, steps=40, lam=0.1, lr=0.02)
    with torch.inference_mode():
        after = (x - cond.generator(z, c)).abs().flatten(1).sum(1)
    assert float(after.mean()) < float(start.mean())


def test_a_frozen_generator_makes_the_discriminator_win_and_a_warning_fires(data):
    train, _ = data
    s = _settings(iterations=80, encoder_iterations=1, lr_g=0.0, lr_d=2e-3, collapse_patience=10,
                  stop_on_collapse=True)
    events = list(iter_train_cond_gan(train, s))
    warnings = [e for e in events if isinstance(e, GanWarning)]
    assert warnings and warnings[0].kind == "collapse" and warnings[0].phase == "cond-gan"
    gan_steps = [e for e in events if isinstance(e, TrainEvent) and e.phase == "cond-gan"]
    assert len(gan_steps) == warnings[0].iteration < 80  # stop_on_collapse ended the GAN phase


def test_wrong_tile_shape_is_refused(data):
    train, _ = data
    with pytest.raises(ValueError):
        next(iter_train_cond_gan(train, _settings(tile_size=64)))
