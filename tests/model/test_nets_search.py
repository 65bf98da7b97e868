"""Networks' shapes and the batched latent search."""
import numpy as np
import pytest
import torch

from ctreview.model.anogan.search import frozen, latent_search, paper_loss, smooth
from ctreview.model.nets.dcgan import Discriminator, Encoder, Generator, NetConfig, count_flops


@pytest.mark.parametrize("tile", [32, 64, 128])
def test_shapes_for_each_tile_size(tile):
    cfg = NetConfig(tile_size=tile, latent_dim=12, width=4)
    g, d, e = Generator(cfg), Discriminator(cfg), Encoder(cfg)
    frozen(g, d, e)
    with torch.inference_mode():
        x = g(torch.zeros(3, 12))
        assert x.shape == (3, 1, tile, tile)
        assert float(x.abs().max()) <= 1.0
        assert d(x).shape == (3,)
        assert d.features(x).shape == (3, 4 * tile // 8, 4, 4)
        assert e(x).shape == (3, 12)


def test_bad_config_is_refused():
    with pytest.raises(ValueError):
        NetConfig(tile_size=48)
    with pytest.raises(ValueError):
        NetConfig(d_norm="weird")


def test_flop_count_grows_with_width():
    small = count_flops(NetConfig(64, 16, 8))
    big = count_flops(NetConfig(64, 16, 16))
    assert big["generator"] > 3 * small["generator"]


def _nets(seed=0):
    torch.manual_seed(seed)
    cfg = NetConfig(tile_size=32, latent_dim=8, width=4, d_norm="layer")
    g, d = Generator(cfg), Discriminator(cfg)
    frozen(g, d)
    return g, d


def test_batched_search_equals_one_tile_at_a_time():
    g, d = _nets()
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(4, 1, 32, 32, generator=gen) * 2 - 1
    z0 = torch.randn(4, 8, generator=gen)
    z_all, loss_all, _ = latent_search(g, d, x, z0, steps=30, patience=1000)
    for i in range(4):
        z_one, loss_one, _ = latent_search(g, d, x[i:i + 1], z0[i:i + 1], steps=30, patience=1000)
        assert torch.allclose(z_all[i], z_one[0], atol=1e-4)
        assert torch.allclose(loss_all[i], loss_one[0], rtol=1e-4)


def test_search_lowers_the_loss_and_stops_early():
    g, d = _nets()
    gen = torch.Generator().manual_seed(2)
    x = g(torch.randn(3, 8, generator=gen)).detach()  # reachable targets
    z0 = torch.randn(3, 8, generator=gen)
    with torch.no_grad():
        start = paper_loss(x, d.features(x), g(z0), d.features(g(z0)), 0.1)
    z, loss, steps = latent_search(g, d, x, z0, steps=400, patience=5, tol=0.05)
    assert (loss < start).all()
    assert steps < 400
    with torch.no_grad():
        again = paper_loss(x, d.features(x), g(z), d.features(g(z)), 0.1)
    assert torch.allclose(again, loss, rtol=1e-4)


def test_weights_stay_frozen_during_search():
    g, d = _nets()
    before = [p.clone() for p in g.parameters()]
    latent_search(g, d, torch.zeros(2, 1, 32, 32), torch.randn(2, 8), steps=5)
    assert all(torch.equal(a, b) for a, b in zip(before, g.parameters()))
    assert all(not p.requires_grad for p in g.parameters())


def test_smooth_keeps_mass_of_a_centred_spot():
    maps = torch.zeros(1, 16, 16)
    maps[0, 8, 8] = 1.0
    out = smooth(maps, 1.5)
    assert out.shape == (1, 16, 16)
    assert abs(float(out.sum()) - 1.0) < 1e-4
    assert float(out.max()) < 0.2
    assert np.unravel_index(int(out.argmax()), (16, 16)) == (8, 8)
