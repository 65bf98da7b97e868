"""File > Open batch…: the worklist ranks a batch's volumes, Enter opens one with its run, reviews are marked."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from ctreview.batch import run_batch  # noqa: E402
from ctreview.gui.worklist import DONE_MARK, REVIEWED, STATUS, VOLUME, WORST  # noqa: E402
from ctreview.progress import drain  # noqa: E402
from ctreview.scoring import ScoringSettings  # noqa: E402
from tests.batch.batch_helpers import read_rows  # noqa: E402


@pytest.fixture
def messages(monkeypatch) -> list[tuple[str, str]]:
    """Message boxes, recorded instead of shown."""
    from PySide6.QtWidgets import QMessageBox

    seen: list[tuple[str, str]] = []
    for kind in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(
            lambda _parent, title, text, *a, **k: seen.append((title, text)) or QMessageBox.StandardButton.Ok))
    return seen


@pytest.fixture
def window(qtbot, tmp_path, messages):
    from ctreview.gui.app import create_window

    win = create_window(workspace=tmp_path / "workspace.sqlite")
    qtbot.addWidget(win)
    qtbot.waitExposed(win)
    yield win
    win.close()


@pytest.fixture
def batch_dir(volumes, tiny_model, tmp_path) -> Path:
    runs = tmp_path / "runs"
    # one volume is damaged: the worklist shows it failed, with nothing to open
    (tmp_path / "bad.tif").write_bytes((volumes / "transformer_defect_000.tif").read_bytes()[:3000])
    drain(run_batch([volumes, tmp_path / "bad.tif"], tiny_model, ScoringSettings(mode="fast"), runs, workers=1))
    return runs


def _cell(dialog, row: int, column: int) -> str:
    return str(dialog.model.index(row, column).data())


def test_enter_opens_the_worst_volume_with_its_run_and_a_reviewed_volume_is_marked(qtbot, window, batch_dir,
                                                                                  messages):
    rows = read_rows(batch_dir)
    dialog = window.open_worklist(batch_dir / "batch.json")
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 4, timeout=20000)
    assert [_cell(dialog, r, VOLUME) for r in range(4)] == [Path(r["volume"]).name for r in rows]
    assert _cell(dialog, 0, WORST) == f"{float(rows[0]['worst']):.2f}"
    assert _cell(dialog, 3, STATUS) == "failed" and _cell(dialog, 0, REVIEWED) == ""

    dialog.table.selectRow(0)
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    session = window.session
    qtbot.waitUntil(lambda: session.volume_id is not None and bool(session.scores), timeout=30000)
    assert Path(session.volume.path).name == Path(rows[0]["volume"]).name
    csv_lines = (batch_dir / rows[0]["run"] / "scores.csv").read_text().splitlines()[1:]
    expected = {int(line.split(",")[0]): float(line.split(",")[2]) for line in csv_lines}
    assert {k: round(s.relative, 5) for k, s in session.scores.items()} == pytest.approx(expected, abs=1e-5)
    top = window.slice_list.proxy.slices_in_order()[0]
    assert session.scores[top].relative == max(expected.values())
    assert session.heatmap(top) is not None  # from the workspace's heatmap store: nothing was scored again
    assert not window.runner.is_running("score") and not messages

    for k in list(session.scores):  # the analyst reviews every slice of it
        session.decide(k, "accept")
    dialog.refresh()
    qtbot.waitUntil(lambda: _cell(dialog, 0, REVIEWED) == DONE_MARK, timeout=20000)
    assert _cell(dialog, 1, REVIEWED) == ""  # not opened yet: not in the workspace

    dialog.table.selectRow(3)
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)  # a failed volume has no run to open
    assert "failed" in dialog.label.text() and "bad.tif" in dialog.label.text()

    dialog.table.selectRow(0)  # opened again: the run is not imported twice, the decisions are there
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: session.volume_id is not None and len(session.decisions) == len(expected),
                    timeout=30000)
    assert len(session.workspace.runs(session.volume_id)) == 1

    dialog.show_workspace()  # the workspace's volumes, worst first
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=20000)
    assert _cell(dialog, 0, REVIEWED) == DONE_MARK and _cell(dialog, 0, STATUS) == "scored"


def test_volumes_outside_the_models_domain_are_listed_last_and_marked(qtbot, window, tmp_path):
    from ctreview.batch import BatchRow
    from ctreview.batch.table import write_table
    from ctreview.gui.worklist import DOMAIN, NOT_COMPARABLE

    reason = "outside the model's training domain: grey values inside the part 10-200 unlike its training data"
    write_table(tmp_path, [BatchRow(str(tmp_path / "capacitor.tif"), "capacitor", status="done", worst=7.5,
                                    domain="outside", domain_reason=reason),
                           BatchRow(str(tmp_path / "transformer.tif"), "transformer", status="done", worst=1.2,
                                    domain="inside")], {"out": str(tmp_path)})
    dialog = window.open_worklist(tmp_path / "batch.json")
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2, timeout=20000)
    assert [_cell(dialog, r, VOLUME) for r in range(2)] == ["transformer.tif", "capacitor.tif"]
    assert _cell(dialog, 1, DOMAIN) == NOT_COMPARABLE and _cell(dialog, 0, DOMAIN) == "inside"
    assert dialog.model.index(1, DOMAIN).data(Qt.ItemDataRole.ToolTipRole) == reason
    assert "1 of 2 outside the model's training domain: listed last" in dialog.label.text()
