"""The window's menu bar, declared as :class:`~ctreview.gui.actions.Action` records."""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from ctreview.gui import overlays
from ctreview.gui.actions import SEPARATOR, Action, Entry
from ctreview.gui.defect_actions import DefectActions
from ctreview.gui.dialog_actions import DialogActions
from ctreview.gui.open_actions import OpenActions
from ctreview.gui.plane_actions import PlaneActions
from ctreview.gui.review_actions import ReviewActions
from ctreview.gui.scoring_actions import ScoringActions


def window_menus(opening: OpenActions, scorer: ScoringActions, review: ReviewActions, defects: DefectActions,
                 planes: PlaneActions, dialogs: DialogActions, *, recent: QMenu,
                 refresh_models: Callable[[], None], quit_: Callable[[], object],
                 parent: QWidget) -> list[tuple[str, list[Entry]]]:
    """Every menu's title and entries, in the order of the menu bar.

    ``recent`` is File ▸ Open recent (filled when shown); ``parent`` owns the submenus made here.
    """
    colours = QMenu("Heatmap &colours", parent)
    for name in overlays.HEAT_MAPS:
        colours.addAction(name, partial(planes.cmap_box.setCurrentText, name))
    return [
        ("&File", [Action("file.open", "&Open volume…", opening.open_dialog, QKeySequence.StandardKey.Open),
                   Action("file.folder", "Open &folder of slices…", opening.open_folder_dialog, "Ctrl+Shift+O"),
                   Action("file.dicom", "Open &DICOM series…", opening.open_dicom_dialog),
                   Action("file.images", "Open as independent &images…", opening.open_images_dialog),
                   recent,
                   Action("file.batch", "Open &batch…", opening.open_worklist),
                   Action("file.export", "&Export report…", review.export_dialog, "Ctrl+E"),
                   SEPARATOR, Action("file.quit", "&Quit", quit_, "Ctrl+Q")]),
        ("&Edit", [review.undo_action]),
        ("&Scoring", [Action("scoring.score", "&Score volume", scorer.score_clicked, "Ctrl+R"),
                      Action("scoring.cancel", "&Cancel scoring", scorer.cancel_scoring),
                      Action("scoring.refresh", "&Refresh model list", refresh_models)]),
        ("&View", [Action("view.legend", "&Legend", dialogs.show_legend), planes.three_planes_action,
                   planes.ruler_action, planes.clear_ruler_action, colours, SEPARATOR,
                   # the keys are window shortcuts (MainWindow._build_shortcuts): named here, not bound twice
                   Action("view.next_defect", "Next defect\tD", lambda: defects.step_defect(1)),
                   Action("view.previous_defect", "Previous defect\tShift+D", lambda: defects.step_defect(-1))]),
        ("&Tools", [Action("tools.datasets", "&Training sets…", dialogs.open_dataset_dialog),
                    Action("tools.train", "T&rain model…", dialogs.open_train_dialog)]),
        ("&Help", [Action("help.keys", "&Keyboard help", dialogs.show_key_help, "F1"),
                   Action("help.scores", "How to read the &scores", dialogs.show_scores_help),
                   Action("help.legend", "&Legend of the slice view", dialogs.show_legend),
                   Action("help.about", "&About ctreview", dialogs.show_about)]),
    ]
