"""The window as a new user meets it: stacks of slices, per-volume state, warnings, the domain banner."""
from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ctreview.io import write_tiff
from ctreview.phantom import make_phantom
from tests.gui.gui_helpers import open_and_wait


def _stack(folder, n=10, size=(40, 48)):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(2)
    for k in range(n):
        tifffile.imwrite(folder / f"im{k + 1:03d}.tif", rng.integers(0, 255, size, dtype=np.uint8))
    return folder


def _score(qtbot, window, mode="fast"):
    with qtbot.waitSignal(window.runner.finished, timeout=90000, check_params_cb=lambda n: n == "score"):
        window.start_scoring(window.scoring.model_path(), mode)


def _open_again(qtbot, window, path):
    """Open ``path`` while another volume is open; wait until it is shown and registered."""
    old = window.session.volume_id
    window.open_path(path)
    qtbot.waitUntil(lambda: window.session.volume is not None and window.session.volume.path == path
                    and window.session.volume_id is not None and window.session.volume_id != old, timeout=20000)


def _with_model(window, model):
    window._model_hint = str(model)
    window.refresh_models()
    assert window.scoring.model_path() == str(model)


def test_open_folder_opens_the_whole_stack(qtbot, window, tmp_path, monkeypatch):
    folder = _stack(tmp_path / "cell_vol")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder)))
    window.open_folder_dialog()
    qtbot.waitUntil(lambda: window.session.volume_id is not None, timeout=20000)
    assert window.session.volume.shape == (10, 40, 48)


def test_picking_one_slice_of_a_stack_asks_to_open_the_stack(qtbot, window, tmp_path, monkeypatch, messages):
    folder = _stack(tmp_path / "cell_vol")
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(folder / "im004.tif"), "")))
    window.open_dialog()  # the messages fixture answers Yes
    assert messages[0][0] == "question" and "whole stack of 10 slices" in messages[0][2]
    qtbot.waitUntil(lambda: window.session.volume_id is not None, timeout=20000)
    assert window.session.volume.shape[0] == 10
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.No))
    assert window.whole_stack_of(folder / "im004.tif") == folder / "im004.tif"


def test_load_warnings_show_in_the_window(qtbot, window, tmp_path):
    path = tmp_path / "nospacing.tif"
    tifffile.imwrite(path, make_phantom("transformer", size=64, slices=16, seed=3).volume, photometric="minisblack")
    open_and_wait(qtbot, window, path)
    button = window.warnings_button
    assert button.isVisible() and button.text() == "⚠ 1 warning"
    assert "no voxel spacing" in button.warnings[0]
    assert "no voxel spacing" in window.statusBar().currentMessage()


def test_opening_another_volume_resets_every_piece_of_its_state(qtbot, window, phantom_file, tiny_model,
                                                                tmp_path):
    _with_model(window, tiny_model)
    open_and_wait(qtbot, window, phantom_file)
    _score(qtbot, window)
    window.view.readout.setText("z 3  y 4  x 5   |   value 1000")
    assert "slices in" in window.scoring.rate.text() and window.scoring.progress.format()
    assert window.domain_banner.isVisible()  # a 64-px phantom for a model trained on 96-px ones
    other = tmp_path / "other.tif"
    tifffile.imwrite(other, make_phantom("transformer", size=96, slices=24, seed=40).volume,
                     photometric="minisblack")
    _open_again(qtbot, window, other)
    assert window.scoring.rate.text() == "" and window.scoring.progress.format() == ""
    assert window.view.readout.text() == " "
    assert not window.domain_banner.isVisible()
    assert window.warnings_button.warnings == ["no voxel spacing in the file: using 1.0 mm"]
    assert window.session.scores == {}
    qtbot.waitUntil(lambda: str(tiny_model) in window._fits, timeout=60000)
    assert not window.domain_banner.isVisible()  # the model's own part at its own size fits


