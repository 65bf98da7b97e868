"""What the window does so the analyst can trust what it shows.

Per-volume state reset on open, load/ROI warnings in the status bar, the
out-of-domain banner (the shown run's check, or the selected model's before
scoring) with a better-fitting model offered, the model of the run that is
shown, heatmap settings that cannot hide the heatmap silently, and no quit
mid-run without asking.
"""
from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox, QSlider, QStatusBar, QWidget

from ctreview.gui.model_actions import ModelChoice, same_model
from ctreview.gui.notices import DomainBanner, WarningsButton, plural
from ctreview.gui.scoring_panel import ScoringPanel
from ctreview.gui.session import ReviewSession
from ctreview.workers import TaskRunner
from ctreview.workers.domain_tasks import best_fit, model_fit_task, stored_run_task

log = logging.getLogger(__name__)

HEAT_OPACITY_DEFAULT, HEAT_CUT_DEFAULT = 70, 30
MIN_HEAT_OPACITY, MAX_HEAT_CUT = 10, 90
"""A remembered opacity below, or cut above, these would hide the heatmap: reset at start-up, with a note."""


class TrustActions:
    """The warnings, the domain banner and the model of the shown run.

    Parameters
    ----------
    session, runner, scoring, banner, warnings_button, status_bar
        The window's parts this uses.
    models : ModelChoice
        The listed models: which fit the open volume is checked when they are read again.
    """

    def __init__(self, session: ReviewSession, runner: TaskRunner, scoring: ScoringPanel, banner: DomainBanner,
                 warnings_button: WarningsButton, models: ModelChoice, status_bar: QStatusBar) -> None:
        self.session, self.runner, self.scoring, self.banner = session, runner, scoring, banner
        self.warnings_button, self.models, self.status_bar = warnings_button, models, status_bar
        self.fits: dict[str, dict] = {}
        self.run_domain: dict | None = None
        self.run_model: str | None = None
        models.refreshed.connect(self.check_model_fit)
        banner.model_offered.connect(self.use_model)

    # -- a new volume -------------------------------------------------------
    def reset_volume_state(self, volume: Any) -> None:
        """Forget everything that belonged to the previous volume; show this one's warnings."""
        self.fits, self.run_domain, self.run_model = {}, None, None
        self.runner.cancel("fit")
        self.runner.cancel("stored_run")
        self.scoring.reset()
        self.banner.clear()
        self.warnings_button.set_warnings(list(getattr(volume, "warnings", [])))  # the volume logged them

    def add_warnings(self, warnings: list[str]) -> None:
        """Show ROI (or other late) warnings: in the warnings list, and new ones in the status bar."""
        new = self.warnings_button.add(list(warnings))
        if new:
            self.status_bar.showMessage("Warning: " + "; ".join(new), 12000)

    def after_registered(self, run_id: int | None) -> None:
        """Once the volume is in the workspace: its shown run's model and check, and which models fit."""
        if run_id is not None and self.session.workspace is not None:
            self.runner.start("stored_run", stored_run_task, self.session.workspace, run_id,
                              on_return=self._on_stored_run)
        self.check_model_fit()

    def _on_stored_run(self, info: dict) -> None:
        if info.get("run_id") != self.session.run_id:
            return  # another run is shown by now
        self.run_model, self.run_domain = info.get("model_path") or None, info.get("domain") or None
        models = self.models
        if self.run_model and not self.scoring.running and models.cli_model_selected():
            if not same_model(self.run_model, models.cli_model):
                self.status_bar.showMessage(f"Model {models.name()} selected (--model); the scores shown "
                                            f"are from model {info.get('model_name') or self.run_model}", 12000)
        elif self.run_model and not self.scoring.running:
            models.show_run_model(self.run_model, info.get("model_name") or "")
        self.update_banner()

    def run_scored(self, model: str | None, domain: dict | None) -> None:
        """A run of ``model`` is shown now, with its domain check: the banner says so."""
        self.run_model, self.run_domain = model, domain or None
        self.update_banner()

    # -- which model fits ---------------------------------------------------
    def check_model_fit(self) -> None:
        """Compare the open volume with every listed model's domain, in a worker."""
        if self.session.volume is None or not self.models.infos:
            return
        self.runner.start("fit", model_fit_task, self.session.volume, list(self.models.infos),
                          on_return=self._on_fits)

    def _on_fits(self, fits: dict[str, dict]) -> None:
        self.fits = fits
        self.update_banner()

    def use_model(self, path: str) -> None:
        """Select the model at ``path`` (the banner's offer)."""
        if self.scoring.select_model(path):
            self.status_bar.showMessage(f"Model {self.fits.get(path, {}).get('name', path)} selected: "
                                        "score again (Ctrl+R)", 8000)

    def update_banner(self) -> None:
        """The banner: the shown run's domain check first, else the selected model's, with an offer."""
        current = self.scoring.model_path()
        names = self.models.names()
        if self.run_domain and not self.run_domain.get("ok", True):
            self.banner.show_check(self.run_domain, names.get(self.run_model or "", ""))
            judged = self.run_model or current
        else:
            fit = self.fits.get(current or "")
            self.banner.show_check(fit, names.get(current or "", ""), before=True)
            judged = current
        # high scores on a volume like the training data are no reason to switch models
        many = (self.banner.check or {}).get("verdict") == "many slices above threshold"
        better = best_fit(self.fits, judged) if self.banner.isVisible() and not many else None
        better = None if better == current else better  # already selected: nothing to offer
        name = self.fits[better]["name"] if better else ""
        self.banner.offer(better or "", name)
        self.scoring.suggest(better, name)


def volume_status(volume: Any, name: str) -> str:
    """The status bar's line for an opened volume: shape, type and its first warning."""
    text = f"{name}: {' × '.join(map(str, volume.shape))} (z, y, x), {volume.dtype}"
    warnings = list(getattr(volume, "warnings", []))
    if warnings:
        text += f"; {plural(len(warnings), 'warning')}: {warnings[0]}" + (" …" if len(warnings) > 1 else "")
    return text


def restore_heatmap_sliders(settings: QSettings, opacity: QSlider, heat_cut: QSlider) -> list[str]:
    """Set the heatmap's sliders as remembered; return a note for each value that would hide it (reset)."""
    notes = []
    for key, widget, default, bad in (
            ("heat_opacity", opacity, HEAT_OPACITY_DEFAULT, lambda v: v < MIN_HEAT_OPACITY),
            ("heat_cut", heat_cut, HEAT_CUT_DEFAULT, lambda v: v > MAX_HEAT_CUT)):
        value = settings.value(key)
        try:
            value = None if value is None else int(value)
        except (TypeError, ValueError):
            value = None
        if value is None:
            continue
        if bad(value) or not 0 <= value <= 100:
            notes.append(f"{'heatmap opacity' if key == 'heat_opacity' else 'heat cut'} was {value} %, "
                         f"which hides the heatmap: reset to {default} %")
            value = default
        widget.setValue(value)
    return notes


def confirm_quit(runner: TaskRunner, parent: QWidget) -> bool:
    """Ask before quitting while a volume is being scored (the slices scored so far are kept)."""
    if not runner.is_running("score"):
        return True
    answer = QMessageBox.question(
        parent, "Scoring is running",
        "A volume is being scored. Quit anyway?\n\nThe slices scored so far are kept in the "
        "workspace; the rest is not scored.")
    return answer == QMessageBox.StandardButton.Yes
