"""Fixtures of the GUI tests: a phantom on disk, the window, recorded message boxes."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")


@pytest.fixture(scope="session")
def phantom_file(tmp_path_factory) -> Path:
    """A small defective transformer phantom as a multi-page TIFF, shape (16, 64, 64)."""
    from ctreview.io import write_tiff
    from ctreview.phantom import make_phantom

    phantom = make_phantom("transformer", size=64, slices=16, defective=True, seed=3)
    out = tmp_path_factory.mktemp("phantom") / "transformer_defect.tif"
    return write_tiff(out, phantom.volume, spacing=phantom.spacing)


@pytest.fixture
def messages(monkeypatch) -> list[tuple[str, str, str]]:
    """Record message boxes instead of blocking on them: ``(kind, title, text)``."""
    from PySide6.QtWidgets import QMessageBox

    seen: list[tuple[str, str, str]] = []

    def recorder(kind, answer):
        def record(_parent, title, text, *args, **kwargs):
            seen.append((kind, title, text))
            return answer
        return staticmethod(record)

    for kind in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, kind, recorder(kind, QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "question", recorder("question", QMessageBox.StandardButton.Yes))
    return seen


@pytest.fixture
def window(qtbot, tmp_path, messages):
    """The main window on a fresh workspace in ``tmp_path``, shown offscreen."""
    from ctreview.gui.app import create_window

    win = create_window(workspace=tmp_path / "workspace.sqlite")
    qtbot.addWidget(win)
    qtbot.waitExposed(win)
    yield win
    win.close()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """The shared tiny real model of the tests (tile 32), trained once per session."""
    from helpers_model import train_tiny_model

    # two epochs: the window needs a real model, not a good one
    return train_tiny_model(tmp_path_factory.mktemp("models") / "tiny", epochs=2)
