"""The window explains itself: toolbars that fit 1366 px, a legend, tight hot-spot boxes, number formats,
honest time estimates and a help page on the scores."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QToolBar, QToolButton

from ctreview.results import SliceResult
from tests.gui.gui_helpers import open_and_wait


def _hidden_controls(window) -> list[str]:
    """Toolbar controls a user cannot see: pushed into a "»" extension menu, or not shown."""
    hidden = []
    for bar in window.findChildren(QToolBar):
        extension = bar.findChild(QToolButton, "qt_toolbar_ext_button")
        if extension is not None and extension.isVisible():
            hidden.append(f"{bar.objectName()}: extension button shown")
        for action in bar.actions():
            widget = bar.widgetForAction(action)
            if action.isVisible() and widget is not None and not widget.isVisible():
                hidden.append(f"{bar.objectName()}: {action.text() or type(widget).__name__}")
    return hidden


def test_every_toolbar_control_shows_at_1366_by_768_even_while_scoring(qtbot, window):
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.width() == 1366)
    qtbot.waitUntil(lambda: not _hidden_controls(window), timeout=5000)
    bars = {bar.objectName() for bar in window.findChildren(QToolBar)}
    assert {"scoring_toolbar", "tools_toolbar", "view_toolbar"} <= bars
    assert len([a for b in window.findChildren(QToolBar) for a in b.actions() if a.isVisible()]) >= 15
    # the widest the controls get: a progress readout and a model offered for the volume
    window.scoring.rate.setText("123.4 slices/s, 1234 s left")
    window.scoring.suggest(str(window.scoring.model_path() or "x"), "demo-capacitor")
    qtbot.waitUntil(lambda: not _hidden_controls(window), timeout=5000)
    assert window.width() == 1366


def test_an_older_saved_layout_is_not_restored(qtbot, tmp_path, messages):
    from PySide6.QtWidgets import QMainWindow

    from ctreview.gui import settings as settings_mod
    from ctreview.gui.app import create_window

    old = QMainWindow()  # a layout saved before the toolbars were regrouped (version 0)
    store = settings_mod.app_settings()
    store.setValue("window_state", old.saveState())
    store.sync()
    win = create_window(workspace=tmp_path / "ws.sqlite")
    qtbot.addWidget(win)
    win.resize(1366, 768)
    qtbot.waitUntil(lambda: not _hidden_controls(win), timeout=5000)
    win.close()


def _scored(window, relative: float = 2.0) -> SliceResult:
    """A slice result of the open 64 x 64 phantom: one hot spot at rows 10-19, columns 12-17."""
    heat = np.zeros((64, 64), np.float32)
    heat[10:20, 12:18] = relative
    heat[40:44, 40:44] = 0.6  # warm but under the threshold: no box
    k = window.session.current
    return SliceResult(k, relative, relative, (0, 0, 32, 32), [(4, 4, 60, 60)], heat)


def test_the_red_box_is_tight_to_the_hot_spot_and_goes_with_the_heatmap(qtbot, window, phantom_file):
    open_and_wait(qtbot, window, phantom_file)
    window.session.add_results([_scored(window)])
    view = window.view
    assert view.hot_spots == [(10, 12, 20, 18)]  # the region above 1.0, not the 32-pixel tile
    assert not view.hot_boxes.path().isEmpty()
    window.layer_actions["heatmap"].setChecked(False)  # H: heatmap off
    assert view.hot_spots == [] and view.hot_boxes.path().isEmpty()
    window.layer_actions["heatmap"].setChecked(True)
    window.session.set_threshold(2.5)  # the analyst drags the threshold above the spot
    assert view.hot_spots == []


def test_the_legend_names_every_overlay_in_the_colours_the_view_draws(qtbot, window, phantom_file):
    from ctreview.gui.overlays import OVERLAYS

    open_and_wait(qtbot, window, phantom_file)
    window.session.add_results([_scored(window)])
    legend = window.show_legend()
    qtbot.addWidget(legend)
    assert legend.isVisible()
    texts = {name: label.text() for name, label in legend.rows.items()}
    assert set(texts) >= {"hot", "outline", "boxes", "tiles", "crosshair", "ruler"}
    assert "red" in texts["hot"] and "cyan" in texts["outline"] and "orange" in texts["boxes"]
    view = window.view
    for name, item in (("hot", view.hot_boxes), ("outline", view.outline), ("boxes", view.roi_boxes)):
        assert item.pen().color().name() == OVERLAYS[name].colour
    assert "full colour at 2.00" in legend.heat_text.text()
    window.heat_cut.setValue(50)
    assert "Transparent below 1.00" in legend.heat_text.text()
    assert legend.heat_bar.pixmap() is not None and not legend.heat_bar.pixmap().isNull()
    assert [a for a in window.menuBar().actions() if a.text() == "&Help"][0].menu() is not None


def test_title_names_the_file_then_the_app_once(qtbot, window, phantom_file):
    open_and_wait(qtbot, window, phantom_file)
    title = window.windowTitle()
    assert title == f"{phantom_file.name} — ctreview" and title.count("ctreview") == 1


def test_window_width_and_level_show_significant_digits(qtbot, window, phantom_file):
    from ctreview.gui.levels import grey_value

    open_and_wait(qtbot, window, phantom_file)
    window.view.set_window(12458.96, 30000.7)
    box = window.levels_box
    assert box.width_box.text() == "12459" and box.level_box.text() == "30001"
    assert box.width_box.value() == pytest.approx(12458.96)  # shown short, kept exact
    assert [grey_value(v) for v in (0.012345, 3.0, -250.26, 0.0)] == ["0.01235", "3", "-250.3", "0"]


def test_a_huge_defect_volume_fits_its_column_with_the_full_value_in_a_tooltip(qtbot, window, phantom_file):
    from PySide6.QtCore import Qt

    from ctreview.defects import find_defects
    from ctreview.gui.defects_panel import VOLUME, amount

    assert [amount(v) for v in (35_125_000.0, 12_345.0, 3.14159)] == ["3.51e+07", "12,345", "3.14"]
    open_and_wait(qtbot, window, phantom_file)
    heat = np.zeros((16, 64, 64), np.float32)
    heat[0:10, 10:40, 10:40] = 2.0
    (defect,) = find_defects(heat, spacing=(4.0, 4.0, 4.0))  # 9000 voxels of 64 mm³
    window.defect_store.set_defects(1, [defect], final=True)
    panel = window.defects_panel
    index = panel.proxy.index(0, VOLUME)
    shown = panel.proxy.data(index, Qt.ItemDataRole.DisplayRole)
    assert shown == "5.76e+05"
    assert panel.proxy.data(index, Qt.ItemDataRole.ToolTipRole) == "576,000.00 mm³"
    metrics = panel.table.fontMetrics()
    assert metrics.horizontalAdvance(shown) + 8 <= panel.table.columnWidth(VOLUME)


def test_no_time_is_estimated_before_the_first_batch_is_done(qtbot):
    from ctreview.gui.scoring_panel import ScoringPanel, time_left_text

    # warm-up of 20 s for the first 8 slices, then 10 slices/s: 100 slices left take 10 s, not 250 s
    assert time_left_text(8, 108, None, 20.0) == "estimating time…"
    assert time_left_text(8, 108, (20.0, 8), 20.0) == "estimating time…"
    assert time_left_text(28, 108, (20.0, 8), 22.0) == "10.0 slices/s, 8 s left"
    panel = ScoringPanel()
    qtbot.addWidget(panel)
    panel.set_running(True, 40)
    panel.set_total(40)
    panel.add_done(list(range(8)))
    panel._show_progress()
    assert panel.rate.text() == "estimating time…" and panel.progress.value() == 8
    qtbot.waitUntil(lambda: not panel._show_timer.isActive())
    panel.add_done(list(range(8, 16)))
    panel._show_progress()
    assert panel.rate.text().endswith(" s left")


def test_help_explains_how_to_read_the_scores(qtbot, window):
    from PySide6.QtCore import Qt

    from ctreview.gui.help_pages import ScoresHelpDialog
    from ctreview.gui.ranked_model import RELATIVE

    help_menu = [a for a in window.menuBar().actions() if a.text() == "&Help"][0].menu()
    names = [a.text() for a in help_menu.actions()]
    assert "How to read the &scores" in names and "&Keyboard help" in names
    keys = [a for a in help_menu.actions() if a.text() == "&Keyboard help"][0].shortcut().toString()
    assert keys == "F1"
    tip = window.slice_list.proxy.headerData(RELATIVE, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert "1.0 = the level only 1 % of held-out normal slices exceed" in tip
    dialog = ScoresHelpDialog(window)
    qtbot.addWidget(dialog)
    text = dialog.page.toPlainText()
    for needed in ("Relative", "1.0 is the threshold", "1 % of those normal slices", "heatmap", "A defect",
                   "Accept", "Flag", "Unsure", "reaches 1 somewhere"):
        assert needed in text, needed
