"""What the analyst must not miss: the out-of-domain banner and the warnings of the open volume."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QToolButton, QWidget


def plural(count: int, word: str, many: str | None = None) -> str:
    """``"1 slice"``, ``"2 slices"``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


class DomainBanner(QWidget):
    """A red banner over the ranked list: the model does not know volumes like this one.

    Hidden while the model fits. :meth:`show_check` takes a domain check
    (``{"ok", "reason", "checks"}``, as in ``summary.json["domain"]``);
    :meth:`offer` adds a button to switch to a model that fits better.

    Signals
    -------
    model_offered(str)
        The analyst took the offered model (its folder).
    """

    model_offered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("domain_banner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # else a QWidget ignores its background
        self.setStyleSheet("#domain_banner { background: #5c1a1a; border: 1px solid #e53935; border-radius: 3px; }"
                           "#domain_banner QLabel { color: #ffdede; }")
        self.text = QLabel("")
        self.text.setWordWrap(True)
        self.use = QPushButton("")
        self.use.hide()
        self.use.clicked.connect(self._take_offer)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.use)
        self._offered = ""
        self.check: dict | None = None
        self.hide()

    def _take_offer(self) -> None:
        if self._offered:
            self.model_offered.emit(self._offered)

    def show_check(self, check: dict | None, model_name: str = "", *, before: bool = False) -> None:
        """Show the banner when ``check`` says not ok; hide it otherwise."""
        self.check = check
        if not check or check.get("ok", True):
            self.clear()
            return
        who = f"The model {model_name!r}" if model_name else "The model"
        when = "is not trained for this volume" if before else "scored a volume it was not trained for"
        reason = str(check.get("reason", "")).removeprefix("outside the model's training domain: ")
        if check.get("verdict") == "many slices above threshold":  # the scores are high, not the input odd
            self.text.setText(f"⚠ {reason[:1].upper()}{reason[1:]}.")
        else:
            self.text.setText(f"⚠ {who} {when}: {reason}.")
        self.setToolTip(_details(check))
        self.show()
        self.use.setVisible(bool(self._offered))

    def offer(self, path: str, name: str) -> None:
        """Offer the model at ``path`` as a better fit ("" takes the offer back)."""
        self._offered = path
        self.use.setText(f"Use {name}" if path else "")
        self.use.setVisible(bool(path) and self.isVisible())

    def clear(self) -> None:
        self.check = None
        self.text.setText("")
        self.offer("", "")
        self.hide()


def _details(check: dict) -> str:
    lines = []
    for name, value in (check.get("checks") or {}).items():
        if isinstance(value, dict):
            ok = value.get("ok")
            lines.append(f"{name}: {'ok' if ok else 'OUTSIDE'} "
                         + ", ".join(f"{k}={v}" for k, v in value.items() if k != "ok"))
        else:
            lines.append(f"{name}: {value}")
    return "\n".join(lines)


class WarningsButton(QToolButton):
    """A status-bar button "⚠ N warnings" listing what loading and ROI found doubtful."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setAutoRaise(True)
        self.setMenu(QMenu(self))
        self.warnings: list[str] = []
        self.set_warnings([])

    def set_warnings(self, warnings: list[str]) -> None:
        """Show these warnings (the button hides when there are none)."""
        self.warnings = list(dict.fromkeys(str(w) for w in warnings))
        menu = self.menu()
        menu.clear()
        for text in self.warnings:
            menu.addAction(text).setEnabled(False)
        self.setText(f"⚠ {plural(len(self.warnings), 'warning')}")
        self.setToolTip("\n".join(self.warnings))
        self.setVisible(bool(self.warnings))

    def add(self, warnings: list[str]) -> list[str]:
        """Add warnings; return those that are new."""
        new = [w for w in dict.fromkeys(str(w) for w in warnings) if w not in self.warnings]
        if new:
            self.set_warnings(self.warnings + new)
        return new
