"""The defect head: learns a planted defect in seconds, scores any slice size, saves safely."""
import numpy as np
import pytest
import torch

from ctreview.errors import Cancelled
from ctreview.model.head import DefectHead, HeadConfig
from ctreview.training.context import ContextTiles
from ctreview.training.head_train import HeadProgress, HeadTrainSettings, run_to_end, train_head

T = 32
SETTINGS = HeadTrainSettings(iterations=60, batch_size=8, widths=(8, 16), eval_every=30, lr=3e-3)


def _data(n: int = 48, seed: int = 0) -> ContextTiles:
    """Discs on a noisy background, identical in the two context slices; two volumes."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:T, :T]
    tiles = np.empty((n, 3, T, T), np.float32)
    for i in range(n):
        cy, cx, r = rng.uniform(12, 20), rng.uniform(12, 20), rng.uniform(5, 8)
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        tiles[i] = 1000 + 2000 * disc + rng.normal(0, 40, (3, T, T))
    masks = np.ones((n, T, T), bool)
    return ContextTiles(tiles, masks, np.arange(n), np.zeros((n, 2), int), np.arange(n) % 2, (-3, 3))


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    gen = train_head(_data(), SETTINGS)
    events = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            return stop.value, events


def test_training_yields_typed_progress_and_held_out_figures(trained):
    result, events = trained
    assert all(isinstance(e, HeadProgress) for e in events) and len(events) == 60
    assert events[-1].iteration == events[-1].total == 60 and "loss" in events[-1].losses
    assert events[29].heldout is not None and events[30].heldout is None
    assert set(result.heldout) >= {"fp_rate", "synthetic_auroc"} and 0 <= result.heldout["fp_rate"] <= 1
    assert len(result.history) == 60 and result.model.offsets == (-3, 3)


def test_a_tiny_head_separates_an_obvious_planted_defect(trained):
    model = trained[0].model
    tiles = _data(8, seed=5).tiles
    spot = np.zeros((T, T), bool)
    spot[4:10, 22:28] = True  # on the background, only in the centre slice
    tiles[:, 0][:, spot] += 2500
    logits = model.logits(tiles)
    assert logits.shape == (8, T, T)
    assert logits[:, spot].mean() > logits[:, ~spot].mean() + 1.0


def test_whole_slice_inference_matches_tile_inference_and_takes_any_size(trained):
    model = trained[0].model
    stack = _data(1, seed=9).tiles[0]
    assert np.allclose(model.slice_logits(stack, margin=0), model.logits(stack[None])[0], atol=1e-5)
    odd = np.tile(stack, (1, 2, 2))[:, :45, :37]
    full = model.slice_logits(odd)
    assert full.shape == (45, 37) and np.isfinite(full).all()
    boxed = model.slice_logits(odd, (10, 10, 20, 20), margin=4)
    assert np.isinf(boxed[:6]).all() and np.isfinite(boxed[6:24, 6:24]).all()


def test_the_network_keeps_sizes():
    net = DefectHead(HeadConfig(in_channels=2, widths=(4, 8, 8, 8))).eval()
    with torch.inference_mode():
        for h, w in ((8, 8), (13, 29), (64, 64)):
            assert net(torch.zeros(1, 2, h, w)).shape == (1, 1, h, w)


def test_a_head_round_trips_through_its_scorers_state(trained):
    """A head is stored only as the fused model's head scorer (config + safetensors state)."""
    from ctreview.model.scorers import load_scorer
    from ctreview.model.scorers.head_scorer import HeadScorer

    model = trained[0].model
    scorer = HeadScorer(model)
    again = load_scorer("head", scorer.config(), scorer.state(), torch.device("cpu")).head
    stack = _data(2, seed=3).tiles
    assert np.array_equal(again.logits(stack), model.logits(stack))
    assert again.offsets == model.offsets and again.window == model.window


def test_should_stop_cancels():
    gen = train_head(_data(16), HeadTrainSettings(iterations=5, batch_size=4, widths=(4, 8)),
                     should_stop=lambda: True)
    with pytest.raises(Cancelled):
        run_to_end(gen)
