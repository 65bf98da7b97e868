"""Scoring controls: model picker, mode, run/cancel and the progress readout."""
from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox, QWidget

from ctreview.scoring.settings import MODES

_MODE_TIPS = {
    "hybrid": "fast score for every slice, then the latent search refines the top ones",
    "fast": "encoder only: quickest, a little less exact",
    "anogan": "latent search on every tile: slowest, most exact",
}


ENGINE_ROLE = 257
"""Item data role (Qt.UserRole + 1) of a listed model's engine."""
SCORERS_ROLE = 258
"""Item data role (Qt.UserRole + 2) of a listed model's scorer families (comma-separated)."""
MAX_STEPS = 2000


def model_label(info: Any) -> str:
    """Return the picker text of a ``ModelInfo``: name, engine, profile, tile size and date."""
    created = str(getattr(info, "created", "") or "")[:10]
    return (f"{getattr(info, 'name', '?')} — {getattr(info, 'engine', 'anogan')}, {getattr(info, 'profile', '?')}, "
            f"{getattr(info, 'tile_size', '?')} px" + (f", {created}" if created else ""))


def time_left_text(done: int, total: int, warm: tuple[float, int] | None, now: float) -> str:
    """The progress readout: throughput and time left, measured only on work after the first batch.

    Parameters
    ----------
    done, total : int
        Slices scored so far and in all.
    warm : (float, int) or None
        Time and count when the first batch arrived (None: none yet).
    now : float
        The current ``time.monotonic()``.
    """
    if warm is None or done <= warm[1] or now <= warm[0]:
        return "estimating time…"  # the first batch carries the warm-up: no honest rate yet
    rate = (done - warm[1]) / (now - warm[0])
    return f"{rate:.1f} slices/s, {(total - done) / rate:.0f} s left"


