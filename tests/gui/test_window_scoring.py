"""Scoring in the window with a tiny real model: live ranked list, cancel, close, demo capture."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QThreadPool

from ctreview.gui.ranked_model import RELATIVE
from ctreview.review import open_workspace
from tests.gui.gui_helpers import open_and_wait


def _open_with_model(qtbot, window, path, model):
    window._model_hint = str(model)
    window.refresh_models()
    assert window.scoring.model_path() == str(model)
    open_and_wait(qtbot, window, path)


def _score(qtbot, window, mode: str, timeout: int = 90000) -> None:
    with qtbot.waitSignal(window.runner.finished, timeout=timeout,
                          check_params_cb=lambda name: name == "score"):
        window.start_scoring(window.scoring.model_path(), mode)


def test_scoring_fills_the_list_and_the_workspace_then_exports(qtbot, window, phantom_file, tiny_model,
                                                               tmp_path, messages, monkeypatch):
    _open_with_model(qtbot, window, phantom_file, tiny_model)
    assert window.scoring.mode.isEnabled() and "— anogan," in window.scoring.models.currentText()
    batches = []
    window.session.scores_changed.connect(batches.append)
    _score(qtbot, window, "hybrid")
    assert not messages
    scores = window.session.scores
    assert len(scores) >= 8 and batches
    listed = window.slice_list.proxy.slices_in_order()
    assert listed == sorted(scores, key=lambda k: (-scores[k].relative, k))
    shown = [float(window.slice_list.proxy.index(r, RELATIVE).data()) for r in range(len(listed))]
    assert shown == sorted(shown, reverse=True)
    stored = open_workspace(tmp_path / "workspace.sqlite").run_scores(window.session.run_id)
    assert {row.index: round(row.score, 5) for row in stored} == \
        {k: round(s.score, 5) for k, s in scores.items()}
    # the top slice shows its heatmap and red boxes round its regions above the threshold (none if none)
    top = listed[0]
    window.session.set_current(top)
    assert window.view.heat_item.isVisible() and window.view.heat_item.image.shape == (64, 64)
    from ctreview.gui.overlays import hot_boxes

    assert window.view.hot_spots == hot_boxes(window.session.heatmap(top), window.session.threshold)
    assert window.view.hot_boxes.path().isEmpty() == (not window.view.hot_spots)
    assert window.scoring.progress.value() == window.scoring.progress.maximum()
    assert not window.scoring.running
    # Ctrl+E: the report is written by a worker to the file chosen in the save dialog
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog

    target = tmp_path / "out" / "report.pdf"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "PDF report (*.pdf)")))
    with qtbot.waitSignal(window.runner.finished, timeout=60000,
                          check_params_cb=lambda name: name == "export"):
        qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert not messages
    assert target.read_bytes()[:4] == b"%PDF" and target.with_suffix(".csv").is_file()
    assert window._export_dialog is None  # the progress dialog closed itself


def test_cancel_keeps_partial_scores_and_the_session(qtbot, window, phantom_file, tiny_model, messages):
    _open_with_model(qtbot, window, phantom_file, tiny_model)
    window.start_scoring(window.scoring.model_path(), "anogan")  # the slow mode
    qtbot.waitUntil(lambda: window.session.run_id is not None, timeout=30000)
    worker = window.runner.worker("score")
    with qtbot.waitSignal(worker.finished, timeout=5000):
        window.scoring.run_button.click()  # the button reads "Cancel" while running
    assert not window.scoring.running and window.scoring.run_button.text() == "Score"
    assert not messages
    assert window.session.volume is not None
    window.session.set_current(3)  # the window still works
    window.decide("accept")
    assert window.session.status(3) == "accept"


def test_close_during_a_run_stops_it_cleanly(qtbot, window, phantom_file, tiny_model, messages):
    _open_with_model(qtbot, window, phantom_file, tiny_model)
    window.start_scoring(window.scoring.model_path(), "anogan")
    qtbot.waitUntil(lambda: window.session.run_id is not None, timeout=30000)
    window.close()  # asks first (the messages fixture answers Yes)
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=5000)
    assert [(kind, title) for kind, title, _ in messages] == [("question", "Scoring is running")]
    assert not window.runner.is_running("score")


@pytest.mark.slow
def test_demo_flow_flags_the_top_slice_and_saves_a_screenshot(qtbot, tmp_path, tiny_model, messages):
    from ctreview.cli.demo_cmd import demo_volume
    from ctreview.gui.app import create_window
    from ctreview.gui.capture import capture_after_scoring

    path = demo_volume("transformer", seed=5, size=64, slices=12)
    assert path.is_file() and demo_volume("transformer", seed=5, size=64, slices=12) == path
    win = create_window(path, model=tiny_model, workspace=tmp_path / "demo.sqlite", autoscore=True)
    qtbot.addWidget(win)
    shot = tmp_path / "shot.png"
    saved = []
    capture_after_scoring(win, shot, done=lambda: saved.append(True))
    qtbot.waitUntil(lambda: bool(saved), timeout=90000)
    assert not messages
    top = win.slice_list.proxy.slices_in_order()[0]
    assert win.session.status(top) == "flag" and win.session.current == top
    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert image.width() > 600 and image.height() > 400
    win.close()


def test_a_run_from_the_window_and_one_from_the_cli_store_identical_settings(qtbot, window, phantom_file,
                                                                             tiny_model, tmp_path, messages):
    from ctreview.cli import main

    _open_with_model(qtbot, window, phantom_file, tiny_model)
    _score(qtbot, window, "fast")
    gui_run = window.session.run_id
    window.close()
    workspace = tmp_path / "workspace.sqlite"
    assert main(["score", str(phantom_file), "--model", str(tiny_model), "--workspace", str(workspace),
                 "--mode", "fast", "--device", "cpu"]) == 0
    with open_workspace(workspace) as ws:
        volume_id = ws.run_info(gui_run)["volume_id"]
        cli_run = ws.latest_run(volume_id)
        assert cli_run != gui_run
        gui, cli = ws.run_info(gui_run), ws.run_info(cli_run)
    assert gui["settings"] == cli["settings"]
    assert gui["settings"]["mode"] == "fast" and gui["settings"]["profile"] == "whole-part"
    assert gui["summary"]["settings"] == cli["summary"]["settings"] == cli["settings"]


def test_a_fine_scan_is_scored_binned_and_shown_at_full_size(qtbot, window, tiny_data, tiny_detector,
                                                            tmp_path, messages):
    import numpy as np
    import tifffile

    from ctreview.io import open_volume

    small = open_volume(tiny_data / "transformer_defect_000.tif")
    arr = small.read(0, small.shape[0])
    fine = tmp_path / "transformer_fine.tif"
    tifffile.imwrite(fine, np.repeat(np.repeat(np.repeat(arr, 2, axis=0), 2, axis=1), 2, axis=2))
    _open_with_model(qtbot, window, fine, tiny_detector)
    _score(qtbot, window, "fast")
    assert not messages
    assert "scored binned 2x2x2" in window.statusBar().currentMessage()
    top = window.slice_list.proxy.slices_in_order()[0]
    window.session.set_current(top)
    assert window.view.heat_item.image.shape == (192, 192)


def test_the_map_box_shows_one_scorers_own_map(qtbot, window, phantom_file, tiny_detector, messages):
    import numpy as np

    _open_with_model(qtbot, window, phantom_file, tiny_detector)
    assert not window.map_box.isEnabled()
    assert not window.scoring.mode.isEnabled()  # a fused model has no AnoGAN modes
    assert "— fused," in window.scoring.models.currentText()
    _score(qtbot, window, "fast")
    assert not messages
    box = window.map_box
    assert [box.itemText(i) for i in range(box.count())] == ["fused", "features", "head"] and box.isEnabled()
    top = window.slice_list.proxy.slices_in_order()[0]
    window.session.set_current(top)
    fused = np.array(window.view.heat_item.image)
    box.setCurrentText("head")
    assert window.session.shown_map == "head"
    head = np.array(window.view.heat_item.image)
    np.testing.assert_array_equal(head, window.session.scorer_maps["head"].get(top))
    assert not np.array_equal(head, fused)
    box.setCurrentText("fused")
    np.testing.assert_array_equal(np.array(window.view.heat_item.image), fused)
