"""Conditioned AnoGAN networks: shapes, the unconditioned ablation, and the latent search with c fixed."""
import torch

from ctreview.model.anogan.cond_search import cond_latent_search
from ctreview.model.anogan.search import frozen, paper_loss
from ctreview.model.config import NetConfig
from ctreview.model.nets.conditioned import CondDiscriminator, CondEncoder, CondGenerator


def _nets(tile: int, context: int):
    torch.manual_seed(0)
    cfg = NetConfig(tile, 16, 8, "none", "none")
    return CondGenerator(cfg, context), CondDiscriminator(cfg, context), CondEncoder(cfg, context)


def test_shapes_with_and_without_context():
    for tile in (32, 64):
        for k in (0, 4):
            G, D, E = _nets(tile, k)
            z, c = torch.randn(3, 16), torch.randn(3, k, tile, tile)
            with torch.no_grad():
                x = G(z, c)
            assert x.shape == (3, 1, tile, tile) and float(x.abs().max()) <= 1.0
            assert D(x, c).shape == (3,) and D.features(x, c).shape == (3, 8 * 2 ** (G.config.levels - 1), 4, 4)
            assert E(x, c).shape == (3, 16)


def test_the_generator_uses_its_context():
    G, _, _ = _nets(32, 2)
    z = torch.randn(2, 16)
    with torch.no_grad():
        a, b = G(z, torch.zeros(2, 2, 32, 32)), G(z, torch.ones(2, 2, 32, 32))
    assert float((a - b).abs().mean()) > 1e-4


def test_latent_search_with_c_fixed_never_ends_worse_than_its_start():
    G, D, _ = _nets(32, 2)
    frozen(G, D)
    c = torch.rand(4, 2, 32, 32) * 2 - 1
    x = c[:, :1].clone()
    z0 = torch.randn(4, 16)  # z = 0 is a saddle of a fresh G (zero gradient)
    c_before = c.clone()
    z, loss, steps = cond_latent_search(G, D, x, c, z0, steps=30, lam=0.1, lr=0.05)
    with torch.no_grad():
        g0 = G(z0, c)
        start = paper_loss(x, D.features(x, c), g0, D.features(g0, c), 0.1)
    assert z.shape == (4, 16) and loss.shape == (4,) and 1 <= steps <= 30
    assert torch.equal(c, c_before)  # the context is never optimised
    assert bool((loss < start).all())
