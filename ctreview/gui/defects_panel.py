"""The Defects dock: the run's 3D defect objects in a sortable table, and their decisions.

:class:`DefectStore` is the window's list of defects (provisional while a
run streams, final at its end) and the selected one; the table and the
views subscribe to it. Selecting a row selects the defect; the window then
shows its peak slice (see ``gui/defect_actions.py``).
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ctreview.defects import Defect, defect_decision
from ctreview.gui.session import ReviewSession

COLUMNS = ("ID", "Rank", "Slices", "z, y, x (mm)", "mm³", "⌀ mm", "Peak", "Decision")
ID, RANK, SLICES, POSITION, VOLUME, DIAMETER, PEAK, DECISION = range(len(COLUMNS))
SORT_ROLE = Qt.ItemDataRole.UserRole
ID_ROLE = Qt.ItemDataRole.UserRole + 1
_STATUS_TEXT = {"accept": "accepted", "flag": "flagged", "unsure": "unsure"}
_STATUS_COLOURS = {"accept": "#2e7d32", "flag": "#c62828", "unsure": "#ef6c00"}


class DefectStore(QObject):
    """The defects the window shows and the selected one.

    Signals
    -------
    changed()
        A new list (provisional or final) is in place.
    selected(int)
        The defect with this id was selected (0: none).
    """

    changed = Signal()
    selected = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.defects: list[Defect] = []
        self.run_id: int | None = None
        self.final = False
        self.busy = False
        self.current = 0

    def set_defects(self, run_id: int | None, defects: list[Defect], *, final: bool) -> None:
        """Show ``defects`` of run ``run_id``; a provisional list never replaces a final one of that run."""
        if not final and self.final and run_id == self.run_id:
            return
        self.run_id, self.defects, self.final = run_id, list(defects), final
        if self.current and self.get(self.current) is None:
            self.current = 0
        self.changed.emit()

    def clear(self, run_id: int | None = None) -> None:
        self.run_id, self.defects, self.final, self.current = run_id, [], False, 0
        self.changed.emit()

    def get(self, defect_id: int) -> Defect | None:
        return next((d for d in self.defects if d.id == defect_id), None)

    def select(self, defect_id: int) -> None:
        if defect_id != self.current and (defect_id == 0 or self.get(defect_id) is not None):
            self.current = defect_id
            self.selected.emit(defect_id)

    def containing(self, z: int, y: int, x: int) -> Defect | None:
        """The worst defect whose box holds voxel ``(z, y, x)``."""
        return next((d for d in self.defects if d.z0 <= z < d.z1 and d.y0 <= y < d.y1 and d.x0 <= x < d.x1),
                    None)


class DefectTableModel(QAbstractTableModel):
    """One row per defect of the store, in the store's order (by rank)."""

    def __init__(self, store: DefectStore, session: ReviewSession, parent: Any = None) -> None:
        super().__init__(parent)
        self.store, self.session = store, session
        store.changed.connect(self._reset)
        session.decision_changed.connect(self._on_decision)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.store.defects)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return _TIPS.get(section)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or index.row() >= len(self.store.defects):
            return None
        d, column = self.store.defects[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(d, column)
        if role == SORT_ROLE:
            return self._sort_key(d, column)
        if role == ID_ROLE:
            return d.id
        if role == Qt.ItemDataRole.ForegroundRole and column == DECISION:
            colour = _STATUS_COLOURS.get(self.decision(d))
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.ToolTipRole and column in (VOLUME, DIAMETER):
            return full_amount(d.volume_mm3, "mm³") if column == VOLUME else full_amount(d.diameter_mm, "mm")
        if role == Qt.ItemDataRole.TextAlignmentRole and column not in (POSITION, DECISION):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def decision(self, d: Defect) -> str:
        return defect_decision(d, self.session.decisions, run_id=self.session.run_id)

    def _display(self, d: Defect, column: int) -> str:
        values = {
            ID: str(d.id), RANK: str(d.rank),
            SLICES: f"{d.z0}–{d.z1 - 1}" if d.z1 - d.z0 > 1 else str(d.z0),
            POSITION: ", ".join(_mm(v) for v in (d.centroid_z_mm, d.centroid_y_mm, d.centroid_x_mm)),
            VOLUME: amount(d.volume_mm3), DIAMETER: amount(d.diameter_mm), PEAK: f"{d.peak:.2f}",
            DECISION: _STATUS_TEXT.get(self.decision(d), ""),
        }
        return values[column]

    def _sort_key(self, d: Defect, column: int) -> Any:
        keys = {ID: d.id, RANK: d.rank, SLICES: d.z0, POSITION: d.centroid_z_mm, VOLUME: d.volume_mm3,
                DIAMETER: d.diameter_mm, PEAK: -d.peak}
        return keys.get(column, self._display(d, column))

    def row_of(self, defect_id: int) -> int | None:
        return next((row for row, d in enumerate(self.store.defects) if d.id == defect_id), None)

    def _reset(self) -> None:
        self.beginResetModel()
        self.endResetModel()

    def _on_decision(self, k: int) -> None:
        rows = [row for row, d in enumerate(self.store.defects) if d.z0 <= k < d.z1]
        for row in rows:
            self.dataChanged.emit(self.index(row, DECISION), self.index(row, DECISION))


def _mm(value: float) -> str:
    """A position in mm with about four significant digits."""
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}" if abs(value) < 100 else f"{value:.0f}"


