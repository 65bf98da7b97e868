"""The "Train model" dialog: train an AnoGAN from training sets, watching it learn.

Training runs in a :class:`~ctreview.workers.training.TrainingJob`; the
dialog draws the loss curves (pyqtgraph) and the generator's samples as they
arrive, shows progress with the time left, and can cancel and resume. The
model lands in the user's library, ``model_library_dir()/<name>``.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ctreview.errors import CtreviewError
from ctreview.gui.dataset_dialog import gray_qimage, mosaic
from ctreview.paths import model_library_dir
from ctreview.training.cond_gan_settings import CondGanSettings
from ctreview.workers.training import TrainingJob

LOSSES = ("dcgan", "wgan-gp")
ENGINES = {"fused": "Fused: deep features + defect head", "anogan": "AnoGAN (earlier engine)"}
STAGES = {"features": "Fitting the deep-feature model of normality",
          "head": "Training the defect head on synthetic defects",
          "cond-gan": "Training the conditioned AnoGAN",
          "cond-encoder": "Training the AnoGAN's encoder",
          "calibrate": "Setting the thresholds on held-out normal slices"}
_PENS = ("#64b5f6", "#ff8a65", "#81c784", "#ba68c8", "#fff176", "#4dd0e1")


def _profiles() -> list[str]:
    try:
        from ctreview.roi import list_profiles

        return list(list_profiles()) or ["whole-part"]
    except ImportError:  # the ROI package is optional for the dialog itself
        return ["whole-part"]


def _spin(lo: int, hi: int, value: int, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setValue(value)
    return box


def default_model_name(library: Path | None = None) -> str:
    """``model-YYYYmmdd-HHMMSS``, with ``-2``, ``-3``... when the library already has that folder.

    Two dialogs opened in the same second (or the minute, as names once
    were) must not train into one folder.
    """
    library = library or model_library_dir()
    base = datetime.now().strftime("model-%Y%m%d-%H%M%S")
    name, n = base, 1
    while (library / name).exists() or name in _NAMES_GIVEN:
        n += 1
        name = f"{base}-{n}"
    _NAMES_GIVEN.add(name)
    return name


_NAMES_GIVEN: set[str] = set()  # names offered by open dialogs whose folders do not exist yet


def format_seconds(seconds: float) -> str:
    """Return ``"1:05:03"`` / ``"5:03"`` for a duration in seconds."""
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class TrainDialog(QDialog):
    """Choose training sets and settings, train, and add the model to the library.

    Signals
    -------
    progressed(int)
        Training moved on: the iteration of the latest event.
    modelTrained(str)
        The folder of the newly trained model (connected to the parent's
        ``refresh_models()`` when the parent has one).
    """

    modelTrained = Signal(str)
    progressed = Signal(int)
    width: QSpinBox  # type: ignore[assignment]  # shadows a QWidget getter; GUI tests and key bindings use the name

    def __init__(self, parent: QWidget | None = None, sets: Sequence[str | Path] = ()) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train model")
        self.job: TrainingJob | None = None
        self.model_path: str | None = None
        self._curves: dict[str, tuple[Any, list, list]] = {}
        self._t0 = 0.0
        self._gan_iterations = 0
        self._n_tiles = 0
        self.latest_samples: np.ndarray | None = None
        self._build()
        for s in sets:
            self.add_set(s)
        refresh = getattr(parent, "refresh_models", None)
        if callable(refresh):
            self.modelTrained.connect(lambda _path: refresh())

    # -- layout ----------------------------------------------------------------
    def _build(self) -> None:
        self.sets = QListWidget()
        add, remove = QPushButton("Add set…"), QPushButton("Remove")
        add.clicked.connect(self._browse_set)
        remove.clicked.connect(self._remove_selected_sets)
        self.name = QLineEdit(default_model_name())
        self.profile = QComboBox()
        self.profile.addItems(_profiles())
        self.tile_size = _spin(8, 512, 64, 8)
        self.latent = _spin(2, 1024, 100)
        self.epochs = _spin(1, 10000, 20)
        self.width = _spin(4, 256, 32, 4)
        self.batch = _spin(2, 4096, 64)
        self.loss = QComboBox()
        self.loss.addItems(LOSSES)
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda"])
        self.engine = QComboBox()
        for key, text in ENGINES.items():
            self.engine.addItem(text, key)
        self.engine.currentIndexChanged.connect(lambda _i: self._engine_changed())
        self.head_iterations = _spin(10, 100000, 600, 50)
        gan = CondGanSettings()  # the fused engine's AnoGAN family: its defaults are the dialog's
        self.anogan_iterations = _spin(1, 1000000, gan.iterations, 50)
        self.anogan_encoder_iterations = _spin(1, 1000000, gan.encoder_iterations, 50)
        form = QFormLayout()
        for label, widget in (("Model name", self.name), ("Engine", self.engine), ("Profile", self.profile),
                              ("Tile size", self.tile_size), ("Head iterations", self.head_iterations),
                              ("AnoGAN iterations", self.anogan_iterations),
                              ("AnoGAN encoder iterations", self.anogan_encoder_iterations),
                              ("Latent size", self.latent), ("Epochs", self.epochs),
                              ("Network width", self.width), ("Batch size", self.batch), ("Loss", self.loss),
                              ("Device", self.device)):
            form.addRow(label, widget)
        self._engine_changed()
        buttons = QHBoxLayout()
        self.train_button, self.cancel_button = QPushButton("Train"), QPushButton("Cancel")
        self.resume_button = QPushButton("Resume")
        for b, slot in ((self.train_button, self.start), (self.cancel_button, self.cancel),
                        (self.resume_button, self.resume)):
            b.clicked.connect(slot)
            buttons.addWidget(b)
        self.progress, self.status = QProgressBar(), QLabel("Choose training sets, then Train.")
        self.status.setWordWrap(True)
        self.plot = pg.PlotWidget(background="#1e1e1e")
        self.plot.getPlotItem().setTitle("Losses", size="9pt")
        self.plot.getPlotItem().setLabel("bottom", "iteration")
        self.plot.addLegend(offset=(-5, 5))
        self.plot.setMinimumHeight(160)
        self.samples = QLabel("samples appear here")
        self.samples.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.samples.setMinimumSize(192, 192)
        self._lay_out(form, buttons, add, remove)
        self._set_running(False)

    def _lay_out(self, form, buttons, add, remove) -> None:
        left = QVBoxLayout()
        left.addWidget(QLabel("Training sets"))
        left.addWidget(self.sets)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        left.addLayout(row)
        left.addLayout(form)
        left.addLayout(buttons)
        right = QVBoxLayout()
        right.addWidget(self.plot, 2)
        right.addWidget(self.samples, 2)
        right.addWidget(self.progress)
        right.addWidget(self.status)
        top = QHBoxLayout(self)
        top.addLayout(left, 1)
        top.addLayout(right, 2)

    # -- inputs ------------------------------------------------------------------
    def _browse_set(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Training set folder")
        if folder:
            try:
                self.add_set(folder)
            except CtreviewError as exc:
                self._say(str(exc), error=True)

    def add_set(self, folder: str | Path) -> None:
        """Add a training set; the first one sets the tile size and profile."""
        from ctreview.dataset import open_training_set

        tset = open_training_set(folder)  # refuses a broken set now, not mid-training
        self.sets.addItem(str(folder))
        self._n_tiles += len(tset)
        if self.sets.count() == 1 and tset.tile_size:
            self.tile_size.setValue(int(tset.tile_size))
            profiles = {str(p) for r in tset.records if (p := r.get("profile"))}
            if len(profiles) == 1:
                name = profiles.pop()
                if self.profile.findText(name) < 0:
                    self.profile.addItem(name)
                self.profile.setCurrentText(name)

    def _remove_selected_sets(self) -> None:
        from ctreview.dataset import open_training_set

        for item in self.sets.selectedItems():
            self.sets.takeItem(self.sets.row(item))
        self._n_tiles = sum(len(open_training_set(p)) for p in self.set_paths())

    def set_paths(self) -> list[str]:
        return [self.sets.item(i).text() for i in range(self.sets.count())]

    def engine_name(self) -> str:
        return str(self.engine.currentData())

    def _engine_changed(self) -> None:
        anogan = self.engine_name() == "anogan"
        for widget in (self.latent, self.epochs, self.width, self.batch, self.loss):
            widget.setEnabled(anogan)
        for widget in (self.head_iterations, self.anogan_iterations, self.anogan_encoder_iterations):
            widget.setEnabled(not anogan)

    def options(self) -> dict:
        """Return what the training task needs: the engine, its settings, profile, device and name."""
        common = {"engine": self.engine_name(), "profile": self.profile.currentText(),
                  "device": self.device.currentText(), "name": self.name.text().strip()}
        if self.engine_name() == "fused":
            return {**common, "tile_size": self.tile_size.value(), "head_iterations": self.head_iterations.value(),
                    "anogan_iterations": self.anogan_iterations.value(),
                    "anogan_encoder_iterations": self.anogan_encoder_iterations.value()}
        return {**common, "tile_size": self.tile_size.value(),
                "latent_dim": self.latent.value(), "epochs": self.epochs.value(),
                "loss": self.loss.currentText(), "width": self.width.value(), "batch_size": self.batch.value(),
                "sample_every": self._iterations_per_epoch()}

    def _iterations_per_epoch(self) -> int:
        # train() holds out ~15% of the tiles for calibration and samples the
        # generator every ``sample_every`` iterations: about once an epoch here
        return max(1, -(-int(self._n_tiles * 0.85) // self.batch.value()))

    def output_dir(self) -> Path:
        return model_library_dir() / self.name.text().strip()

    # -- running -----------------------------------------------------------------
    def start(self) -> None:
        """Start a new training run (refused with a message when inputs are wrong)."""
        name = self.name.text().strip()
        out = self.output_dir()
        if not self.set_paths():
            return self._say("Add at least one training set.", error=True)
        if not name or Path(name).name != name or name.startswith("."):
            return self._say("Give the model a plain folder name.", error=True)
        if (out / "model.json").exists() or (out.exists() and any(out.iterdir())):
            return self._say(f"A model named {name!r} exists (or is being trained); choose another name.",
                             error=True)
        self._launch(resume=False)

    def resume(self) -> None:
        """Continue the cancelled run from its checkpoint."""
        if self.job is None or not self.job.can_resume():
            return self._say("Nothing to resume.", error=True)
        self._launch(resume=True)

    def _launch(self, resume: bool) -> None:
        if not resume:
            self.job = TrainingJob(self.set_paths(), self.output_dir(), self.options(), self)
            self.job.progress.connect(self._on_events)
            self.job.finished.connect(self._on_finished)
            self.job.failed.connect(self._on_failed)
            self.job.cancelled.connect(self._on_cancelled)
            self._reset_plot()
        self._t0 = time.monotonic()
        self._set_running(True)
        self._say("Reading the training sets…")
        assert self.job is not None  # made above, or kept from the cancelled run being resumed
        self.job.start(resume=resume)

    def cancel(self) -> None:
        if self.job is not None and self.job.is_running():
            self.job.cancel()
            self._say("Stopping at the next iteration…")

    def _set_running(self, running: bool) -> None:
        self.train_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.resume_button.setEnabled(not running and self.job is not None and self.job.can_resume())

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #e53935;" if error else "")

    # -- progress ----------------------------------------------------------------
    def _reset_plot(self) -> None:
        self.plot.clear()
        self._curves.clear()

    def _on_events(self, events: list) -> None:
        for ev in events:
            if ev.phase in ("gan", "encoder", "head", "cond-gan", "cond-encoder"):
                if ev.phase == "gan":
                    self._gan_iterations = ev.iterations
                # the encoder's curves continue to the right of the GAN's
                offset = self._gan_iterations or ev.iterations if ev.phase == "encoder" else 0
                for key, value in ev.losses.items():
                    self._point(f"{ev.phase}:{key}", offset + ev.iteration, float(value))
            if ev.samples is not None:
                self._show_samples(ev.samples)
        for curve, xs, ys in self._curves.values():
            curve.setData(xs, ys)
        self._show_progress(events[-1])
        self.progressed.emit(int(events[-1].iteration))

    def _point(self, name: str, x: int, y: float) -> None:
        if name not in self._curves:
            pen = pg.mkPen(_PENS[len(self._curves) % len(_PENS)], width=1)
            self._curves[name] = (self.plot.plot([], [], pen=pen, name=name), [], [])
        _, xs, ys = self._curves[name]
        xs.append(x)
        ys.append(y)

    def _show_samples(self, samples: np.ndarray) -> None:
        grid = mosaic((np.clip(samples, 0, 1) * 255).astype(np.uint8))
        pixmap = QPixmap.fromImage(gray_qimage(grid))
        self.samples.setPixmap(pixmap.scaled(256, 256, Qt.AspectRatioMode.KeepAspectRatio))
        self.latest_samples = samples

    def _show_progress(self, ev: Any) -> None:
        if ev.phase in ("gan", "encoder"):
            part = (0 if ev.phase == "gan" else 1) + ev.iteration / max(ev.iterations, 1)
            fraction = part / 2  # the encoder phase runs as many epochs as the GAN
            elapsed = time.monotonic() - self._t0
            left = elapsed * (1 - fraction) / fraction if fraction > 0 else 0
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(fraction * 1000))
            self._say(f"{'GAN' if ev.phase == 'gan' else 'Encoder'} epoch {ev.epoch}/{ev.epochs}, "
                      f"{format_seconds(left)} left")
        elif ev.phase in STAGES:
            # the fused engine: one bar per stage, each stage's own share of the work
            self.progress.setRange(0, max(1, ev.iterations))
            self.progress.setValue(min(ev.iteration, ev.iterations))
            self._say(f"{STAGES[ev.phase]}: {ev.iteration} of {ev.iterations}")

    def _on_finished(self, path: str) -> None:
        self.model_path = path
        self.progress.setValue(self.progress.maximum())
        self._set_running(False)
        self._say(f"Model saved to {path}")
        self.modelTrained.emit(path)

    def _on_failed(self, exc: BaseException) -> None:
        self._set_running(False)
        self._say(f"Training failed: {exc}", error=True)

    def _on_cancelled(self) -> None:
        self._set_running(False)
        self._say("Training stopped; Resume continues from the last checkpoint.")

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        if self.job is not None and self.job.is_running():
            self.job.cancel()
            self.job.wait(30)
        super().closeEvent(event)
