"""The conditioned AnoGAN as a scorer: residual maps over the ROI's tiles and the seeds' paper score."""
import numpy as np
import pytest
import torch

from ctreview.model.scorer import RunOptions, SliceInput
from ctreview.model.scorers import load_scorer
from ctreview.model.scorers.cond_anogan_scorer import CondAnoganScorer
from ctreview.training.cond_gan import CondGanSettings, train_cond_gan

OFFSETS = (-3, 3)
T = 32


def _volume(seed: int, slices: int = 20, size: int = 64) -> np.ndarray:
    """Bright discs drifting slowly along z on a dark background, plus noise: ``(z, y, x)``."""
    rng = np.random.default_rng(seed)
    zz, yy, xx = np.meshgrid(np.arange(slices), np.arange(size), np.arange(size), indexing="ij")
    vol = rng.normal(0.1, 0.02, (slices, size, size)).astype(np.float32)
    for _ in range(6):
        y0, x0 = rng.uniform(8, size - 8, 2)
        vy, vx = rng.uniform(-0.4, 0.4, 2)
        cy, cx = y0 + vy * (zz - slices / 2), x0 + vx * (zz - slices / 2)
        vol += 0.8 * (((yy - cy) ** 2 + (xx - cx) ** 2) < rng.uniform(4, 7) ** 2)
    return vol


def _tiles(size: int = 64) -> list[tuple[int, int]]:
    return [(y, x) for y in range(0, size - T + 1, 16) for x in range(0, size - T + 1, 16)]


def _input(vol: np.ndarray, k: int) -> SliceInput:
    context = np.stack([vol[k + o] for o in OFFSETS])
    mask = np.ones(vol.shape[1:], bool)
    return SliceInput(k, vol[k], context, mask, (0, 0) + vol.shape[1:], 0.5, _tiles(vol.shape[1]), OFFSETS)


@pytest.fixture(scope="module")
def scorer() -> CondAnoganScorer:
    torch.manual_seed(0)
    stacks = []
    for seed in range(4):
        vol = _volume(seed)
        for k in range(3, vol.shape[0] - 3):
            stacks += [np.stack([vol[k + o][y:y + T, x:x + T] for o in (0,) + OFFSETS]) for y, x in _tiles()]
    s = CondGanSettings(tile_size=T, latent_dim=16, width=8, iterations=150, encoder_iterations=80,
                       batch_size=16, eval_every=1000, seed=0)
    gan = train_cond_gan(np.asarray(stacks, np.float32), s)
    return CondAnoganScorer(gan.generator, gan.discriminator, gan.encoder, gan.window, OFFSETS)


def test_the_map_is_higher_on_a_planted_bright_spot_than_on_normal_tiles(scorer):
    vol = _volume(9)
    bad = vol.copy()
    bad[10, 40:45, 20:25] += 2.0
    normal_map, spot_map = scorer.maps([_input(vol, 10), _input(bad, 10)])
    assert spot_map.shape == (64, 64)
    assert spot_map[40:45, 20:25].max() > 1.5 * normal_map.max()
    assert spot_map[40:45, 20:25].max() > 1.5 * np.percentile(spot_map, 90)


def test_depth_changes_the_paper_score_and_the_search_never_makes_it_worse(scorer):
    vol = _volume(9)
    inputs = [_input(vol, k) for k in (6, 10, 13)]
    scorer.configure(RunOptions(search_steps=0))
    scorer.maps(inputs)
    shallow = [scorer.slice_values(i.index)["anogan_paper"] for i in inputs]
    scorer.configure(RunOptions(search_steps=30))
    scorer.maps(inputs)
    deep = [scorer.slice_values(i.index)["anogan_paper"] for i in inputs]
    scorer.configure(RunOptions())
    assert all(d <= s + 1e-4 for d, s in zip(deep, shallow)), (deep, shallow)
    assert not np.allclose(deep, shallow)


def test_the_scorer_is_rebuilt_from_its_config_and_state(scorer):
    again = load_scorer("anogan", scorer.config(), scorer.state(), "cpu")
    assert isinstance(again, CondAnoganScorer) and again.offsets == OFFSETS
    inp = [_input(_volume(9), 10)]
    np.testing.assert_allclose(again.maps(inp)[0], scorer.maps(inp)[0], atol=1e-5)
