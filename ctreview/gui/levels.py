"""Window/level controls of the view toolbar: presets and numeric width/level entry."""
from __future__ import annotations

import math

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QWidget

from ctreview.gui.slice_view import PRESETS, SliceView

MANUAL = "Manual"
"""The preset box's entry once the analyst set the window by hand."""


def grey_value(value: float, digits: int = 4) -> str:
    """A grey value with ``digits`` significant digits, never in exponent form: 12458.96 -> "12459",
    0.012345 -> "0.01235", 3.0 -> "3"."""
    if not math.isfinite(value) or value == 0:
        return "0" if value == 0 else str(value)
    decimals = max(0, min(6, digits - 1 - int(math.floor(math.log10(abs(value))))))
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class GreyValueBox(QDoubleSpinBox):
    """A spin box of grey values that shows about four significant digits (it keeps six decimals)."""

    def textFromValue(self, value: float) -> str:
        return grey_value(value)


def _spin(tip: str) -> QDoubleSpinBox:
    box = GreyValueBox()
    box.setRange(-1e12, 1e12)
    box.setDecimals(6)  # what it keeps; what it shows is grey_value's
    box.setKeyboardTracking(False)  # apply on Enter or leaving the field, not per keystroke
    box.setFixedWidth(84)  # the range would make Qt size it for 13 digits
    box.setToolTip(tip)
    return box


class WindowLevelBox(QWidget):
    """Preset box plus ``W`` (window width) and ``L`` (level, its centre) fields, kept in step with the view.

    A right drag in the view, a drag of the histogram or a typed value
    switches the preset box to :data:`MANUAL`; choosing a preset applies it.
    """

    def __init__(self, view: SliceView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.preset = QComboBox()
        self.preset.addItems([*PRESETS, MANUAL])
        self.preset.currentTextChanged.connect(self._preset_chosen)
        self.width_box = _spin("Window width (grey values shown from black to white)")
        self.level_box = _spin("Level: the grey value in the middle of the window")
        for box in (self.width_box, self.level_box):
            box.valueChanged.connect(self._typed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(" W/L "))
        self.preset.setToolTip("Window/level presets (keys 1-4); Manual once set by hand")
        layout.addWidget(self.preset)
        layout.addWidget(QLabel(" W "))
        layout.addWidget(self.width_box)
        layout.addWidget(QLabel(" L "))
        layout.addWidget(self.level_box)
        view.levels_changed.connect(self._show_levels)

    def _preset_chosen(self, name: str) -> None:
        if name in PRESETS:
            self.view.apply_preset(name)

    def _typed(self, _value: float) -> None:
        self.view.set_window(self.width_box.value(), self.level_box.value())

    def _show_levels(self, lo: float, hi: float, manual: bool) -> None:
        for box, value in ((self.width_box, hi - lo), (self.level_box, (hi + lo) / 2)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        shown = MANUAL if manual else self.view.preset
        if self.preset.currentText() != shown:
            self.preset.blockSignals(True)
            self.preset.setCurrentText(shown)
            self.preset.blockSignals(False)
