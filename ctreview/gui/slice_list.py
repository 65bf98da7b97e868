"""The ranked slice list with its filter, and the decision bar under it."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ctreview.gui.ranked_model import FILTERS, NOTE, RANK, SLICE, SLICE_ROLE, RankedSliceModel, SliceFilterProxy
from ctreview.gui.session import ReviewSession


class SliceList(QWidget):
    """Table of scored slices; selecting a row shows that slice.

    The selection follows the session's current slice, by slice index, so it
    stays on the same slice while rows re-sort as scores stream in.
    """

    def __init__(self, session: ReviewSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.model = RankedSliceModel(session, self)
        self.proxy = SliceFilterProxy(session, self)
        self.proxy.setSourceModel(self.model)
        self.filter = QComboBox()
        self.filter.addItems([name.capitalize() for name in FILTERS])
        self.filter.currentIndexChanged.connect(lambda i: self.set_filter(FILTERS[i]))
        self.count = QLabel("")
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(RANK, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        # fixed widths: ResizeToContents would measure every row on every streamed batch
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in zip(range(NOTE), (50, 50, 64, 64, 72)):
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(NOTE, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        top.addWidget(self.filter, 1)
        top.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        session.current_changed.connect(self.select_slice)
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                       self.proxy.layoutChanged):
            signal.connect(self._update_count)

    def set_filter(self, mode: str) -> None:
        """Show ``"all"``, ``"unreviewed"``, ``"flagged"``, ... slices."""
        self.proxy.set_mode(mode)
        index = FILTERS.index(mode)
        if self.filter.currentIndex() != index:
            self.filter.setCurrentIndex(index)
        self.select_slice(self.session.current)
        self._update_count()

    def _update_count(self, *_: Any) -> None:
        self.count.setText(f"{self.proxy.rowCount()} of {self.model.rowCount()}")

    def _row_changed(self, current: Any, _previous: Any) -> None:
        if current.isValid():
            self.session.set_current(int(self.proxy.data(current.siblingAtColumn(SLICE), SLICE_ROLE)))

    def select_slice(self, k: int) -> None:
        """Select the row of slice ``k`` (clear the selection if it is not listed)."""
        row = self.model.row_of(k)
        selection = self.table.selectionModel()
        if row is None:
            selection.clearSelection()
            return
        index = self.proxy.mapFromSource(self.model.index(row, RANK))
        if not index.isValid():
            selection.clearSelection()
            return
        if selection.currentIndex().row() != index.row() or not selection.hasSelection():
            flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect
                     | QItemSelectionModel.SelectionFlag.Rows)
            selection.setCurrentIndex(index, flags)
        self.table.scrollTo(index)

    def neighbour(self, k: int, step: int) -> int | None:
        """Return the slice ``step`` rows away from slice ``k`` in the list's order."""
        order = self.proxy.slices_in_order()
        if not order:
            return None
        if k not in order:
            return order[0] if step > 0 else order[-1]
        position = order.index(k) + step
        return order[position] if 0 <= position < len(order) else None


class DecisionBar(QWidget):
    """Accept / flag / unsure buttons, the note field and undo."""

    decided = Signal(str)
    undo_requested = Signal()
    note_committed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for status, text, colour in (("accept", "&Accept (A)", "#2e7d32"),
                                     ("flag", "&Flag (F)", "#c62828"),
                                     ("unsure", "&Unsure (U)", "#ef6c00")):
            button = QPushButton(text.replace("&", ""))
            button.setStyleSheet(f"QPushButton {{ border-left: 4px solid {colour}; padding: 4px 8px; }}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _=False, s=status: self.decided.emit(s))
            self.buttons[status] = button
            row.addWidget(button)
        self.undo = QPushButton("Undo")
        self.undo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.undo.setToolTip("Undo the last decision (Ctrl+Z)")
        self.undo.clicked.connect(self.undo_requested.emit)
        row.addWidget(self.undo)
        self.note = QLineEdit()
        self.note.setPlaceholderText("Note for this slice (N to type, Enter when done)")
        self.note.setClearButtonEnabled(True)
        self.note.returnPressed.connect(self.note_committed.emit)
        self.status = QLabel("")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.note)
        layout.addWidget(self.status)

    def show_decision(self, row: dict | None) -> None:
        """Show the slice's current decision and note."""
        self.note.setText((row or {}).get("note") or "")
        if row:
            self.status.setText(f"{row['status']} by {row.get('reviewer', '?')} at "
                                f"{str(row.get('decided_at', ''))[:19]}")
        else:
            self.status.setText("not reviewed")
