"""Dialog details a new user trips over: model names that cannot collide, sizes and plurals."""
from __future__ import annotations


def test_default_model_names_never_collide(tmp_path):
    from ctreview.gui.train_dialog import default_model_name

    first = default_model_name(tmp_path)
    second = default_model_name(tmp_path)  # a second dialog in the same second
    assert first != second and first.startswith("model-") and len(first.split("-")[2]) == 6
    (tmp_path / second).mkdir()
    assert default_model_name(tmp_path) not in (first, second)


def test_training_set_summary_sizes_and_plurals(disc_set):
    from ctreview.dataset import format_summary, summarise

    text = format_summary(summarise(disc_set))
    assert "0.0 MB" not in text
    assert " kB" in text or " MB" in text
    assert "48 tiles of 32x32" in text and "2 sources" in text


def test_a_name_in_use_is_refused_before_training(qtbot, tmp_path, disc_set):
    from ctreview.gui.train_dialog import TrainDialog
    from ctreview.paths import model_library_dir

    dialog = TrainDialog(None, [disc_set])
    qtbot.addWidget(dialog)
    busy = model_library_dir() / "busy"
    busy.mkdir(parents=True)
    (busy / "checkpoint.pt").write_bytes(b"run in progress")
    dialog.name.setText("busy")
    dialog.start()
    assert "exists" in dialog.status.text() and dialog.job is None
    assert (busy / "checkpoint.pt").read_bytes() == b"run in progress"
