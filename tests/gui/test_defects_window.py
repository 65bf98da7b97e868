"""Defects in the window: the Defects dock, stepping and deciding defects, three planes, ruler, colours."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from ctreview.results import SliceResult
from ctreview.review import open_workspace
from tests.gui.gui_helpers import open_and_wait

BLOB = (slice(5, 9), slice(20, 30), slice(30, 40))  # slices 5-8 of the 16 x 64 x 64 phantom


def _heat(k: int) -> np.ndarray:
    heat = np.zeros((64, 64), np.float32)
    if 5 <= k < 9:
        heat[BLOB[1], BLOB[2]] = 2.0
    return heat


def _scored_run(workspace_path, volume_path) -> int:
    """Store a finished run whose heatmaps hold one blob, as an older ctreview did (no defects stored)."""
    from ctreview.io import open_volume

    with open_workspace(workspace_path) as ws, open_volume(volume_path) as volume:
        run = ws.start_run(ws.add_volume(volume), None, "fast", {}, "cpu")
        results = [SliceResult(k, float(_heat(k).max()), float(_heat(k).max()), (16, 16, 48, 48),
                               [(4, 4, 60, 60)], _heat(k)) for k in range(16)]
        ws.add_results(run, results)
        ws.finish_run(run, {})
    return run


def _open_scored(qtbot, window, phantom_file, tmp_path):
    run = _scored_run(tmp_path / "workspace.sqlite", phantom_file)
    open_and_wait(qtbot, window, phantom_file)
    qtbot.waitUntil(lambda: window.defect_store.final and window.defect_store.run_id == run, timeout=20000)
    return run


def _red_pixels(widget) -> int:
    image = widget.grab().toImage()
    count = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            c = image.pixelColor(x, y)
            count += c.red() > 150 and c.green() < 110 and c.blue() < 110
    return count


def test_a_reopened_scored_volume_lists_its_defect_and_d_jumps_to_it(qtbot, window, phantom_file, tmp_path,
                                                                      messages):
    run = _open_scored(qtbot, window, phantom_file, tmp_path)
    (defect,) = window.defect_store.defects
    assert defect.box == (5, 9, 20, 30, 30, 40) and defect.voxels == 400
    assert open_workspace(tmp_path / "workspace.sqlite").run_defects(run) == [defect]  # found once, kept
    panel = window.defects_panel
    assert panel.proxy.rowCount() == 1 and "1 defect above the threshold" in panel.status.text()
    row = [panel.proxy.index(0, c).data() for c in range(panel.proxy.columnCount())]
    assert row[:3] == ["1", "1", "5–8"] and row[3].count(",") == 2 and row[-1] == ""
    window.session.set_current(0)
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert window.defect_store.current == 1 and window.session.current == defect.peak_slice == 5
    assert (window.cursor.y, window.cursor.x) == (20, 30)
    (x0, x1), (y0, y1) = window.view.viewbox.viewRange()
    assert x0 < 35 < x1 and y0 < 25 < y1  # the defect is in view
    assert not messages


def test_deciding_a_defect_records_it_on_each_of_its_slices_and_undo_takes_it_back(qtbot, window, phantom_file,
                                                                                    tmp_path):
    _open_scored(qtbot, window, phantom_file, tmp_path)
    window.step_defect(1)
    window.decision_bar.note.setText("void near the pin")
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)
    session = window.session
    for k in range(5, 9):
        assert session.status(k) == "flag"
        assert session.decisions[k]["note"] == "defect 1: void near the pin"
    assert session.status(4) == "" and session.status(9) == ""
    stored = open_workspace(tmp_path / "workspace.sqlite").decisions(session.volume_id)
    assert sorted(stored) == [5, 6, 7, 8] and {r["status"] for r in stored.values()} == {"flag"}
    assert window.defects_panel.proxy.index(0, 7).data() == "flagged"
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert all(session.status(k) == "" for k in range(5, 9))  # one undo for the whole defect
    assert window.defects_panel.proxy.index(0, 7).data() == ""


def test_three_planes_show_the_heatmap_in_each_plane(qtbot, window, phantom_file, tmp_path):
    _open_scored(qtbot, window, phantom_file, tmp_path)
    window.layer_actions["outline"].setChecked(False)
    window.layer_actions["boxes"].setChecked(False)  # only the heatmap is red
    window.resize(1500, 950)
    qtbot.keyClick(window, Qt.Key.Key_O)
    assert window.ortho.isVisible() and window.three_planes_action.isChecked()
    window.step_defect(1)  # crosshair on the defect: the planes go through it
    planes = window.ortho.planes
    qtbot.waitUntil(lambda: all(p.heat_item.isVisible() for p in planes), timeout=20000)
    qtbot.waitUntil(lambda: not window.runner.is_running("planes"), timeout=20000)
    for plane in planes:
        assert plane.image.any() and plane.heat[5:9].max() == pytest.approx(2.0, abs=0.02)
        assert not plane.heat[:5].any() and not plane.heat[9:].any()
        assert _red_pixels(plane.canvas) > 20
    assert _red_pixels(window.view.canvas) > 20
    window.layer_actions["heatmap"].setChecked(False)  # H hides it in every plane
    assert all(not p.heat_item.isVisible() for p in planes) and _red_pixels(planes[0].canvas) == 0
    # a click in the XZ plane moves the axial slice and the crosshair's column
    window.layer_actions["heatmap"].setChecked(True)
    xz = planes[0]
    point = xz.viewbox.mapViewToScene(QPointF(12.5, 10.5))
    qtbot.mouseClick(xz.canvas.viewport(), Qt.MouseButton.LeftButton, pos=xz.canvas.mapFromScene(point))
    assert window.session.current == 10 and window.cursor.x == 12


def test_anisotropic_voxels_look_right_and_the_ruler_measures_mm(qtbot, window, tmp_path):
    from ctreview.io import write_tiff

    data = np.random.default_rng(0).integers(0, 1000, (20, 40, 60)).astype(np.uint16)
    path = write_tiff(tmp_path / "thick.tif", data, spacing=(0.4, 0.1, 0.05))
    window.set_three_planes(True)
    open_and_wait(qtbot, window, path)
    xz, yz = window.ortho.planes
    qtbot.waitUntil(lambda: xz.image.any() and yz.image.any(), timeout=20000)
    for plane, cols, col_mm in ((xz, 60, 0.05), (yz, 40, 0.1)):
        plane.viewbox.autoRange(padding=0)
        top_left = plane.viewbox.mapViewToScene(QPointF(0, 0))
        bottom_right = plane.viewbox.mapViewToScene(
            QPointF(cols, 20))
        shown = (bottom_right.y() - top_left.y()) / (bottom_right.x() - top_left.x())
        assert shown == pytest.approx(20 * 0.4 / (cols * col_mm), rel=0.02)  # as tall as in mm
    assert window.view.viewbox.state["aspectLocked"] == pytest.approx(0.05 / 0.1)
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert all(r.active for r in window._rulers())
    length = xz.ruler.measure(2, 10, 6, 13)  # rows are slices 0.4 mm apart, columns 0.05 mm
    assert length == pytest.approx(math.hypot(4 * 0.4, 3 * 0.05))
    assert xz.ruler.label.isVisible() and xz.ruler.text == f"{length:.2f} mm"
    assert f"{length:.2f} mm" in window.statusBar().currentMessage()
    # a real drag on the axial view measures there (y spacing 0.1, x 0.05)
    view = window.view
    a = view.canvas.mapFromScene(view.viewbox.mapViewToScene(QPointF(10, 10)))
    b = view.canvas.mapFromScene(view.viewbox.mapViewToScene(QPointF(30, 20)))
    viewport = view.canvas.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=a)
    for t in np.linspace(0, 1, 6)[1:]:
        qtbot.mouseMove(viewport, QPoint(int(a.x() + t * (b.x() - a.x())), int(a.y() + t * (b.y() - a.y()))))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=b)
    assert view.ruler.length_mm == pytest.approx(math.hypot(10 * 0.1, 20 * 0.05), rel=0.1)
    window.clear_rulers()
    assert not xz.ruler.label.isVisible() and view.ruler.text == ""


def test_layout_colours_and_opacity_are_remembered_per_user(qtbot, tmp_path, messages):
    from ctreview.gui.app import create_window

    first = create_window(workspace=tmp_path / "ws.sqlite")
    qtbot.addWidget(first)
    first.cmap_box.setCurrentText("viridis")
    first.opacity.setValue(40)
    first.set_three_planes(True)
    assert first.view.heat_cmap == "viridis" and first.ortho.heat_cmap == "viridis"
    first.close()
    second = create_window(workspace=tmp_path / "ws.sqlite")
    qtbot.addWidget(second)
    assert second.cmap_box.currentText() == "viridis" and second.view.heat_cmap == "viridis"
    assert second.three_planes_action.isChecked() and second.ortho.isVisible()
    assert second.opacity.value() == 40 and second.ortho.heat_opacity == pytest.approx(0.4)
    second.close()


def test_scoring_shows_provisional_then_final_defects_as_the_workspace_stores_them(qtbot, window, phantom_file,
                                                                                   tiny_model, messages):
    window._model_hint = str(tiny_model)
    window.refresh_models()
    open_and_wait(qtbot, window, phantom_file)
    seen = []
    window.defect_store.changed.connect(lambda: seen.append(window.defect_store.final))
    with qtbot.waitSignal(window.runner.finished, timeout=90000, check_params_cb=lambda n: n == "score"):
        window.start_scoring(window.scoring.model_path(), "fast")
    qtbot.waitUntil(lambda: window.defect_store.final, timeout=20000)
    assert seen[0] is False and seen[-1] is True  # provisional while it ran, final at the end
    run = window.session.run_id
    assert window.defect_store.run_id == run
    assert open_workspace(window.session.workspace.path).run_defects(run) == window.defect_store.defects
    assert not messages


def test_a_cancelled_run_still_ends_with_a_final_defect_list(qtbot, window, phantom_file, tiny_model, messages):
    window._model_hint = str(tiny_model)
    window.refresh_models()
    open_and_wait(qtbot, window, phantom_file)
    window.start_scoring(window.scoring.model_path(), "anogan")  # the slow mode
    qtbot.waitUntil(lambda: bool(window.session.scores), timeout=60000)
    run = window.session.run_id
    assert not window.defect_store.final
    window.cancel_scoring()
    qtbot.waitUntil(lambda: window.defect_store.final, timeout=20000)
    assert window.defect_store.run_id == run
    assert open_workspace(window.session.workspace.path).run_defects(run) == window.defect_store.defects
    assert not messages


def test_a_scoring_that_ends_while_the_window_closes_loads_nothing(qtbot, window, phantom_file, tmp_path, messages):
    """The scoring watch fires after the runner shut down (closing window): no task, no error, no message."""
    from ctreview.defects import DefectTracker

    _open_scored(qtbot, window, phantom_file, tmp_path)
    volume = window.session.volume
    window._tracker = DefectTracker(volume.shape, volume.spacing, origin=volume.origin)
    window.runner.shutdown()
    window._watch_scoring()  # the timer's tick after the last batch
    window.load_defects()
    assert window._tracker is not None and not window._score_watch.isActive()
    assert not window.runner.is_running("defects") and not messages
