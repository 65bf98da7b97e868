"""The "Training sets" dialog: export accepted slices as tiles, browse and prune a set.

The volumes the workspace knows are listed with how many slices were
accepted, refused (flagged/unsure) and accepted although scored above
threshold, and how many tiles an export would give (counted in a worker,
since it needs the ROI). Export runs in a worker with progress; the set is
shown as a grid of lazily drawn thumbnails, and selected tiles can be
removed.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ctreview.errors import CtreviewError
from ctreview.gui.notices import plural
from ctreview.progress import Progress
from ctreview.workers.dataset_tasks import LoadedSet, TileCount, load_set_task, prune_task, volumes_task
from ctreview.workers.runner import TaskRunner

THUMB = 72
CACHE_PIXMAPS = 4000
COLUMNS = ("Volume", "Accepted", "Flagged/unsure", "Above threshold", "Tiles to export")


def gray_qimage(image: np.ndarray) -> QImage:
    """Return a deep-copied QImage of a (y, x) uint8 array."""
    image = np.ascontiguousarray(image, np.uint8)
    h, w = image.shape
    return QImage(image.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def mosaic(tiles: np.ndarray, columns: int | None = None, gap: int = 2) -> np.ndarray:
    """Arrange tiles (n, T, T) in a grid image (y, x) with a dark gap between them."""
    n, t = tiles.shape[0], tiles.shape[-1]
    cols = columns or int(np.ceil(np.sqrt(max(n, 1))))
    rows = int(np.ceil(n / cols)) if n else 1
    out = np.zeros((rows * (t + gap) - gap, cols * (t + gap) - gap), tiles.dtype)
    for k in range(n):
        r, c = divmod(k, cols)
        out[r * (t + gap):r * (t + gap) + t, c * (t + gap):c * (t + gap) + t] = tiles[k]
    return out


class TileListModel(QAbstractListModel):
    """The tiles of a training set; thumbnails are drawn when a view first asks for them."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.tset = None
        self._levels = (0.0, 1.0)
        self._cache: OrderedDict[int, QPixmap] = OrderedDict()
        self.drawn = 0  # thumbnails drawn so far (a view only asks for visible ones)

    def set_training_set(self, tset: Any) -> None:
        self.beginResetModel()
        self.tset, self._cache = tset, OrderedDict()
        if tset is not None and len(tset):
            # one window for the whole set, from a sample, so thumbnails compare
            step = max(1, len(tset) // 256)
            sample = tset.tiles(range(0, len(tset), step)).astype(np.float32)
            lo, hi = np.percentile(sample, (0.5, 99.5))
            self._levels = (float(lo), float(hi) if hi > lo else float(lo) + 1.0)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802 - Qt naming
        return 0 if parent.isValid() or self.tset is None else len(self.tset)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.tset is None:
            return None
        i = index.row()
        if role == Qt.ItemDataRole.DisplayRole:
            return str(i)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(i)
        if role == Qt.ItemDataRole.ToolTipRole:
            rec = self.tset.records[i]
            name = self.tset.manifest.sources[rec["source"]].get("name")
            rel = (rec.get("run") or {}).get("relative")
            score = "not scored" if rel is None else f"relative score {rel:.2f}"
            return (f"tile {i}: {name}, slice {rec['slice']}, box {rec['tile_box']}, "
                    f"{score}, accepted by {rec.get('reviewer')}")
        return None

    def _pixmap(self, i: int) -> QPixmap:
        if i in self._cache:
            self._cache.move_to_end(i)
            return self._cache[i]
        lo, hi = self._levels
        assert self.tset is not None  # only rows of a shown set are drawn
        tile = (self.tset.tile(i).astype(np.float32) - lo) / (hi - lo)
        pix = QPixmap.fromImage(gray_qimage((np.clip(tile, 0, 1) * 255).astype(np.uint8)))
        pix = pix.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                         Qt.TransformationMode.SmoothTransformation)
        self._cache[i] = pix
        self.drawn += 1
        while len(self._cache) > CACHE_PIXMAPS:
            self._cache.popitem(last=False)
        return pix


