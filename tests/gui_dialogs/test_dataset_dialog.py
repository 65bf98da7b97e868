"""The Training sets dialog lists reviewed volumes, exports in a worker, shows and prunes the set."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt


def _reviewed(base: Path):
    # the builder lives beside the dataset tests; load it by path (tests are not a package)
    path = Path(__file__).parents[1] / "dataset" / "reviewed_data.py"
    spec = importlib.util.spec_from_file_location("ctreview_reviewed_data", path)
    module = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    return module.reviewed_session(base)


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    return _reviewed(tmp_path_factory.getbasetemp())


@pytest.fixture
def dialog(qtbot, reviewed):
    from ctreview.gui.dataset_dialog import DatasetDialog
    from ctreview.review import open_workspace

    ws = open_workspace(reviewed.workspace)
    dlg = DatasetDialog(None, ws)
    qtbot.addWidget(dlg)
    yield dlg
    dlg.close()
    ws.close()


def test_lists_volumes_with_counts_and_tiles(qtbot, dialog, reviewed):
    # the workspace is read in a worker, never on the UI thread
    qtbot.waitUntil(lambda: len(dialog.volume_ids) == len(reviewed.volume_ids), timeout=30_000)
    assert sorted(dialog.volume_ids) == sorted(reviewed.volume_ids)
    for row, vid in enumerate(dialog.volume_ids):
        assert dialog.table.item(row, 1).text() == str(len(reviewed.accepted[vid]))
        refused = len(reviewed.flagged[vid]) + len(reviewed.unsure[vid])
        assert dialog.table.item(row, 2).text() == str(refused)
    # tile counts arrive from the preview worker
    qtbot.waitUntil(lambda: all(dialog.table.item(r, 4).text().isdigit()
                                for r in range(dialog.table.rowCount())), timeout=60_000)
    assert all(int(dialog.table.item(r, 4).text()) > 0 for r in range(dialog.table.rowCount()))


def test_exports_in_a_worker_then_browses_and_prunes(qtbot, dialog, reviewed, tmp_path):
    from ctreview.dataset import load_training_tiles, read_manifest

    out = tmp_path / "set"
    dialog.folder.setText(str(out))
    qtbot.waitUntil(lambda: len(dialog.volume_ids) == len(reviewed.volume_ids), timeout=30_000)
    dialog.set_checked(reviewed.volume_ids[:1])
    with qtbot.waitSignal(dialog.exported, timeout=60_000) as blocker:
        dialog.export_button.click()
    assert blocker.args == [str(out)]
    vid = reviewed.volume_ids[0]
    expected = sorted(set(reviewed.accepted[vid]) - set(reviewed.above(vid)))
    man = read_manifest(out)
    assert sorted({t["slice"] for t in man.tiles}) == expected
    assert dialog.progress.value() == dialog.progress.maximum()
    qtbot.waitUntil(lambda: dialog.tiles.rowCount() == len(man.tiles), timeout=30_000)

    # the grid draws thumbnails only when asked for them
    assert dialog.tiles.drawn <= len(man.tiles)
    icon = dialog.tiles.data(dialog.tiles.index(3), Qt.ItemDataRole.DecorationRole)
    assert not icon.isNull()
    tip = dialog.tiles.data(dialog.tiles.index(3), Qt.ItemDataRole.ToolTipRole)
    assert f"slice {man.tiles[3]['slice']}" in tip

    before = load_training_tiles(out)
    selection = dialog.grid.selectionModel()
    for row in (0, 2):
        selection.select(dialog.tiles.index(row), QItemSelectionModel.SelectionFlag.Select)
    with qtbot.waitSignal(dialog.set_loaded, timeout=30_000):
        dialog.remove_button.click()
    after = load_training_tiles(out)
    np.testing.assert_array_equal(after, np.delete(before, [0, 2], axis=0))
    assert dialog.tiles.rowCount() == len(after)
    assert "Removed 2" in dialog.status.text()


def test_export_error_is_shown_not_raised(qtbot, dialog, tmp_path):
    (tmp_path / "other.txt").write_text("not a training set")
    dialog.folder.setText(str(tmp_path))
    qtbot.waitUntil(lambda: bool(dialog.volume_ids), timeout=30_000)
    with qtbot.waitSignal(dialog.runner.errored, timeout=30_000):
        dialog.export_button.click()
    assert "not an empty folder" in dialog.status.text()
    assert dialog.export_button.isEnabled()
