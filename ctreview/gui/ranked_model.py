"""Table model of the scored slices, ranked by score, and its filter proxy.

:class:`RankedSliceModel` keeps one row per scored slice in arrival order
(rows are only ever appended, in batches, so views and persistent indexes
stay valid while scores stream in); the rank is a column computed from the
scores. :class:`SliceFilterProxy` sorts and filters it for the view.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor

from ctreview.gui.session import ReviewSession
from ctreview.review.ranking import ranks

COLUMNS = ("Rank", "Slice", "Score", "Relative", "Decision", "Note")
RANK, SLICE, SCORE, RELATIVE, DECISION, NOTE = range(len(COLUMNS))
HEADER_TIPS = {
    RANK: "1 = the slice most unlike the normal parts the model was trained on",
    SCORE: "The model's raw anomaly score of the slice (compare within one model only)",
    RELATIVE: "Score / the model's threshold: 1.0 = the level only 1 % of held-out normal slices exceed "
              "(Help ▸ How to read the scores)",
    DECISION: "Accept = normal, Flag = a defect, Unsure = needs another look",
}
SORT_ROLE = Qt.ItemDataRole.UserRole
SLICE_ROLE = Qt.ItemDataRole.UserRole + 1
FILTERS = ("all", "unreviewed", "flagged", "accepted", "unsure", "above threshold")
_STATUS_COLOURS = {"accept": "#2e7d32", "flag": "#c62828", "unsure": "#ef6c00"}
_STATUS_TEXT = {"accept": "accepted", "flag": "flagged", "unsure": "unsure"}


class RankedSliceModel(QAbstractTableModel):
    """Rows = scored slices of the session, in the order they first arrived."""

    def __init__(self, session: ReviewSession, parent: Any = None) -> None:
        super().__init__(parent)
        self.session = session
        self._slices: list[int] = []
        self._row_of: dict[int, int] = {}
        self._rank: dict[int, int] = {}
        session.scores_changed.connect(self._on_scores)
        session.scores_reset.connect(self._reset)
        session.volume_changed.connect(self._reset)
        session.decision_changed.connect(self._on_decision)

    # -- Qt model API -------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._slices)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(section)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        k = self._slices[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(k, column)
        if role == SORT_ROLE:
            return self._sort_key(k, column)
        if role == SLICE_ROLE:
            return k
        if role == Qt.ItemDataRole.ForegroundRole and column == DECISION:
            colour = _STATUS_COLOURS.get(self.session.status(k))
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (RANK, SLICE, SCORE, RELATIVE):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, k: int, column: int) -> str:
        score = self.session.scores[k]
        if column == RANK:
            return str(self._rank.get(k, ""))
        if column == SLICE:
            return str(k)
        if column == SCORE:
            return f"{score.score:.4g}"
        if column == RELATIVE:
            return f"{score.relative:.2f}"
        row = self.session.decisions.get(k)
        if column == DECISION:
            return _STATUS_TEXT.get(row["status"], "") if row else ""
        return (row.get("note") or "") if row else ""

    def _sort_key(self, k: int, column: int) -> Any:
        if column in (RANK, SCORE, RELATIVE):
            return self._rank.get(k, 0)
        if column == SLICE:
            return k
        return self._display(k, column)

    # -- updates ------------------------------------------------------------
    def slice_at(self, row: int) -> int:
        return self._slices[row]

    def row_of(self, k: int) -> int | None:
        return self._row_of.get(k)

    def rank_of(self, k: int) -> int | None:
        return self._rank.get(k)

    def _reset(self) -> None:
        self.beginResetModel()
        self._slices = sorted(self.session.scores)
        self._row_of = {k: row for row, k in enumerate(self._slices)}
        self._rerank()
        self.endResetModel()

    def _rerank(self) -> None:
        self._rank = ranks(self.session.scores.values())

    def _on_scores(self, changed: list[int]) -> None:
        new = sorted({k for k in changed if k not in self._row_of})
        if new:
            first = len(self._slices)
            # one insert per batch: a view re-sorts once, not once per slice
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for k in new:
                self._row_of[k] = len(self._slices)
                self._slices.append(k)
            self._rerank()
            self.endInsertRows()
        else:
            self._rerank()
        if self._slices:
            # every rank may have moved; scores of replaced slices too
            self.dataChanged.emit(self.index(0, RANK), self.index(len(self._slices) - 1, RELATIVE))

    def _on_decision(self, k: int) -> None:
        row = self._row_of.get(k)
        if row is not None:
            self.dataChanged.emit(self.index(row, DECISION), self.index(row, NOTE))


class SliceFilterProxy(QSortFilterProxyModel):
    """Sorts the ranked model and filters it by decision or threshold."""

    def __init__(self, session: ReviewSession, parent: Any = None) -> None:
        super().__init__(parent)
        self.session = session
        self.mode = "all"
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)
        session.threshold_changed.connect(self._refilter)

    def set_mode(self, mode: str) -> None:
        if mode not in FILTERS:
            raise ValueError(f"unknown filter {mode!r}; one of {FILTERS}")
        self._refilter(lambda: setattr(self, "mode", mode))

    def _refilter(self, change: Any = None) -> None:
        # Qt >= 6.9: the filter state changes between begin/endFilterChange
        begin = getattr(self, "beginFilterChange", None)
        if begin is None:
            if callable(change):
                change()
            self.invalidateFilter()
            return
        begin()
        if callable(change):
            change()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if self.mode == "all":
            return True
        model: RankedSliceModel = self.sourceModel()  # type: ignore[assignment]
        k = model.slice_at(source_row)
        status = self.session.status(k)
        if self.mode == "unreviewed":
            return status == ""
        if self.mode == "flagged":
            return status == "flag"
        if self.mode == "accepted":
            return status == "accept"
        if self.mode == "unsure":
            return status == "unsure"
        return self.session.scores[k].relative >= self.session.threshold

    def slices_in_order(self) -> list[int]:
        """Return the slice indices in the order the view shows them."""
        return [int(self.data(self.index(row, SLICE), SLICE_ROLE)) for row in range(self.rowCount())]
