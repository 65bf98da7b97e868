"""One training request, from the command line or from the train dialog, makes the same model settings."""
from __future__ import annotations

import json

NORMALS = ("transformer_normal_000.tif", "transformer_normal_001.tif")


def _stored(model_dir) -> dict:
    """The training settings ``model.json`` stores, without what differs run to run (the window's
    worker picks its own CPU threads)."""
    training = json.loads((model_dir / "model.json").read_text())["training"]
    return {k: v for k, v in training.items() if k not in ("seconds", "device", "threads")}


def test_the_cli_and_the_dialog_store_the_same_settings_for_one_request(qtbot, tiny_data, tmp_path):
    from ctreview.cli import main
    from ctreview.gui.train_dialog import TrainDialog
    from ctreview.progress import drain
    from ctreview.workers.training import train_task

    inputs = [str(tiny_data / name) for name in NORMALS]
    cli_dir = tmp_path / "from-cli"
    assert main(["train", *inputs, "--out", str(cli_dir), "--tile-size", "32", "--head-iterations", "20",
                 "--anogan-iterations", "6", "--anogan-encoder-iterations", "4", "--device", "cpu",
                 "--force"]) == 0

    dialog = TrainDialog()
    qtbot.addWidget(dialog)
    dialog.engine.setCurrentIndex(dialog.engine.findData("fused"))
    dialog.tile_size.setValue(32)
    dialog.head_iterations.setValue(20)
    dialog.anogan_iterations.setValue(6)
    dialog.anogan_encoder_iterations.setValue(4)
    dialog.device.setCurrentText("cpu")
    options = {k: v for k, v in dialog.options().items() if k != "name"}
    gui_dir = tmp_path / "from-dialog"
    drain(train_task(inputs, gui_dir, options, resume=False, should_stop=lambda: False))

    cli, gui = _stored(cli_dir), _stored(gui_dir)
    assert cli == gui
    assert cli["scorers"] == ["features", "head", "anogan"]  # the AnoGAN is a default scorer
    assert cli["anogan"]["iterations"] == 6 and cli["anogan"]["tile_size"] == 32
    scorers = json.loads((cli_dir / "model.json").read_text())["detector"]["scorers"]
    assert scorers["anogan"]["variant"] == "conditioned"
