"""The window scores an AnoGAN model of format 1 as a fused model and says so in one line."""
from __future__ import annotations

from tests.gui.gui_helpers import open_and_wait


def test_scoring_a_format_1_model_says_how_it_was_scored(qtbot, window, phantom_file, tiny_model, messages):
    window._model_hint = str(tiny_model)
    window.refresh_models()
    assert window.scoring.model_path() == str(tiny_model)
    assert window.scoring.depth.isEnabled()  # its one scorer is an AnoGAN: the search depth can be chosen
    open_and_wait(qtbot, window, phantom_file)
    with qtbot.waitSignal(window.runner.finished, timeout=90000, check_params_cb=lambda name: name == "score"):
        window.start_scoring(window.scoring.model_path(), "fast")
    assert not messages and window.session.scores
    assert "is an AnoGAN model of format 1: scored as a fused model with one AnoGAN scorer" in \
        window.statusBar().currentMessage()
