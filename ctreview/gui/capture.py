"""Capture the window once scoring ends (``ctreview demo --screenshot``, docs, smoke checks)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer


def capture_after_scoring(window: Any, path: str | Path, *, flag_top: bool = True,
                          note: str = "demo: suspicious spot",
                          done: Callable[[], None] | None = None) -> None:
    """When the window's scoring run ends, flag the top slice, show it and save a screenshot.

    Parameters
    ----------
    window : MainWindow
    path : str or Path
        PNG file to write.
    flag_top : bool
        Flag the rank-1 slice (with ``note``) before the capture, as an analyst would.
    done : callable, optional
        Called after the file is written (e.g. ``app.quit``).
    """
    def finished(name: str) -> None:
        if name != "score":
            return
        window.runner.finished.disconnect(finished)
        order = window.slice_list.proxy.slices_in_order()
        if order:
            top = order[0]
            window.session.set_current(top)
            if flag_top and window.session.volume_id is not None:
                window.decision_bar.note.setText(note)
                window.decide("flag")
                window.session.set_current(top)
        QTimer.singleShot(400, save)

    def save() -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(path))
        if done is not None:
            done()

    window.runner.finished.connect(finished)
