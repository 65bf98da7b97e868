"""The Train model dialog trains a tiny model in the background, cancels, resumes and saves it."""
from __future__ import annotations

import numpy as np
import pytest


def _tiny(dialog, name: str, epochs: int) -> None:
    dialog.name.setText(name)
    dialog.engine.setCurrentIndex(dialog.engine.findData("anogan"))  # a set of tiles only: the AnoGAN
    dialog.epochs.setValue(epochs)
    dialog.latent.setValue(16)
    dialog.width.setValue(8)
    dialog.batch.setValue(16)
    dialog.device.setCurrentText("cpu")


@pytest.fixture
def main_window(qtbot, tmp_path, monkeypatch):
    """The main window when its package is there (it owns the model picker), else None."""
    try:
        from ctreview.gui.app import create_window
    except ImportError:
        yield None
        return
    from PySide6.QtWidgets import QMessageBox

    for kind in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(lambda *a, **k: QMessageBox.StandardButton.Ok))
    win = create_window(workspace=tmp_path / "workspace.sqlite")
    qtbot.addWidget(win)
    yield win
    win.close()


@pytest.mark.slow
def test_dialog_trains_cancels_resumes_and_lists_the_model(qtbot, disc_set, main_window):
    from ctreview.gui.train_dialog import TrainDialog
    from ctreview.model import list_models, load_model
    from ctreview.paths import model_library_dir

    dialog = TrainDialog(main_window, sets=[disc_set])
    qtbot.addWidget(dialog)
    assert dialog.tile_size.value() == 32          # taken from the set
    assert dialog.profile.currentText() == "whole-part"
    _tiny(dialog, "tiny-from-dialog", epochs=2)

    # cancel as soon as the first progress arrives, then resume to the end
    with qtbot.waitSignal(dialog.progressed, timeout=120_000):
        dialog.train_button.click()
    with qtbot.waitSignal(dialog.job.cancelled, timeout=120_000):
        dialog.cancel_button.click()
    assert dialog.resume_button.isEnabled() and dialog.train_button.isEnabled()
    assert (model_library_dir() / "tiny-from-dialog" / "checkpoint.pt").is_file()
    with qtbot.waitSignal(dialog.modelTrained, timeout=180_000) as blocker:
        dialog.resume_button.click()

    path = blocker.args[0]
    assert path == str(model_library_dir() / "tiny-from-dialog")
    assert any(str(info.path) == path for info in list_models())
    model = load_model(path, device="cpu")
    assert model.tile_size == 32 and model.threshold > 0
    # losses were plotted and generator samples shown
    curves = {name: len(xs) for name, (_c, xs, _y) in dialog._curves.items()}
    assert any(name.startswith("gan:") and n > 0 for name, n in curves.items())
    assert any(name.startswith("encoder:") and n > 0 for name, n in curves.items())
    assert dialog.latest_samples is not None and dialog.latest_samples.shape[1:] == (32, 32)
    assert np.isfinite(dialog.latest_samples).all()
    assert "saved" in dialog.status.text()
    if main_window is not None:  # the window's picker was refreshed through refresh_models()
        assert main_window.scoring.models.findData(path) >= 0


def test_dialog_refuses_without_sets_and_a_taken_name(qtbot, disc_set, tmp_path):
    from ctreview.gui.train_dialog import TrainDialog
    from ctreview.paths import model_library_dir

    dialog = TrainDialog(None)
    qtbot.addWidget(dialog)
    dialog.start()
    assert "training set" in dialog.status.text() and dialog.job is None
    dialog.add_set(disc_set)
    (model_library_dir() / "taken").mkdir()
    (model_library_dir() / "taken" / "model.json").write_text("{}")
    dialog.name.setText("taken")
    dialog.start()
    assert "exists" in dialog.status.text() and dialog.job is None


def test_broken_set_is_refused_when_added(qtbot, tmp_path):
    import pytest

    from ctreview.errors import CtreviewError
    from ctreview.gui.train_dialog import TrainDialog

    (tmp_path / "manifest.json").write_text("not json")
    dialog = TrainDialog(None)
    qtbot.addWidget(dialog)
    with pytest.raises(CtreviewError, match="manifest.json"):
        dialog.add_set(tmp_path)
    assert dialog.sets.count() == 0


@pytest.mark.slow
def test_the_fused_engine_trains_from_a_set_whose_volumes_are_on_disk(qtbot, tmp_path):
    import importlib.util
    import sys
    from pathlib import Path

    from ctreview.cli import main
    from ctreview.gui.train_dialog import TrainDialog
    from ctreview.model import load_model

    path = Path(__file__).parents[1] / "dataset" / "reviewed_data.py"
    spec = importlib.util.spec_from_file_location("ctreview_reviewed_data", path)
    module = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    reviewed = module.reviewed_session(tmp_path)
    out = tmp_path / "set"
    assert main(["dataset", "export", *map(str, reviewed.volumes), "--out", str(out),
                 "--workspace", str(reviewed.workspace)]) == 0
    dialog = TrainDialog(None, sets=[out])
    qtbot.addWidget(dialog)
    assert dialog.engine_name() == "fused" and not dialog.epochs.isEnabled()
    dialog.name.setText("fused-from-dialog")
    dialog.head_iterations.setValue(20)
    dialog.anogan_iterations.setValue(20)
    dialog.anogan_encoder_iterations.setValue(10)
    dialog.device.setCurrentText("cpu")
    with qtbot.waitSignal(dialog.modelTrained, timeout=300_000) as blocker:
        dialog.train_button.click()
    model = load_model(blocker.args[0], device="cpu")
    # issue 20: the conditioned AnoGAN is one of the default scorers (this asserted features and head alone)
    assert model.meta["format_version"] == 2 and set(model.scorers) == {"features", "head", "anogan"}
    curves = {name: len(xs) for name, (_c, xs, _y) in dialog._curves.items()}
    assert any(name.startswith("head:") and n > 0 for name, n in curves.items())   # the head's losses drawn
    assert "saved" in dialog.status.text()
