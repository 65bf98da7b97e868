"""The scoring controls offer the AnoGAN search depth only for a model with an AnoGAN scorer."""
from __future__ import annotations

from pathlib import Path

from ctreview.gui.scoring_panel import ScoringPanel
from ctreview.model.library import ModelInfo


def test_the_depth_box_follows_the_selected_models_scorers(qtbot):
    panel = ScoringPanel()
    qtbot.addWidget(panel)
    plain = ModelInfo(Path("/models/plain"), "plain", "whole-part", 64, "", engine="fused",
                      scorers=("features", "head"))
    with_gan = ModelInfo(Path("/models/gan"), "gan", "whole-part", 64, "", engine="fused",
                         scorers=("features", "head", "anogan"))
    panel.set_models([plain, with_gan])
    panel.select_model("/models/plain")
    assert not panel.depth.isEnabled() and panel.anogan_steps() is None
    panel.select_model("/models/gan")
    assert panel.depth.isEnabled()
    assert panel.depth.text() == "AnoGAN: model's" and panel.anogan_steps() is None
    panel.depth.setValue(40)
    assert panel.anogan_steps() == 40
    panel.set_running(True, 10)
    assert not panel.depth.isEnabled()
    panel.set_running(False)
    assert panel.depth.isEnabled()
