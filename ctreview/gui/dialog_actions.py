"""The window's dialogs: Tools (training sets, train a model) and Help (keys, scores, legend, about)."""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QComboBox, QMessageBox, QSlider, QWidget

from ctreview import __version__
from ctreview.gui.dialogs import show_error
from ctreview.gui.help_pages import LegendDialog, ScoresHelpDialog
from ctreview.gui.keys import KeyHelpDialog
from ctreview.gui.session import ReviewSession
from ctreview.gui.slice_view import SliceView


class DialogActions:
    """Open the Tools and Help dialogs.

    Parameters
    ----------
    session : ReviewSession
        Its workspace holds the training sets; its threshold is in the legend.
    view : SliceView
        Its heatmap style is in the legend.
    opacity, heat_cut, cmap_box
        The heatmap's controls: the legend follows them while it is open.
    trained : callable
        Called after the train dialog closes (the window re-reads its models).
    parent : QWidget
        Parent of the dialogs.
    """

    def __init__(self, session: ReviewSession, view: SliceView, opacity: QSlider, heat_cut: QSlider,
                 cmap_box: QComboBox, trained: Callable[[], None], parent: QWidget) -> None:
        self.session, self.view, self.parent, self.trained = session, view, parent, trained
        self.legend_inputs = (opacity.valueChanged, heat_cut.valueChanged, cmap_box.currentTextChanged,
                              session.threshold_changed, session.scores_changed)
        self.legend: LegendDialog | None = None

    def lazy_dialog(self, module: str, name: str, *args: Any) -> Any:
        """``ctreview.gui.<module>.<name>(parent, *args)``; a message when this build lacks it.

        The training dialogs pull in the training code: imported on first use, not at start-up.
        """
        try:
            cls = getattr(importlib.import_module(f"ctreview.gui.{module}"), name)
        except (ImportError, AttributeError) as exc:
            show_error(self.parent, "Not available", f"{name} is not available in this build ({exc}).")
            return None
        return cls(self.parent, *args)

    def open_dataset_dialog(self) -> None:
        dialog = self.lazy_dialog("dataset_dialog", "DatasetDialog", self.session.workspace)
        if dialog is not None:
            dialog.exec()

    def open_train_dialog(self) -> None:
        dialog = self.lazy_dialog("train_dialog", "TrainDialog")
        if dialog is not None:
            dialog.exec()
            self.trained()

    def show_key_help(self) -> None:
        KeyHelpDialog(self.parent).exec()

    def show_scores_help(self) -> None:
        """Help ▸ How to read the scores."""
        ScoresHelpDialog(self.parent).exec()

    def show_legend(self) -> LegendDialog:
        """Show the legend of the overlays (non-modal: it stays beside the slice while the analyst reads)."""
        dialog = self.legend
        if dialog is None:
            dialog = self.legend = LegendDialog(self.parent)
            for signal in self.legend_inputs:
                signal.connect(lambda *_: self._update_legend())
        self._update_legend()
        dialog.show()
        dialog.raise_()
        return dialog

    def _update_legend(self) -> None:
        if self.legend is not None:
            view = self.view
            self.legend.update_heat(view.heat_cmap, view.heat_threshold, view.heat_scale,
                                    float(self.session.threshold))

    def show_about(self) -> None:
        QMessageBox.about(self.parent, "About ctreview",
                          f"ctreview {__version__}\nTriage of X-ray CT volumes of electronic parts.")
