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
                           "half of it. A defect's decision is the one made on it, one carried from the same "
                           "object in another run of this volume (boxes overlapping by half or more), or that of "
                           "its slices when every one of them was decided the same way; a decision on one slice "
                           "decides that slice only. Positions are centroids in mm.", st["body"]))
    header = ("ID", "Rank", "Slices", "Position z, y, x (mm)", "Volume (mm³)", "Diameter (mm)", "Peak",
              "Decision")
    rows = [header] + [
        (str(d["id"]), str(d["rank"]), f"{d['z0']}–{d['z1'] - 1}",
         f"{d['centroid_z_mm']:.2f}, {d['centroid_y_mm']:.2f}, {d['centroid_x_mm']:.2f}",
         f"{d['volume_mm3']:.3g}", f"{d['diameter_mm']:.3g}", f"{d['peak']:.2f}", _decision_cell(d, st))
        for d in defects]
    style = TableStyle([("FONT", (0, 0), (-1, -1), font, 8), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#bbbbbb")),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0")),
                        ("ALIGN", (0, 1), (2, -1), "RIGHT"), ("ALIGN", (4, 1), (6, -1), "RIGHT")])
    story += [Spacer(1, 2 * mm), Table(rows, colWidths=[10 * mm, 11 * mm, 16 * mm, 38 * mm, 20 * mm, 20 * mm,
                                                         12 * mm, 38 * mm], style=no_orphans(style, len(rows)),
                                       repeatRows=1,
                                       hAlign="LEFT")]
    for d in flagged_defects(defects):
        story.append(_flagged(d, images.get(d["id"]), st, width))
    return story


def _decision_cell(d: dict, st: dict) -> Paragraph:
    """``flagged (made on the defect)``, ``– (its slices were decided differently)``, ``–``; flagged in red."""
    origin = d.get("decision_from") or ""
    text = escape(_TEXT.get(d["decision"], "–") + (f" ({origin})" if origin else ""))
    return Paragraph(f'<font color="#b00000">{text}</font>' if d["decision"] == "flag" else text, st["body"])


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
