"""Help pages of the window: how to read the scores, and the legend of the slice view's overlays."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ctreview.gui import overlays

SCORES_HELP = """
<h3>How to read the scores</h3>
<p><b>Score</b> is the model's raw anomaly score of a slice: how unlike the normal parts it was trained on
the slice looks where it looks worst. Its scale depends on the model, so compare scores of one model only.</p>
<p><b>Relative</b> is the score divided by the model's <b>threshold</b>: <b>1.0 is the threshold</b>,
2.0 twice it. The threshold is set when the model is trained, on held-out normal slices the model never
saw: it is the level that only <b>1 % of those normal slices exceed</b>. So on a normal part about one
slice in a hundred is still above 1.0; a slice far above it, or a run of slices above it, is what to
look at first. The ranked list is sorted by relative score; dragging the red line in the Scores plots
moves the threshold the window uses (the model keeps its own).</p>
<p><b>The heatmap</b> shows where in the slice the model sees the difference: each pixel's relative
local score (1.0 = the threshold again). It is transparent below the <i>Cut</i> share of its scale and
fully coloured at the run's highest value; the <b>red boxes</b> enclose the regions at or above the
threshold. View ▸ Legend explains every colour.</p>
<p><b>A defect</b> is one 3D object: neighbouring voxels (across slices too) whose relative score reaches
{seed:g} somewhere and stays at or above {grow:g} around it, at least {min_voxels} voxels. The Defects table
lists them with their slices, position, volume in mm³, equivalent diameter and peak relative score; D and Shift+D step
through them.</p>
<p><b>Decisions</b> record what the analyst concluded:</p>
<ul>
<li><b>Accept</b> (A): normal, nothing to report. Accepted slices can become training data for new
models (Tools ▸ Training sets).</li>
<li><b>Flag</b> (F): a defect; the report lists flagged slices and defects for the quality board.</li>
<li><b>Unsure</b> (U): needs a second look or another opinion; the report lists these too.</li>
</ul>
<p>Shift+A, Shift+F and Shift+U decide the selected defect. Every decision is saved at once and can be
undone (Ctrl+Z). F1 lists every key.</p>
"""
"""Help ▸ How to read the scores (rich text; ``{seed}`` etc. are :class:`DefectSettings` fields)."""


def scores_help() -> str:
    """The page "How to read the scores", with the defect levels of today's defaults."""
    from dataclasses import asdict

    from ctreview.defects.settings import DefectSettings

    return SCORES_HELP.format(**asdict(DefectSettings()))


def _line_swatch(spec: overlays.Overlay, width: int = 44, height: int = 16) -> QPixmap:
    """A small picture of an overlay's line on the slice view's background."""
    pixmap = QPixmap(width, height)
    pixmap.fill(QColor("#1e1e1e"))
    painter = QPainter(pixmap)
    pen = QPen(QColor(spec.colour))
    pen.setWidthF(max(spec.width, 1.0) + 0.5)
    pen.setStyle(spec.style)
    painter.setPen(pen)
    painter.drawLine(QPointF(3, height / 2), QPointF(width - 3, height / 2))
    painter.end()
    return pixmap


def heat_swatch(cmap: str, cut: float, width: int = 160, height: int = 14) -> QPixmap:
    """The heatmap's colour bar, left = 0 and right = full colour, over the slice view's background."""
    lut = overlays.heat_lut(cut, n=width, cmap=cmap)
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    background = QColor("#1e1e1e")
    for x, (r, g, b, a) in enumerate(lut.tolist()):
        share = a / 255.0  # as drawn: the colour blended over the dark background
        colour = QColor(int(r * share + background.red() * (1 - share)),
                        int(g * share + background.green() * (1 - share)),
                        int(b * share + background.blue() * (1 - share)))
        for y in range(height):
            image.setPixelColor(x, y, colour)
    return QPixmap.fromImage(image)


class LegendDialog(QDialog):
    """What each overlay and the heatmap's colours mean; :meth:`update_heat` follows the view's settings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Legend of the slice view")
        grid = QGridLayout()
        self.rows: dict[str, QLabel] = {}
        self.heat_bar = QLabel()
        self.heat_text = QLabel()
        self.heat_text.setWordWrap(True)
        grid.addWidget(self.heat_bar, 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.heat_text, 0, 1)
        for row, (name, spec) in enumerate(overlays.OVERLAYS.items(), start=1):
            swatch = QLabel()
            swatch.setPixmap(_line_swatch(spec))
            text = QLabel(f"<b>{spec.name}</b>: {spec.meaning}")
            text.setWordWrap(True)
            grid.addWidget(swatch, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(text, row, 1)
            self.rows[name] = text
        grid.setColumnStretch(1, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(buttons)
        self.resize(560, 420)

    def update_heat(self, cmap: str, cut: float, scale: float, threshold: float = 1.0) -> None:
        """Show the colour bar of ``cmap`` and the values it spans.

        Parameters
        ----------
        cmap : str
            The heatmap's colour map.
        cut : float
            Share of the scale below which the heatmap is transparent.
        scale : float
            The heatmap value drawn at full colour (0: nothing scored yet).
        threshold : float
            The relative level of the red hot-spot boxes.
        """
        self.heat_bar.setPixmap(heat_swatch(cmap, cut))
        text = ("<b>Heatmap</b> (colours: " + cmap + "): each pixel's relative local score, "
                "1.0 = the model's threshold. ")
        if scale > 0:
            text += (f"Transparent below {cut * scale:.2f} (the Cut slider, {cut:.0%} of the scale), "
                     f"full colour at {scale:.2f}, the run's highest value so far. ")
        else:
            text += f"Transparent below the Cut slider ({cut:.0%} of the run's highest value). "
        text += f"Red boxes mark where it reaches {threshold:.2f}."
        self.heat_text.setText(text)


class ScoresHelpDialog(QDialog):
    """Help ▸ How to read the scores: :data:`SCORES_HELP` in a scrollable page."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("How to read the scores")
        self.page = QTextBrowser()
        self.page.setOpenExternalLinks(False)
        self.page.setHtml(scores_help())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.page)
        layout.addWidget(buttons)
        self.resize(620, 640)