def test_a_failed_open_leaves_no_stale_opening_message(qtbot, window, tmp_path, messages):
    bad = tmp_path / "text.tif"
    bad.write_text("not a tiff")
    window.open_path(bad)
    qtbot.waitUntil(lambda: bool(messages), timeout=10000)
    assert "Opening" not in window.statusBar().currentMessage()
    assert "Could not open text.tif" in window.statusBar().currentMessage()


def test_cancel_leaves_no_throughput_or_time_left(qtbot, window, phantom_file, tiny_model):
    _with_model(window, tiny_model)
    open_and_wait(qtbot, window, phantom_file)
    window.start_scoring(window.scoring.model_path(), "anogan")
    qtbot.waitUntil(lambda: window.session.run_id is not None, timeout=30000)
    window.cancel_scoring()
    assert window.scoring.rate.text().startswith("cancelled after")
    assert "s left" not in window.scoring.rate.text()


def test_the_banner_flags_another_part_and_the_model_box_offers_one_that_fits(qtbot, window, tiny_model,
                                                                              tmp_path):
    """The bundled models carry fingerprints: a 128-px capacitor fits demo-capacitor, not the tiny model."""
    from ctreview.model import bundled_model_path

    p = make_phantom("capacitor", size=128, slices=64, seed=2001)
    path = write_tiff(tmp_path / "capacitor.tif", p.volume, spacing=p.spacing)
    _with_model(window, tiny_model)
    open_and_wait(qtbot, window, path)
    qtbot.waitUntil(lambda: bool(window._fits), timeout=60000)
    banner = window.domain_banner
    assert banner.isVisible() and "not trained for this volume" in banner.text.text()
    capacitor = str(bundled_model_path("capacitor"))
    assert window.scoring.suggestion.isVisible() and "demo-capacitor" in window.scoring.suggestion.text()
    window.scoring.suggestion.click()
    assert window.scoring.model_path() == capacitor
    assert not banner.isVisible()  # the chosen model knows capacitors of this size
    shot = tmp_path / "banner.png"
    window.grab().save(str(shot))


def test_the_model_box_shows_the_model_of_the_shown_scores(qtbot, window, phantom_file, tiny_model):
    from ctreview.model import bundled_model_path

    _with_model(window, tiny_model)
    open_and_wait(qtbot, window, phantom_file)
    _score(qtbot, window)
    window.scoring.select_model(str(bundled_model_path("transformer")))
    open_and_wait(qtbot, window, phantom_file)  # the same volume again: its stored run is shown
    qtbot.waitUntil(lambda: window.scoring.model_path() == str(tiny_model), timeout=20000)


def test_window_level_can_be_typed_and_a_drag_says_manual(qtbot, window, phantom_file):
    open_and_wait(qtbot, window, phantom_file)
    box = window.levels_box
    assert box.preset.currentText().startswith("Auto")
    box.width_box.setValue(1000.0)
    box.level_box.setValue(3000.0)
    assert window.view.levels() == pytest.approx((2500.0, 3500.0))
    assert box.preset.currentText() == "Manual"
    box.preset.setCurrentText("Full range")
    lo, hi = window.view.levels()
    assert box.width_box.value() == pytest.approx(hi - lo, rel=1e-3)
    window.view.drag_window(10.0, 5.0)
    assert box.preset.currentText() == "Manual"


def test_a_remembered_invisible_heatmap_is_reset_with_a_note(qtbot, tmp_path, messages):
    from ctreview.gui import settings as settings_mod
    from ctreview.gui.app import create_window

    store = settings_mod.app_settings()
    store.setValue("heat_opacity", 0)
    store.sync()
    win = create_window(workspace=tmp_path / "ws.sqlite")
    qtbot.addWidget(win)
    assert win.opacity.value() == 70 and win.view.heat_opacity == pytest.approx(0.7)
    qtbot.waitUntil(lambda: "opacity was 0 %" in win.statusBar().currentMessage(), timeout=10000)
    win.close()
