"""Every key of the review window, in one table the help dialog lists."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

KEYS: list[tuple[str, str]] = [
    ("A", "Accept the slice, then go to the next one in the list"),
    ("F", "Flag the slice, then go to the next one"),
    ("U", "Mark the slice unsure, then go to the next one"),
    ("J  /  Down", "Next slice in the list (rank order unless sorted otherwise)"),
    ("K  /  Up", "Previous slice in the list"),
    ("Right  /  Left", "Next / previous slice along z"),
    ("Mouse wheel", "Next / previous slice along z"),
    ("Ctrl + mouse wheel", "Zoom"),
    ("Left drag", "Pan"),
    ("Right drag", "Window (left/right) and level (up/down)"),
    ("1  2  3  4", "Window/level presets: auto, wide, narrow, full range"),
    ("R", "Zoom to the part (the whole slice before the part is found)"),
    ("H", "Show / hide the heatmap and its red hot-spot boxes"),
    ("E", "Expected: show the slice the model expected (the registered atlas of normal parts, else the "
          "AnoGAN's reconstruction) inside the ROI in place of the scan, and back; with the heatmap on, the "
          "red marks where the two differ"),
    ("B", "Show / hide the part outline (cyan) and the ROI boxes (orange); View ▸ Legend says what each is"),
    ("D  /  Shift+D", "Next / previous defect in the Defects table: shows its peak slice, centred"),
    ("Shift+A  Shift+F  Shift+U", "Accept / flag / mark unsure the selected defect: the decision goes on "
                                  "each of its slices, with \"defect N\" in the note"),
    ("O", "Three planes: the XZ and YZ planes through the crosshair beside the slice (or axial only)"),
    ("Left click", "Three planes: move the crosshair there (in any plane)"),
    ("M", "Ruler on / off: left drag measures in mm in any plane (the line stays until cleared)"),
    ("N", "Type a note; Enter saves it with the decision, or returns to the list so A/F/U decide "
          "with it; Esc goes back"),
    ("Ctrl+Z", "Undo the last decision (all slices of a decided defect at once)"),
    ("Ctrl+R", "Score the volume with the chosen model"),
    ("Esc", "Cancel scoring"),
    ("Ctrl+O", "Open a volume"),
    ("Ctrl+E", "Export the report (PDF / CSV / JSON)"),
    ("F1", "This help"),
    ("Ctrl+Q", "Quit"),
]


class KeyHelpDialog(QDialog):
    """A table of :data:`KEYS`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard help")
        table = QTableWidget(len(KEYS), 2, self)
        table.setHorizontalHeaderLabels(["Key", "Does"])
        for row, (key, text) in enumerate(KEYS):
            table.setItem(row, 0, QTableWidgetItem(key))
            table.setItem(row, 1, QTableWidgetItem(text))
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.table = table
        self.resize(600, 760)
