"""Start the Qt application and the review window."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from ctreview.gui import overlays


def make_app(argv: list[str] | None = None) -> QApplication:
    """Return the QApplication (creating it once), with pyqtgraph configured."""
    overlays.set_config()
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("ctreview")
    app.setOrganizationName("ctreview")
    QApplication.setApplicationDisplayName("ctreview")
    return app  # type: ignore[return-value]


def app_icon() -> QIcon:
    """Return the bundled application icon (empty if the file is missing)."""
    from ctreview.resources import resource_path

    try:
        path = resource_path("icons", "ctreview.svg")
    except FileNotFoundError:
        return QIcon()
    return QIcon(str(path)) if path.is_file() else QIcon()


def create_window(volume: str | Path | None = None, *, model: str | Path | None = None,
                  workspace: str | Path | None = None, autoscore: bool = False):
    """Create (and show) the main window, opening ``volume`` if given."""
    from ctreview.gui.main_window import MainWindow

    make_app()
    window = MainWindow(workspace=workspace, model=model)
    window.setWindowIcon(app_icon())
    window.show()
    if volume is not None:
        window.open_path(volume, autoscore=autoscore)
    return window


def run_gui(volume: str | Path | None = None, *, model: str | Path | None = None,
            workspace: str | Path | None = None, autoscore: bool = False,
            screenshot: str | Path | None = None) -> int:
    """Run the review window until it is closed; return the exit status.

    With ``screenshot``, the window flags the top slice once scoring ends,
    saves a PNG of itself there and quits.

    Raises
    ------
    CtreviewError
        No display, or Qt's platform plugin cannot load (see :mod:`ctreview.gui.display`).
    """
    from ctreview.gui.display import check_display

    check_display()
    app = make_app()
    window = create_window(volume, model=model, workspace=workspace, autoscore=autoscore)
    if screenshot is not None:
        from ctreview.gui.capture import capture_after_scoring

        window.resize(1366, 768)  # a common laptop screen: the README's picture shows what it holds
        capture_after_scoring(window, screenshot, done=window.close)
    status = app.exec()
    del window
    return int(status)