class ScoringPanel(QWidget):
    """Emits :attr:`run_requested` / :attr:`cancel_requested`; shows progress.

    Signals
    -------
    run_requested(str, str)
        ``(model directory, mode)``.
    cancel_requested()
    """

    depth: QSpinBox  # type: ignore[assignment]  # shadows a QWidget getter; GUI tests and key bindings use the name

    run_requested = Signal(str, str)
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = QComboBox()
        self.models.setMinimumContentsLength(20)  # it stretches into the room the toolbar row leaves
        self.models.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.models.setToolTip("Model: bundled and your trained models (profile, tile size, date)")
        self.mode = QComboBox()
        for i, mode in enumerate(MODES):
            self.mode.addItem(mode)
            self.mode.setItemData(i, _MODE_TIPS[mode], 3)  # 3 = ToolTipRole
        self.depth = QSpinBox()
        self.depth.setRange(-1, MAX_STEPS)
        self.depth.setValue(-1)
        self.depth.setPrefix("AnoGAN ")  # in the box, not in a label beside it: the row must fit 1366 px
        self.depth.setSpecialValueText("AnoGAN: model's")  # shown at -1: the depth stored in the model
        self.depth.setToolTip("AnoGAN scorer: latent-search steps from the encoder's z "
                              "(0: encoder alone, f-AnoGAN; 500: the seeds' AnoGAN; model's: as trained)")
        self.run_button = QPushButton("Score")
        self.run_button.setToolTip("Score every slice of the volume with the chosen model")
        self.run_button.clicked.connect(self._run_or_cancel)
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(100)
        self.progress.setFormat("")
        self.progress.setValue(0)
        self.rate = QLabel("")
        self.rate.setFixedWidth(self.rate.fontMetrics().horizontalAdvance("999.9 slices/s, 9999 s left") + 6)
        self.models.currentIndexChanged.connect(self._engine_changed)
        self.suggestion = QPushButton("")
        self.suggestion.setStyleSheet("QPushButton { color: #ffb300; }")
        self.suggestion.hide()
        self.suggestion.clicked.connect(self._take_suggestion)
        self._suggested = ""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel("Model"))
        layout.addWidget(self.models, 2)
        layout.addWidget(self.suggestion)
        layout.addWidget(QLabel("Mode"))
        layout.addWidget(self.mode)
        layout.addWidget(self.depth)
        layout.addWidget(self.run_button)
        layout.addWidget(self.progress, 1)
        layout.addWidget(self.rate)
        self.running = False
        self._started = 0.0
        self._done: set[int] = set()
        self._refining = False
        self._warm: tuple[float, int] | None = None  # (time, slices done) when the first batch came
        # QProgressBar.setValue repaints at once; show progress 4 times a second at most
        self._show_timer = QTimer(self, singleShot=True, interval=250)
        self._show_timer.timeout.connect(self._show_progress)

    def set_models(self, infos: list[Any], keep: str | None = None) -> None:
        """Fill the picker from ``list_models()``; keep ``keep`` (a path) selected if listed."""
        keep = keep or self.model_path()
        self.models.clear()
        for info in infos:
            self.models.addItem(model_label(info), str(info.path))
            self.models.setItemData(self.models.count() - 1, str(info.path), 3)
            self.models.setItemData(self.models.count() - 1, getattr(info, "engine", "anogan"), ENGINE_ROLE)
            self.models.setItemData(self.models.count() - 1, ",".join(getattr(info, "scorers", ("anogan",))),
                                    SCORERS_ROLE)
        if keep:
            index = self.models.findData(keep)
            if index >= 0:
                self.models.setCurrentIndex(index)
        if not infos:
            self.models.setPlaceholderText("no models yet: Tools ▸ Train model…")
        self.run_button.setEnabled(self.models.count() > 0)
        self._engine_changed()  # the engines are known only once every item has its data

    def _engine_changed(self) -> None:
        """A fused model scores all its scorers in one pass: the AnoGAN's modes do not apply to it."""
        fused = self.models.currentData(ENGINE_ROLE) == "fused"
        self.mode.setEnabled(not fused)
        self.depth.setEnabled(self.has_anogan())
        self.mode.setToolTip("A fused model scores in one pass (features + defect head); modes are the AnoGAN's"
                             if fused else "Scoring mode of an AnoGAN model")

    def has_anogan(self) -> bool:
        """Whether the selected model has an AnoGAN scorer (whose search depth a run may choose)."""
        return "anogan" in str(self.models.currentData(SCORERS_ROLE) or "").split(",")

    def anogan_steps(self) -> int | None:
        """The AnoGAN search depth chosen for the next run (None: the model's own)."""
        value = int(self.depth.value())
        return None if value < 0 or not self.has_anogan() else value

    def model_path(self) -> str | None:
        data = self.models.currentData()
        return str(data) if data else None

    def select_model(self, path: str) -> bool:
        """Select the model at ``path`` if it is listed; return whether it is."""
        index = self.models.findData(str(path))
        if index >= 0:
            self.models.setCurrentIndex(index)
        return index >= 0

    def suggest(self, path: str | None, name: str = "") -> None:
        """Offer a model that fits the open volume better (None: no offer)."""
        self._suggested = str(path or "")
        self.suggestion.setText(f"▶ {name} fits" if path else "")
        self.suggestion.setToolTip(f"{name} fits this volume: its training data is like this volume; "
                                   "the selected model's is not. "
                                   "Click to select it." if path else "")
        self.suggestion.setVisible(bool(path))

    def _take_suggestion(self) -> None:
        if self._suggested and self.select_model(self._suggested):
            self.suggest(None)

    def reset(self) -> None:
        """Forget the last run's progress (another volume is open)."""
        self._show_timer.stop()
        self._done, self._refining = set(), False
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.rate.setText("")
        self.suggest(None)

    def _run_or_cancel(self) -> None:
        if self.running:
            self.cancel_requested.emit()
        elif self.model_path():
            self.run_requested.emit(self.model_path(), self.mode.currentText())

    def set_running(self, running: bool, total: int = 0, *, cancelled: bool = False) -> None:
        """Switch the button between Score and Cancel; reset the progress at a start."""
        was_running, self.running = self.running, running
        if not running and self._show_timer.isActive():
            self._show_timer.stop()
            self._show_progress()  # the final count
        if cancelled and was_running:  # no throughput or time left of a run that stopped
            done = len(self._done)
            self.rate.setText(f"cancelled after {done} of {self.progress.maximum()} slices")
        self.run_button.setText("Cancel" if running else "Score")
        self.models.setEnabled(not running)
        self.mode.setEnabled(not running and self.models.currentData(ENGINE_ROLE) != "fused")
        self.depth.setEnabled(not running and self.has_anogan())
        if running:
            self._started, self._done, self._refining = time.monotonic(), set(), False
            self._warm = None
            self.progress.setRange(0, max(total, 1))
            self.progress.setFormat("%v / %m slices")
            self.progress.setValue(0)
            self.rate.setText("loading model…")

    def set_total(self, total: int) -> None:
        """Set how many slices the run will score (known once the ROI is found)."""
        self.progress.setRange(0, max(int(total), 1))
        self.rate.setText("scoring…")

    def add_done(self, indices: list[int], refining: bool = False) -> None:
        """Count newly scored slices; show throughput and time left.

        The first batch carries the warm-up (model load, first passes, ROI): the
        rate is measured from its end, so no time is estimated before a second batch.
        """
        self._done.update(indices)
        self._refining = refining
        if self._warm is None:
            self._warm = (time.monotonic(), len(self._done))
        if not self._show_timer.isActive():
            self._show_timer.start()

    def _show_progress(self) -> None:
        if self._refining:  # hybrid mode's second pass: every slice already has a score
            self.progress.setValue(self.progress.maximum())
            self.rate.setText("refining the top slices…")
            return
        done, total = len(self._done), self.progress.maximum()
        self.progress.setValue(min(done, total))
        self.rate.setText(time_left_text(done, total, self._warm, time.monotonic()))
