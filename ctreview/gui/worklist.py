"""The worklist: many scored volumes ranked by their worst slice; Enter opens one with its run.

Volumes outside the model's training domain are listed last and marked
(their scores are not comparable with the others').

A non-modal dialog of the window. It reads a batch (``batch.json`` of
``ctreview batch``, or its folder) or the workspace's volumes in a worker
(``workers/batch_tasks.py``), and asks the window to open an item; the
window imports the item's run into the workspace in a worker when it is not
there yet. Volumes whose scored slices all have a decision are marked.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ctreview.gui.session import ReviewSession
from ctreview.workers import TaskRunner
from ctreview.workers.batch_tasks import read_worklist

COLUMNS = ("Rank", "Volume", "Worst", "Above", "Defects", "Status", "Reviewed", "Domain")
RANK, VOLUME, WORST, ABOVE, DEFECTS, STATUS, REVIEWED, DOMAIN = range(len(COLUMNS))
NOT_COMPARABLE = "outside: not comparable"
"""The Domain cell of a volume unlike the model's training data (listed after the others)."""
DONE_MARK = "✓ all"
_STATUS_COLOURS = {"failed": "#c62828", "pending": "#777777", "unscored": "#777777"}


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


class WorklistModel(QAbstractTableModel):
    """Rows = :class:`~ctreview.batch.worklist.WorkItem` objects, in the order given (worst first)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.items: list[Any] = []

    def set_items(self, items: list[Any]) -> None:
        self.beginResetModel()
        self.items = list(items)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        item, column = self.items[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(index.row(), item, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (item.domain_reason or item.domain) if column == DOMAIN else (item.error or item.volume)
        if role == Qt.ItemDataRole.ForegroundRole and column == DOMAIN:
            return QBrush(QColor("#c62828" if item.domain == "outside" else "#ef6c00")) if item.domain_reason else None
        if role == Qt.ItemDataRole.ForegroundRole and column in (STATUS, REVIEWED):
            colour = "#2e7d32" if column == REVIEWED and item.all_reviewed else _STATUS_COLOURS.get(item.status)
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (RANK, WORST, ABOVE, DEFECTS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(row: int, item: Any, column: int) -> str:
        if column == RANK:
            return str(row + 1)
        if column == VOLUME:
            return Path(item.volume).name
        if column == WORST:
            return "" if item.worst is None else f"{item.worst:.2f}"
        if column == ABOVE:
            return _count(item.above)
        if column == DEFECTS:
            return _count(item.defects)
        if column == STATUS:
            return item.status
        if column == DOMAIN:
            return NOT_COMPARABLE if item.domain == "outside" else item.domain
        if not item.slices:
            return ""
        return DONE_MARK if item.all_reviewed else f"{item.reviewed}/{item.slices}"


class _Table(QTableView):
    """The worklist's table: Enter opens the current row (the dialog's default button would take it)."""

    activated_row = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.activated_row.emit(self.currentIndex().row())
            event.accept()
            return
        super().keyPressEvent(event)


class WorklistDialog(QDialog):
    """Volumes ranked worst first; Enter (or a double click) opens the selected one in the window.

    Parameters
    ----------
    session : ReviewSession
        Its workspace lists the volumes; its decisions mark them reviewed.
    runner : TaskRunner
        Runs the reading task.
    open_item : callable
        Opens a worklist item in the window (``OpenActions.open_work_item``).
    parent : QWidget, optional

    Signals
    -------
    loaded(int)
        The list was (re)read: its number of volumes.
    """

    loaded = Signal(int)

    def __init__(self, session: ReviewSession, runner: TaskRunner, open_item: Callable[[Any], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.runner, self.open_item = session, runner, open_item
        self.source: str | None = None
        self.setWindowTitle("Worklist")
        self.resize(720, 480)
        self.label = QLabel("Open a batch (batch.json of `ctreview batch`) or list the workspace's volumes")
        self.label.setWordWrap(True)
        self.model = WorklistModel(self)
        self.table = _Table()
        self.table.activated_row.connect(self.open_row)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(VOLUME, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda index: self.open_row(index.row()))
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self._buttons())
        self._refresh_later = QTimer(self, singleShot=True, interval=500)
        self._refresh_later.timeout.connect(self.refresh)
        session.decision_changed.connect(self._decided)  # a bound slot: gone with the dialog

    def _decided(self, _slice: int) -> None:
        if self.isVisible():
            self._refresh_later.start()

    def _buttons(self) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        for text, slot in (("Open batch…", self.choose_batch), ("Workspace volumes", self.show_workspace),
                           ("Refresh", self.refresh)):
            button = QPushButton(text)
            button.setAutoDefault(False)
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addStretch(1)
        return box

    # -- sources --------------------------------------------------------------
    def choose_batch(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open batch", str(Path.home()),
                                              "Batch table (batch.json);;All files (*)")
        if path:
            self.load(path)

    def show_workspace(self) -> None:
        self.load(None)

    def load(self, source: str | Path | None) -> None:
        """Read the batch at ``source`` (``batch.json`` or its folder), or the workspace's volumes (None)."""
        if self.runner.closed:  # the window is closing
            return
        self.source = str(source) if source else None
        self.label.setText(f"Batch: {self.source}" if self.source else "The workspace's volumes")
        self.runner.start("worklist", read_worklist, self.source, workspace=self.session.workspace,
                                  on_return=self._loaded)

    def refresh(self) -> None:
        if self.source is not None or self.model.items:
            self.load(self.source)

    def _loaded(self, items: list[Any]) -> None:
        current = self.table.currentIndex().row()
        self.model.set_items(items)
        outside = sum(1 for item in items if item.domain == "outside")
        if outside and self.source:
            self.label.setText(f"Batch: {self.source}. {outside} of {len(items)} outside the model's training "
                               "domain: listed last, their scores not comparable (Domain column)")
        if items:
            self.table.selectRow(min(max(current, 0), len(items) - 1))
        self.table.setFocus()
        self.loaded.emit(len(items))

    # -- opening --------------------------------------------------------------
    def open_row(self, row: int) -> None:
        """Open item ``row`` in the window (failed or pending ones have nothing to open)."""
        if not 0 <= row < len(self.model.items):
            return
        item = self.model.items[row]
        if not item.openable:
            self.label.setText(f"{Path(item.volume).name}: {item.status}" + (f": {item.error}" if item.error else
                                                                            " (no run to open)"))
            return
        self.open_item(item)
