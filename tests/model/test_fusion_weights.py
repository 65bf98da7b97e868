"""The fused mean weighs each scorer family as the model says (by default the AnoGAN a half in the heatmap)."""
import numpy as np
import pytest


def test_the_fused_mean_weighs_each_scorer_as_the_model_says():
    from ctreview.model.detector import Fusion

    maps = {"features": np.full((2, 2), 1.0, np.float32), "head": np.full((2, 2), 1.0, np.float32),
            "anogan": np.full((2, 2), 3.0, np.float32)}
    assert Fusion(rule="mean").fuse(maps)[0, 0] == pytest.approx(5 / 3)  # a model without weights: as before
    assert Fusion(rule="mean", weights={"anogan": 0.25}).fuse(maps)[0, 0] == pytest.approx(2.75 / 2.25)
    assert Fusion(rule="max", weights={"anogan": 0.25}).fuse(maps)[0, 0] == pytest.approx(3.0)
