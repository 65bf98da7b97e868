"""The PDF's defect section: a table of every defect, then the flagged ones in three planes."""
from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Image, KeepTogether, Paragraph, Spacer, Table, TableStyle

from ctreview.report.defects import flagged_defects
from ctreview.report.flow import no_orphans

_TEXT = {"accept": "accepted", "flag": "flagged", "unsure": "unsure"}
_PLANES = (("axial", "axial (z = {peak_slice})"), ("xz", "XZ (y = {peak_y})"), ("yz", "YZ (x = {peak_x})"))


def defect_story(defects: list[dict], images: dict[int, dict[str, bytes]], st: dict, font: str,
                 width: float) -> list:
    """Flowables of the section: the table (worst first), then a block per flagged defect."""
    story: list = [Paragraph(f"3D defects ({len(defects)})", st["h2"])]
    if not defects:
        return story + [Paragraph("No defect above the threshold in this run.", st["body"])]
    story.append(Paragraph("Connected regions of the heatmap above the calibrated threshold, grown through "
                           "half of it; a defect's decision comes from its slices (one flagged slice "
                           "flags it). Positions are centroids in mm.", st["body"]))
    header = ("ID", "Rank", "Slices", "Position z, y, x (mm)", "Volume (mm³)", "Diameter (mm)", "Peak",
              "Decision")
    rows = [header] + [
        (str(d["id"]), str(d["rank"]), f"{d['z0']}–{d['z1'] - 1}",
         f"{d['centroid_z_mm']:.2f}, {d['centroid_y_mm']:.2f}, {d['centroid_x_mm']:.2f}",
         f"{d['volume_mm3']:.3g}", f"{d['diameter_mm']:.3g}", f"{d['peak']:.2f}", _TEXT.get(d["decision"], "–"))
        for d in defects]
    style = TableStyle([("FONT", (0, 0), (-1, -1), font, 8), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#bbbbbb")),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0")),
                        ("ALIGN", (0, 1), (2, -1), "RIGHT"), ("ALIGN", (4, 1), (6, -1), "RIGHT")])
    for row, d in enumerate(defects, start=1):
        if d["decision"] == "flag":
            style.add("TEXTCOLOR", (7, row), (7, row), colors.HexColor("#b00000"))
    story += [Spacer(1, 2 * mm), Table(rows, colWidths=[10 * mm, 11 * mm, 16 * mm, 41 * mm, 25 * mm, 25 * mm,
                                                         13 * mm, 20 * mm], style=no_orphans(style, len(rows)),
                                       repeatRows=1,
                                       hAlign="LEFT")]
    for d in flagged_defects(defects):
        story.append(_flagged(d, images.get(d["id"]), st, width))
    return story


def _flagged(d: dict, pictures: dict[str, bytes] | None, st: dict, width: float) -> KeepTogether:
    title = (f"Defect {d['id']} (rank {d['rank']}): slices {d['z0']}–{d['z1'] - 1}, {d['volume_mm3']:.3g} mm³, "
             f"diameter {d['diameter_mm']:.3g} mm, peak {d['peak']:.2f} × threshold")
    if not pictures:
        return KeepTogether([Paragraph(escape(title), st["h2"]),
                             Paragraph("(pictures not available)", st["body"]), Spacer(1, 4 * mm)])
    cell = width / 3 - 2 * mm
    cells, captions = [], []
    for name, caption in _PLANES:
        png = pictures.get(name)
        cells.append(Image(io.BytesIO(png), width=cell, height=cell, kind="proportional") if png else "")
        captions.append(Paragraph(escape(caption.format(**d)), st["body"]))
    grid = Table([cells, captions], colWidths=[width / 3] * 3,
                 style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (0, 0), (-1, -1), "CENTER")]))
    return KeepTogether([Paragraph(escape(title), st["h2"]), grid, Spacer(1, 4 * mm)])
