"""Desktop conventions: remembered settings, recent files, drops, damaged workspace, Tools menu."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from ctreview.gui import settings as settings_mod
from tests.gui.gui_helpers import open_and_wait


def test_settings_live_in_the_private_data_dir_and_are_remembered(qtbot, tmp_path, phantom_file, messages):
    from ctreview.gui.app import create_window

    win = create_window(workspace=tmp_path / "ws.sqlite")
    qtbot.addWidget(win)
    open_and_wait(qtbot, win, phantom_file)
    win.resize(900, 520)  # height inside the 800x600 offscreen screen
    win.opacity.setValue(35)
    win.close()
    ini = Path(os.environ["CTREVIEW_DATA_DIR"]) / "gui.ini"
    assert ini.is_file()  # tests never write the user's own settings
    again = create_window(workspace=tmp_path / "ws.sqlite")
    qtbot.addWidget(again)
    assert again.size().height() == 520 and again.opacity.value() == 35
    assert settings_mod.recent_files(again.settings)[0] == str(phantom_file.resolve())
    assert settings_mod.last_folder(again.settings) == str(phantom_file.resolve().parent)
    again._fill_recent()
    actions = [a.text() for a in again.recent_menu.actions()]
    assert actions[0] == str(phantom_file.resolve())
    again.close()


def test_dropping_a_file_opens_it(qtbot, window, phantom_file):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(phantom_file))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.session.volume_id is not None, timeout=20000)
    assert window.session.volume.path == phantom_file


def test_damaged_workspace_offers_a_fresh_one(qtbot, tmp_path, messages):
    from ctreview.gui.app import create_window

    bad = tmp_path / "ws.sqlite"
    bad.write_bytes(b"this is not a database at all" * 100)
    win = create_window(workspace=bad)
    qtbot.addWidget(win)
    assert messages and messages[0][0] == "question" and "ws.sqlite" in messages[0][2]
    assert win.session.workspace is not None  # the recorder answered Yes
    assert list(tmp_path.glob("ws.sqlite.corrupt-*"))
    win.close()


def test_tools_menu_opens_the_training_dialogs_and_refreshes_models(qtbot, window, monkeypatch):
    from ctreview.gui.dataset_dialog import DatasetDialog
    from ctreview.gui.train_dialog import TrainDialog

    opened = []
    monkeypatch.setattr(DatasetDialog, "exec", lambda self: opened.append("dataset") or 0)
    monkeypatch.setattr(TrainDialog, "exec", lambda self: opened.append("train") or 0)
    refreshed = []
    monkeypatch.setattr(type(window), "refresh_models", lambda self: refreshed.append(True))
    titles = {a.text().replace("&", ""): a for a in window.menuBar().actions()}
    tools = {a.text().replace("&", ""): a for a in titles["Tools"].menu().actions()}
    tools["Training sets…"].trigger()
    tools["Train model…"].trigger()
    assert opened == ["dataset", "train"] and refreshed == [True]


def test_missing_dialog_module_shows_a_message(qtbot, window, messages):
    window._lazy_dialog("no_such_dialog", "NoSuchDialog")
    assert messages and messages[0][0] == "warning"


def test_status_bar_names_the_compute_device_found_off_the_ui_thread(qtbot, window):
    import torch

    expected = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    qtbot.waitUntil(lambda: window.device_label.text() == f"device: {expected}", timeout=30000)
