"""The window says the working scale a scan is scored at, and shows the results at full resolution."""
from __future__ import annotations

import numpy as np
import tifffile

from ctreview.io import open_volume
from tests.gui.gui_helpers import open_and_wait


def test_a_fine_scan_is_scored_at_the_models_scale_and_the_status_bar_says_so(qtbot, window, tiny_data,
                                                                               tiny_detector, tmp_path, messages):
    arr = open_volume(tiny_data / "transformer_defect_000.tif").read(0, None)
    fine = tmp_path / "fine.tif"
    tifffile.imwrite(fine, np.repeat(np.repeat(np.repeat(arr, 2, axis=0), 2, axis=1), 2, axis=2))
    window._model_hint = str(tiny_detector)
    window.refresh_models()
    open_and_wait(qtbot, window, fine)
    said: list[str] = []
    window.statusBar().messageChanged.connect(said.append)
    with qtbot.waitSignal(window.runner.finished, timeout=120000, check_params_cb=lambda name: name == "score"):
        window.start_scoring(str(tiny_detector), "fast")
    assert not messages
    assert any("scale: binned 2x2x2 (part " in text for text in said)
    assert "scored binned 2x2x2 (the model's working scale)" in said[-1]
    top = max(window.session.scores, key=lambda k: window.session.scores[k].relative)
    assert window.session.heatmap(top).shape == (2 * arr.shape[1], 2 * arr.shape[2])  # shown at full size
