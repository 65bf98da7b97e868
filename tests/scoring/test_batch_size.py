"""``--batch-size`` reaches every scorer: the networks see batches of the size a run asks for."""
from __future__ import annotations

import numpy as np
from helpers_model import drain

from ctreview.io import open_volume
from ctreview.model import load_model
from ctreview.model.scorer import RunOptions
from ctreview.scoring import ScoringSettings, score_volume


def _batches_seen(model, volume, settings):
    """Score ``volume``; return the batch sizes the head and the feature backbone were given, and the results."""
    seen: dict[str, list[int]] = {"head": [], "features": []}
    hooks = [model.scorers["head"].head.net.register_forward_pre_hook(
                 lambda _m, args: seen["head"].append(int(args[0].shape[0]))),
             model.scorers["features"].model.features.backbone.register_forward_pre_hook(
                 lambda _m, args: seen["features"].append(int(args[0].shape[0])))]
    try:
        results, _ = drain(score_volume(volume, model, settings))
    finally:
        for hook in hooks:
            hook.remove()
    return seen, results


def test_a_runs_batch_size_sets_the_head_and_feature_batches(tiny_detector, tiny_data):
    model = load_model(tiny_detector, "cpu")
    with open_volume(tiny_data / "transformer_defect_000.tif") as volume:
        own, before = _batches_seen(model, volume, ScoringSettings(mode="fast"))
        one, after = _batches_seen(model, volume, ScoringSettings(mode="fast", batch_size=1))
    # by default each scorer batches several crops; one tile's pixels is less than a crop: one crop a batch
    # (the backbone sees each crop's context views together)
    assert max(own["head"]) > 1 and set(one["head"]) == {1} and len(one["head"]) > len(own["head"])
    assert max(one["features"]) < max(own["features"]) and len(one["features"]) > len(own["features"])
    # the batch changes how the work is cut, never the result
    np.testing.assert_allclose([r.score for r in after], [r.score for r in before], rtol=1e-4, atol=1e-6)


def test_batch_pixels_become_slices_per_batch():
    options = RunOptions(batch_size=8, tile_size=32)
    assert options.batch_pixels == 8 * 32 * 32
    assert options.slices_per_batch((3, 64, 64), default=5) == 2
    assert options.slices_per_batch((3, 512, 512), default=5) == 1
    assert RunOptions().slices_per_batch((3, 64, 64), default=5) == 5
