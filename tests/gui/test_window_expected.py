"""E shows the slice the model expected (the AnoGAN's reconstruction) in place of the scan, and back."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from tests.gui.gui_helpers import open_and_wait


def _scored_top_slice(qtbot, window, tiny_data, model) -> int:
    """Score a defective phantom with ``model`` in the window; show its top slice and return it."""
    window._model_hint = str(model)
    window.refresh_models()
    open_and_wait(qtbot, window, tiny_data / "transformer_defect_000.tif")
    with qtbot.waitSignal(window.runner.finished, timeout=120000, check_params_cb=lambda name: name == "score"):
        window.start_scoring(window.scoring.model_path(), "fast")
    k = max(window.session.scores, key=lambda i: window.session.scores[i].relative)
    window.session.set_current(k)
    return k


def test_e_swaps_the_scan_for_the_expected_slice_inside_the_roi(qtbot, window, tiny_data, tiny_anogan_detector):
    k = _scored_top_slice(qtbot, window, tiny_data, tiny_anogan_detector)
    scan = np.asarray(window.view.image_item.image, np.float32).copy()
    expected = window.session.expected(k)
    assert expected is not None and (expected != 0).any()

    qtbot.keyClick(window, Qt.Key.Key_E)
    assert window.layer_actions["expected"].isChecked()
    shown = np.asarray(window.view.image_item.image, np.float32)
    inside = expected != 0
    np.testing.assert_allclose(shown[inside], expected[inside], rtol=1e-5)
    np.testing.assert_array_equal(shown[~inside], scan[~inside])  # the scan around the ROI
    assert "EXPECTED" in window.view.slice_label.text()

    qtbot.keyClick(window, Qt.Key.Key_E)
    np.testing.assert_array_equal(np.asarray(window.view.image_item.image, np.float32), scan)
    assert "EXPECTED" not in window.view.slice_label.text()


def test_e_shows_the_expected_slices_in_the_three_planes_too(qtbot, window, tiny_data, tiny_anogan_detector):
    k = _scored_top_slice(qtbot, window, tiny_data, tiny_anogan_detector)
    expected = window.session.expected(k)
    ys, xs = np.nonzero(expected)
    window.ortho.cursor.set(int(ys[len(ys) // 2]), int(xs[len(xs) // 2]))  # the crosshair inside the drawn part
    qtbot.keyClick(window, Qt.Key.Key_O)
    qtbot.keyClick(window, Qt.Key.Key_E)
    assert window.ortho.show_expected
    y, x = window.ortho.cursor.y, window.ortho.cursor.x
    xz, yz = window.ortho.planes
    stored = window.session.workspace.expected(window.session.run_id, k)  # the planes read the workspace's copy
    row, column = stored[y], stored[:, x]
    drawn = row != 0
    assert drawn.any() and (column != 0).any()
    want = row[drawn].astype(xz.image.dtype)  # the plane keeps the scan's dtype
    qtbot.waitUntil(lambda: np.array_equal(xz.image[k][drawn], want), timeout=20000)
    qtbot.waitUntil(lambda: np.array_equal(yz.image[k][column != 0], column[column != 0].astype(yz.image.dtype)),
                    timeout=20000)
    qtbot.keyClick(window, Qt.Key.Key_E)  # and back to the scan
    scan = window.session.volume.slice(k)
    qtbot.waitUntil(lambda: np.array_equal(xz.image[k], scan[y]), timeout=20000)
