"""The models the window offers: the picker's list, the ``--model`` given, and their names."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QStatusBar, QWidget

from ctreview.errors import CtreviewError
from ctreview.gui.dialogs import show_error
from ctreview.gui.scoring_panel import ScoringPanel
from ctreview.model import ModelInfo, list_models, read_meta
from ctreview.model.library import engine_of, scorers_of


def same_model(a: str | None, b: str | None) -> bool:
    """Whether two model folder paths name the same folder."""
    return bool(a and b) and Path(str(a)).expanduser().resolve() == Path(str(b)).expanduser().resolve()


class ModelChoice(QObject):
    """The bundled and user models in the scoring panel's picker.

    Parameters
    ----------
    scoring : ScoringPanel
        Holds the picker.
    settings : QSettings
        The model selected last time.
    model : str or Path, optional
        The ``--model`` folder: selected at start and named in the status bar while it is.
    status_bar : QStatusBar
    parent : QWidget
        Parent of the message boxes.

    Signals
    -------
    refreshed()
        The list was read again (a new model may fit the open volume).
    """

    refreshed = Signal()

    def __init__(self, scoring: ScoringPanel, settings: QSettings, model: str | Path | None,
                 status_bar: QStatusBar, parent: QWidget) -> None:
        super().__init__(parent)
        self.scoring, self.settings, self.status_bar, self.parent_widget = scoring, settings, status_bar, parent
        self.hint = str(model) if model else None  # selected by the next refresh
        self.cli_model = str(Path(model).expanduser().resolve()) if model else None  # --model wins
        self.infos: dict[str, ModelInfo] = {}

    def refresh(self) -> None:
        """Re-read the bundled and user models into the picker (after training, say)."""
        infos = list_models()
        self.infos = {str(info.path): info for info in infos}
        if self.hint and self.hint not in self.infos:
            self._add_hinted_model()  # resolves the hint: a relative --model path is kept too
        keep = self.hint or self.scoring.model_path() or self.settings.value("model")
        self.scoring.set_models(list(self.infos.values()), keep=str(keep) if keep else None)
        self.hint = None
        self.refreshed.emit()

    def _add_hinted_model(self) -> None:
        path = Path(str(self.hint)).expanduser().resolve()
        try:
            meta = read_meta(path)
        except CtreviewError as exc:
            show_error(self.parent_widget, "Model", str(exc))
            return
        self.hint = str(path)
        self.infos[str(path)] = ModelInfo(path, str(meta.get("name", path.name)), str(meta.get("profile", "")),
                                          int(meta.get("tile_size", 0)), str(meta.get("created", "")),
                                          engine=engine_of(meta), scorers=scorers_of(meta))

    def cli_model_selected(self) -> bool:
        """Whether the model box still holds the model given with ``--model`` (it wins over a stored run's)."""
        return bool(self.cli_model) and same_model(self.scoring.model_path(), self.cli_model)

    def name(self, path: str | None = None) -> str:
        """The listed name of the model at ``path`` (default: the selected one), else its folder's name."""
        path = path or self.scoring.model_path() or ""
        return str(getattr(self.infos.get(path), "name", "") or Path(path).name)

    def names(self) -> dict[str, str]:
        return {p: getattr(i, "name", p) for p, i in self.infos.items()}

    def show_run_model(self, path: str, name: str) -> None:
        """Select the model of the shown scores in the model box (adding it when it is not listed)."""
        if self.scoring.select_model(path):
            return
        if Path(path).is_dir():
            self.hint = path
            self.refresh()
            if self.scoring.select_model(path):
                return
        self.status_bar.showMessage(f"The scores shown are from model {name or path}, which is no longer "
                                    "on this machine", 12000)