def amount(value: float) -> str:
    """A volume or size in at most 8 characters: three significant digits, whole numbers from 1000 to
    99,999, then the exponent form (35125000 -> "3.51e+07"); the full value is in the cell's tooltip."""
    if abs(value) >= 100_000:
        return f"{value:.3g}"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def full_amount(value: float, unit: str) -> str:
    """The exact value of a cell that :func:`amount` shortens."""
    return f"{value:,.2f} {unit}"


def spacing_unknown(volume: Any) -> bool:
    """Whether the volume's file gave no voxel size (ctreview.io then assumes 1 mm and says so)."""
    return any("no voxel spacing" in str(w) for w in getattr(volume, "warnings", ()))


_TIPS = {
    ID: "Numbered along z, y, x: stays the same whatever the sort",
    RANK: "1 = highest peak score",
    SLICES: "First and last slice (z) of the defect",
    POSITION: "Position: centroid z, y, x in mm (as the cursor readout)",
    VOLUME: "Volume in mm³: voxels of the defect times the voxel volume",
    DIAMETER: "Equivalent diameter in mm: of the sphere of that volume",
    PEAK: "Highest relative score (1.0 = the calibrated threshold)",
    DECISION: "From its slices' decisions: a flagged slice flags the defect",
}


class DefectsPanel(QWidget):
    """The table of defects with accept / flag / unsure buttons for the selected one.

    Signals
    -------
    decided(str)
        A decision for the selected defect (the window records it on its slices).
    """

    decided = Signal(str)

    def __init__(self, store: DefectStore, session: ReviewSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.session = store, session
        self.model = DefectTableModel(store, session, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.status = QLabel("No defects yet: score the volume")
        self.status.setWordWrap(True)
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
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in zip(range(len(COLUMNS)), (34, 42, 56, 150, 74, 60, 48)):
            self.table.setColumnWidth(column, width)
        header.setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for status, text, colour in (("accept", "Accept defect (Shift+A)", "#2e7d32"),
                                     ("flag", "Flag (Shift+F)", "#c62828"),
                                     ("unsure", "Unsure (Shift+U)", "#ef6c00")):
            button = QPushButton(text)
            button.setStyleSheet(f"QPushButton {{ border-left: 4px solid {colour}; padding: 3px 6px; }}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setToolTip("Record this decision on every slice of the selected defect")
            button.clicked.connect(lambda _=False, s=status: self.decided.emit(s))
            buttons.addWidget(button)
            self.buttons[status] = button
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        store.changed.connect(self._on_changed)
        store.selected.connect(self.select_defect)
        self._on_changed()

    def _on_changed(self) -> None:
        n, store = len(self.store.defects), self.store
        if store.busy and not n:
            text = "Finding defects…"
        elif store.final:
            text = (f"{n} defect{'s' * (n != 1)} above the threshold (D / Shift+D: next / previous)"
                    if n else "No defect above the threshold in this run")
        elif store.run_id is not None and (n or store.busy):
            text = f"{n} so far (provisional: scoring runs)"
        else:
            text = "No defects yet: score the volume"
        if n and spacing_unknown(self.session.volume):
            text += "\nThe file gives no voxel size: mm values assume 1 mm voxels."
        self.status.setText(text)
        for button in self.buttons.values():
            button.setEnabled(n > 0)
        self.select_defect(store.current)

    def _row_changed(self, current: Any, _previous: Any) -> None:
        if current.isValid():
            self.store.select(int(self.proxy.data(current.siblingAtColumn(ID), ID_ROLE)))

    def select_defect(self, defect_id: int) -> None:
        """Select the row of a defect (clear the selection for 0 or an unknown id)."""
        row = self.model.row_of(defect_id) if defect_id else None
        selection = self.table.selectionModel()
        if row is None:
            selection.clearSelection()
            return
        index = self.proxy.mapFromSource(self.model.index(row, ID))
        if selection.currentIndex().row() != index.row() or not selection.hasSelection():
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                      | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)

    def ids_in_order(self) -> list[int]:
        """Defect ids in the order the table shows them."""
        return [int(self.proxy.data(self.proxy.index(row, ID), ID_ROLE)) for row in range(self.proxy.rowCount())]
