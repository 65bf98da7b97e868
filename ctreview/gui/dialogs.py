"""Small dialogs of the window: error boxes, the open filter and report outputs."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

OPEN_FILTER = ("CT volumes (*.tif *.tiff *.nrrd *.nhdr *.mha *.mhd *.nii *.nii.gz *.npy *.dcm);;"
               "All files (*)")
REPORT_FILTERS = {"PDF report (*.pdf)": "pdf", "CSV table (*.csv)": "csv", "JSON (*.json)": "json"}


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    """Show ``text`` in a warning box (user errors are not crashes: no traceback)."""
    QMessageBox.warning(parent, title, text)


def choose_report_outputs(parent: QWidget, start: Path) -> dict[str, Path]:
    """Ask for the report file; return ``{"pdf"|"csv"|"json": path}`` or ``{}`` if cancelled.

    A PDF also gets its CSV table beside it, since reviewers usually want both.
    """
    path, chosen = QFileDialog.getSaveFileName(parent, "Export report", str(start),
                                               ";;".join(REPORT_FILTERS))
    if not path:
        return {}
    kind = REPORT_FILTERS.get(chosen) or Path(path).suffix.lstrip(".").lower() or "pdf"
    target = Path(path)
    if target.suffix.lower() != f".{kind}":
        target = target.with_suffix(f".{kind}")
    outputs = {kind: target}
    if kind == "pdf":
        outputs["csv"] = target.with_suffix(".csv")
    return outputs
