"""Scoring from the window: the part's ROI, a run streamed into the session, cancelling it.

Long work goes to the :class:`~ctreview.workers.TaskRunner`; its errors
arrive in the window's one error handler.
"""
from __future__ import annotations

import time
from typing import Any

from PySide6.QtWidgets import QStatusBar

from ctreview.gui.model_actions import ModelChoice
from ctreview.gui.notices import plural
from ctreview.gui.scoring_panel import ScoringPanel
from ctreview.gui.session import ReviewSession
from ctreview.gui.slice_list import SliceList
from ctreview.gui.trust_actions import TrustActions
from ctreview.scoring.settings import ScoringSettings
from ctreview.workers import TaskRunner, roi_task, score_task
from ctreview.workers.tasks import ResultsBatch


class ScoringActions:
    """Score the open volume with the model selected in the scoring panel.

    Parameters
    ----------
    session, runner, scoring, slice_list, status_bar
        The window's parts this uses.
    models : ModelChoice
        The listed models (the ROI's profile and tile size, the model's name).
    trust : TrustActions
        Told the warnings and the domain check a run brings.
    """

    def __init__(self, session: ReviewSession, runner: TaskRunner, scoring: ScoringPanel, slice_list: SliceList,
                 models: ModelChoice, trust: TrustActions, status_bar: QStatusBar) -> None:
        self.session, self.runner, self.scoring, self.slice_list = session, runner, scoring, slice_list
        self.models, self.trust, self.status_bar = models, trust, status_bar
        self._scoring_model = ""
        self._score_started = 0.0
        self._slice_at_start = 0
        scoring.run_requested.connect(self.start_scoring)
        scoring.cancel_requested.connect(self.cancel_scoring)
        scoring.models.currentIndexChanged.connect(lambda _i: self.model_changed())

    # -- models and ROI -----------------------------------------------------
    def model_changed(self) -> None:
        self.trust.update_banner()
        if self.session.volume_id is not None and not self.runner.is_running("score"):
            self.start_roi()

    def start_roi(self) -> None:
        """Find the part's ROI for the selected model, in a worker (shown before any scoring)."""
        info = self.models.infos.get(self.scoring.model_path() or "")
        if self.session.volume is None or info is None:
            return
        self.runner.start("roi", roi_task, self.session.volume, info.profile or "whole-part",
                          info.tile_size or None, on_return=self._on_roi)

    def _on_roi(self, roi: Any) -> None:
        self.session.set_roi(roi, self.scoring.model_path())
        self.trust.add_warnings(list(roi.warnings))

    # -- scoring ------------------------------------------------------------
    def score_clicked(self) -> None:
        """Scoring ▸ Score volume (Ctrl+R): the selected model and mode, unless a run is going."""
        if not self.scoring.running and self.scoring.model_path():
            self.start_scoring(self.scoring.model_path() or "", self.scoring.mode.currentText())

    def start_scoring(self, model_path: str, mode: str) -> None:
        """Score the open volume with the model at ``model_path``."""
        session = self.session
        if session.volume is None or session.volume_id is None or session.workspace is None:
            self.status_bar.showMessage("Open a volume first (and a workspace to keep the scores)", 5000)
            return
        roi = session.roi if session.roi_model == model_path else None
        if roi is None:
            self.runner.cancel("roi")  # the scoring task finds it
        total = len(roi.slices) if roi is not None else len(session.volume)
        self.scoring.set_running(True, total)
        self._score_started = time.monotonic()
        self._slice_at_start = session.current
        self._scoring_model = model_path
        settings = ScoringSettings(mode=mode, anogan_steps=self.scoring.anogan_steps())
        self.runner.start("score", score_task, session.volume, model_path, settings,
                          workspace=session.workspace, roi=roi,
                          on_yield=self._on_score, on_return=self._on_scored)

    def _on_score(self, event: Any) -> None:
        if isinstance(event, ResultsBatch):
            self.session.add_results(event.results)
            self.scoring.add_done([r.index for r in event.results],
                                  refining=any(r.stage == "refined" for r in event.results))
        else:  # RunStarted
            self.session.start_run(event.run_id)
            self.session.set_roi(event.roi, self.scoring.model_path())
            self.scoring.set_total(event.total)
            self.trust.add_warnings(list(event.roi.warnings))
            self.trust.run_scored(self._scoring_model, event.domain)
            self._say_scoring(event.device, getattr(event, "scale", ""))

    def _say_scoring(self, device: str, scale: str = "") -> None:
        """The status bar names the model scoring, why it is that one, and the device with its threads."""
        # not at the top: the window opens before torch is loaded; the scoring worker has loaded it by now
        from torch import device as torch_device

        from ctreview.model.device import describe

        why = "given with --model" if self.models.cli_model_selected() else "selected in the model box"
        self.status_bar.showMessage(f"Scoring with model {self.models.name(self._scoring_model)} ({why}) on "
                                    f"{describe(torch_device(device))}" + (f"; {scale}" if scale else ""), 15000)

    def _on_scored(self, summary: Any) -> None:
        self.scoring.set_running(False)
        scores = self.session.scores
        above = self.session.above_threshold()
        seconds = time.monotonic() - self._score_started
        self.scoring.rate.setText(f"{len(scores)} slices in {seconds:.0f} s")
        self.trust.run_scored(self.trust.run_model, summary.domain)
        self.status_bar.showMessage(self._scored_text(summary, len(scores), above, seconds), 15000)
        order = self.slice_list.proxy.slices_in_order()
        if order and self.session.current == self._slice_at_start:
            # the analyst has not moved meanwhile: start the review at rank 1
            self.session.set_current(order[0])
        self.slice_list.select_slice(self.session.current)

    def _scored_text(self, summary: Any, n: int, above: int, seconds: float) -> str:
        text = f"Scored {plural(n, 'slice')} in {seconds:.1f} s; {above} above the threshold"
        volume = getattr(summary, "volume", None) or {}
        binning = volume.get("binning") or [1, 1, 1]
        if any(int(b) > 1 for b in binning):
            text += f"; scored binned {'x'.join(str(int(b)) for b in binning)} (the model's working scale)"
        domain = self.trust.run_domain
        if domain and not domain.get("ok", True):
            text += "; the model was not trained for this volume (see the banner)"
        model = getattr(summary, "model", None) or {}
        if int(model.get("format_version") or 2) == 1:
            text += (f"; model {model.get('name')} is an AnoGAN model of format 1: scored as a fused model "
                     "with one AnoGAN scorer")
        return text

    def cancel_scoring(self) -> None:
        """Stop a running scoring; the slices scored so far stay."""
        running = self.runner.is_running("score")
        if running:
            self.runner.cancel("score")
            self.status_bar.showMessage("Scoring cancelled; the slices scored so far are kept", 8000)
        self.scoring.set_running(False, cancelled=running)
