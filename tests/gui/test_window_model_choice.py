"""``ctreview gui VOLUME --model DIR`` opens with DIR selected, even over a stored run of another model,
and the status bar says which model scores and why."""
from __future__ import annotations

from tests.gui.gui_helpers import open_and_wait


def _stored_run(workspace_path, volume_path, model_dir) -> None:
    """A finished run of the volume with ``model_dir``, recorded in the workspace by the scoring service."""
    from ctreview.io import open_volume
    from ctreview.model import load_model
    from ctreview.progress import drain
    from ctreview.review import open_workspace
    from ctreview.scoring import ScoringSettings, run_scoring

    with open_volume(volume_path) as volume, open_workspace(workspace_path) as ws:
        drain(run_scoring(volume, load_model(model_dir, "cpu"), ScoringSettings(mode="fast"), workspace=ws))


def test_the_model_given_on_the_command_line_wins_over_the_stored_runs(qtbot, tmp_path, phantom_file, tiny_model,
                                                                       messages):
    from ctreview.gui.app import create_window
    from ctreview.model import bundled_model_path

    ws = tmp_path / "workspace.sqlite"
    _stored_run(ws, phantom_file, tiny_model)
    chosen = bundled_model_path("transformer")
    window = create_window(phantom_file, model=chosen, workspace=ws)  # what `ctreview gui VOL --model DIR` runs
    qtbot.addWidget(window)
    said: list[str] = []  # every status message: the defects panel may post its own right after
    window.statusBar().messageChanged.connect(said.append)
    qtbot.waitUntil(lambda: window._run_model is not None, timeout=30000)  # the stored run is shown
    assert window.session.run_id is not None and window._run_model == str(tiny_model)
    assert window.scoring.model_path() == str(chosen)

    def told() -> bool:
        return any("demo-transformer selected (--model)" in m and "scores shown are from model" in m
                   for m in said + [window.statusBar().currentMessage()])

    qtbot.waitUntil(told, timeout=10000)
    window.close()


def test_the_status_bar_names_the_scoring_model_why_and_the_device(qtbot, window, phantom_file, tiny_model):
    window._model_hint = str(tiny_model)
    window.refresh_models()
    open_and_wait(qtbot, window, phantom_file)
    window.start_scoring(window.scoring.model_path(), "fast")
    qtbot.waitUntil(lambda: "Scoring with model" in window.statusBar().currentMessage(), timeout=30000)
    message = window.statusBar().currentMessage()
    assert "(selected in the model box) on cpu (1 thread)" in message
    qtbot.waitUntil(lambda: not window.scoring.running, timeout=60000)
