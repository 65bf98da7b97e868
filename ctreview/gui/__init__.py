"""The review window (PySide6 + pyqtgraph). Only this package and ``workers`` import Qt."""
from ctreview.gui.app import create_window, make_app, run_gui

__all__ = ["create_window", "make_app", "run_gui", "MainWindow"]


def __getattr__(name: str):
    if name == "MainWindow":  # imported lazily: it pulls in every widget
        from ctreview.gui.main_window import MainWindow

        return MainWindow
    raise AttributeError(name)