class DatasetDialog(QDialog):
    """Export accepted slices of the workspace's volumes into a training set and tidy it.

    Signals
    -------
    exported(str)
        The set folder, after an export finished.
    volumes_listed(int)
        The volume table was filled (with this many volumes).
    set_loaded()
        The set in the folder field was read and shown.
    """

    exported = Signal(str)
    volumes_listed = Signal(int)
    set_loaded = Signal()

    def __init__(self, parent: QWidget | None, workspace: Any) -> None:
        super().__init__(parent)
        self.setWindowTitle("Training sets")
        self.workspace = workspace
        self.runner = TaskRunner(self)
        self.runner.errored.connect(self._task_failed)
        self.volume_ids: list[int] = []
        self.summary = None
        self._build()
        self.refresh_volumes()

    # -- layout ----------------------------------------------------------------
    def _build(self) -> None:
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("training-set folder (new, empty, or an existing set)")
        self.folder.editingFinished.connect(self.load_set)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        self.include_above = QCheckBox("Include accepted slices scored above threshold "
                                       "(I confirm they are normal)")
        self.crops = QCheckBox("Also store whole ROI crops")
        self.export_button = QPushButton("Export / append")
        self.export_button.clicked.connect(self.start_export)
        self.progress, self.status = QProgressBar(), QLabel()
        self.status.setWordWrap(True)
        self.info = QLabel("No training set open.")
        self.info.setWordWrap(True)
        self.grid = QListView()
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setUniformItemSizes(True)
        self.grid.setLayoutMode(QListView.LayoutMode.Batched)
        self.grid.setIconSize(QSize(THUMB, THUMB))
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tiles = TileListModel(self)
        self.grid.setModel(self.tiles)
        self.remove_button = QPushButton("Remove selected tiles")
        self.remove_button.clicked.connect(self.remove_selected)
        self._lay_out(browse)

    def _lay_out(self, browse: QPushButton) -> None:
        left = QVBoxLayout()
        left.addWidget(QLabel("Reviewed volumes (check those to export)"))
        left.addWidget(self.table)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        left.addLayout(row)
        for w in (self.include_above, self.crops, self.export_button, self.progress, self.status):
            left.addWidget(w)
        right = QVBoxLayout()
        right.addWidget(self.info)
        right.addWidget(self.grid, 1)
        right.addWidget(self.remove_button)
        top = QHBoxLayout(self)
        top.addLayout(left, 1)
        top.addLayout(right, 1)
        self.resize(1100, 640)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #e53935;" if error else "")
        if error:
            self.export_button.setEnabled(True)

    # -- volumes ---------------------------------------------------------------
    def refresh_volumes(self) -> None:
        """List the workspace's volumes with their decision counts, then their tile counts (in a worker)."""
        self.runner.start("volumes", volumes_task, self.workspace, on_yield=self._on_volumes)

    def _on_volumes(self, event: Any) -> None:
        if isinstance(event, TileCount):
            self.table.setItem(event.row, 4, QTableWidgetItem(event.error or str(event.tiles)))
            return
        self.volume_ids = [row.volume_id for row in event]
        self.table.setRowCount(len(event))
        for row, vol in enumerate(event):
            name = QTableWidgetItem(vol.name)
            name.setToolTip(str(vol.path))
            name.setFlags(name.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            name.setCheckState(Qt.CheckState.Checked if vol.accepted else Qt.CheckState.Unchecked)
            above = ", ".join(str(z) for z in vol.above) or "-"
            cells: list[str | QTableWidgetItem] = [name, str(vol.accepted), str(vol.refused), above, "…"]
            for col, cell in enumerate(cells):
                self.table.setItem(row, col, cell if isinstance(cell, QTableWidgetItem)
                                   else QTableWidgetItem(cell))
        self.volumes_listed.emit(len(event))

    def checked_volume_ids(self) -> list[int]:
        return [vid for row, vid in enumerate(self.volume_ids)
                if (item := self.table.item(row, 0)) is not None and item.checkState() == Qt.CheckState.Checked]

    def set_checked(self, volume_ids: list[int]) -> None:
        for row, vid in enumerate(self.volume_ids):
            state = Qt.CheckState.Checked if vid in volume_ids else Qt.CheckState.Unchecked
            item = self.table.item(row, 0)
            if item is not None:
                item.setCheckState(state)

    # -- export ----------------------------------------------------------------
    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Training set folder")
        if folder:
            self.folder.setText(folder)
            self.load_set()

    def start_export(self) -> None:
        """Export the checked volumes into the chosen folder, in a worker."""
        from ctreview.dataset import iter_export

        out, ids = self.folder.text().strip(), self.checked_volume_ids()
        if not out or not ids:
            return self._say("Check at least one volume and choose a set folder.", error=True)
        self.export_button.setEnabled(False)
        self.progress.setRange(0, 100 * len(ids))
        self.progress.setValue(0)
        self._say("Exporting…")
        self.runner.start("export", iter_export, self.workspace, ids, out,
                          include_above_threshold=self.include_above.isChecked(),
                          crops=self.crops.isChecked(),
                          on_yield=self._export_progress, on_return=self._export_done)

    def _export_progress(self, step: Progress) -> None:
        self.progress.setRange(0, step.total)
        self.progress.setValue(step.done)
        self.status.setText(step.message)

    def _export_done(self, summary: Any) -> None:
        self.summary = summary
        self.export_button.setEnabled(True)
        lines = [f"{plural(summary.added, 'tile')} added ({summary.duplicates} already in the set), "
                 f"{summary.total} in the set."]
        for src in summary.sources:
            refused = len(src.flagged) + len(src.unsure)
            lines.append(f"{src.name}: {plural(len(src.slices), 'slice')} exported, "
                         f"{refused} flagged/unsure refused")
        # the core's warning speaks of the CLI flag; here the check box does the same
        lines += [w.replace("pass --include-above-threshold", "tick 'Include accepted slices "
                            "scored above threshold'") for w in summary.warnings]
        self._say("\n".join(lines), error=False)
        self.load_set()
        self.exported.emit(str(summary.out))

    # -- the set ---------------------------------------------------------------
    def load_set(self) -> None:
        """Show the set in the folder field (if it is one) as a thumbnail grid; read in a worker."""
        self.runner.start("load", load_set_task, self.folder.text().strip(), on_return=self._on_set)

    def _on_set(self, loaded: LoadedSet) -> None:
        self.tiles.set_training_set(loaded.training_set)
        self.info.setText(loaded.summary)
        self.set_loaded.emit()

    def remove_selected(self) -> None:
        """Remove the selected tiles from the set (after which indices shift down), in a worker."""
        rows = sorted(i.row() for i in self.grid.selectionModel().selectedIndexes())
        if not rows:
            return self._say("Select tiles in the grid first.", error=True)
        self.runner.start("prune", prune_task, self.folder.text().strip(), rows, on_return=self._pruned)

    def _pruned(self, removed: int) -> None:
        self._say(f"Removed {removed} tiles.")
        self.load_set()

    def _task_failed(self, name: str, exc: BaseException) -> None:
        if name == "load":
            self.tiles.set_training_set(None)
            self.info.setText("")
        self._say(str(exc) if isinstance(exc, CtreviewError) else f"{type(exc).__name__}: {exc}", error=True)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        self.runner.shutdown()
        super().closeEvent(event)
