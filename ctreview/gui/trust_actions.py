"""What the window does so the analyst can trust what it shows.

A mixin of :class:`~ctreview.gui.main_window.MainWindow`: per-volume state
reset on open, load/ROI warnings in the status bar, the out-of-domain banner
(the shown run's check, or the selected model's before scoring) with a
better-fitting model offered, the model of the run that is shown, heatmap
settings that cannot hide the heatmap silently, and no quit mid-run without asking.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox

from ctreview.gui.notices import plural
from ctreview.workers.domain_tasks import best_fit, model_fit_task, stored_run_task

log = logging.getLogger(__name__)

HEAT_OPACITY_DEFAULT, HEAT_CUT_DEFAULT = 70, 30
MIN_HEAT_OPACITY, MAX_HEAT_CUT = 10, 90
"""A remembered opacity below, or cut above, these would hide the heatmap: reset at start-up, with a note."""


def same_model(a: str | None, b: str | None) -> bool:
    """Whether two model folder paths name the same folder."""
    return bool(a and b) and Path(str(a)).expanduser().resolve() == Path(str(b)).expanduser().resolve()


class TrustActions:
    """Mixin of :class:`MainWindow`; expects its widgets, ``session``, ``runner`` and ``settings``."""

    _fits: dict[str, dict] = {}
    _run_domain: dict | None = None
    _run_model: str | None = None
    _cli_model: str | None = None

    # -- a new volume -------------------------------------------------------
    def reset_volume_state(self, volume: Any) -> None:
        """Forget everything that belonged to the previous volume; show this one's warnings."""
        self._fits, self._run_domain, self._run_model = {}, None, None
        self.runner.cancel("fit")
        self.runner.cancel("stored_run")
        self.scoring.reset()
        self.domain_banner.clear()
        self.warnings_button.set_warnings(list(getattr(volume, "warnings", [])))  # the volume logged them

    def volume_status(self, volume: Any, name: str) -> str:
        text = f"{name}: {' × '.join(map(str, volume.shape))} (z, y, x), {volume.dtype}"
        warnings = list(getattr(volume, "warnings", []))
        if warnings:
            text += f"; {plural(len(warnings), 'warning')}: {warnings[0]}" + (" …" if len(warnings) > 1 else "")
        return text

    def add_warnings(self, warnings: list[str]) -> None:
        """Show ROI (or other late) warnings: in the warnings list, and new ones in the status bar."""
        new = self.warnings_button.add(list(warnings))
        if new:
            self.statusBar().showMessage("Warning: " + "; ".join(new), 12000)

    def after_registered(self, run_id: int | None) -> None:
        """Once the volume is in the workspace: its shown run's model and check, and which models fit."""
        if run_id is not None and self.session.workspace is not None:
            self.runner.start("stored_run", stored_run_task, self.session.workspace, run_id,
                              on_return=self._on_stored_run)
        self.check_model_fit()

    def _on_stored_run(self, info: dict) -> None:
        if info.get("run_id") != self.session.run_id:
            return  # another run is shown by now
        self._run_model, self._run_domain = info.get("model_path") or None, info.get("domain") or None
        if self._run_model and not self.scoring.running and self.cli_model_selected():
            if not same_model(self._run_model, self._cli_model):
                self.statusBar().showMessage(f"Model {self.model_name()} selected (--model); the scores shown "
                                             f"are from model {info.get('model_name') or self._run_model}", 12000)
        elif self._run_model and not self.scoring.running:
            self.show_run_model(self._run_model, info.get("model_name") or "")
        self.update_banner()

    def cli_model_selected(self) -> bool:
        """Whether the model box still holds the model given with ``--model`` (it wins over a stored run's)."""
        return bool(self._cli_model) and same_model(self.scoring.model_path(), self._cli_model)

    def model_name(self, path: str | None = None) -> str:
        path = path or self.scoring.model_path() or ""
        return str(getattr(self._model_infos.get(path), "name", "") or Path(path).name)

    def show_run_model(self, path: str, name: str) -> None:
        """Select the model of the shown scores in the model box (adding it when it is not listed)."""
        if self.scoring.select_model(path):
            return
        if Path(path).is_dir():
            self._model_hint = path
            self.refresh_models()
            if self.scoring.select_model(path):
                return
        self.statusBar().showMessage(f"The scores shown are from model {name or path}, which is no longer "
                                     "on this machine", 12000)

    # -- which model fits ---------------------------------------------------
    def check_model_fit(self) -> None:
        """Compare the open volume with every listed model's domain, in a worker."""
        if self.session.volume is None or not self._model_infos:
            return
        self.runner.start("fit", model_fit_task, self.session.volume, list(self._model_infos),
                          on_return=self._on_fits)

    def _on_fits(self, fits: dict[str, dict]) -> None:
        self._fits = fits
        self.update_banner()

    def use_model(self, path: str) -> None:
        """Select the model at ``path`` (the banner's offer)."""
        if self.scoring.select_model(path):
            self.statusBar().showMessage(f"Model {self._fits.get(path, {}).get('name', path)} selected: "
                                         "score again (Ctrl+R)", 8000)

    def update_banner(self) -> None:
        """The banner: the shown run's domain check first, else the selected model's, with an offer."""
        current = self.scoring.model_path()
        names = {p: getattr(i, "name", p) for p, i in self._model_infos.items()}
        if self._run_domain and not self._run_domain.get("ok", True):
            self.domain_banner.show_check(self._run_domain, names.get(self._run_model or "", ""))
            judged = self._run_model or current
        else:
            fit = self._fits.get(current or "")
            self.domain_banner.show_check(fit, names.get(current or "", ""), before=True)
            judged = current
        # high scores on a volume like the training data are no reason to switch models
        many = (self.domain_banner.check or {}).get("verdict") == "many slices above threshold"
        better = best_fit(self._fits, judged) if self.domain_banner.isVisible() and not many else None
        better = None if better == current else better  # already selected: nothing to offer
        name = self._fits[better]["name"] if better else ""
        self.domain_banner.offer(better or "", name)
        self.scoring.suggest(better, name)

    # -- settings that could hide the heatmap --------------------------------
    def _restore_heatmap_sliders(self) -> None:
        notes = []
        for key, widget, default, bad in (
                ("heat_opacity", self.opacity, HEAT_OPACITY_DEFAULT, lambda v: v < MIN_HEAT_OPACITY),
                ("heat_cut", self.heat_cut, HEAT_CUT_DEFAULT, lambda v: v > MAX_HEAT_CUT)):
            value = self.settings.value(key)
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
        self._startup_notes = notes

    # -- quitting -----------------------------------------------------------
    def confirm_quit(self) -> bool:
        """Ask before quitting while a volume is being scored (the slices scored so far are kept)."""
        if not self.runner.is_running("score"):
            return True
        answer = QMessageBox.question(
            self, "Scoring is running",
            "A volume is being scored. Quit anyway?\n\nThe slices scored so far are kept in the "
            "workspace; the rest is not scored.")
        return answer == QMessageBox.StandardButton.Yes
