"""No page of the PDF holds a single leftover table row: a table breaks with rows kept together."""
from pdf_pixels import render
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer

from ctreview.report.defects_pdf import defect_story
from ctreview.report.flow import KEEP_ROWS
from ctreview.report.pdf import FONT, _register_fonts, _styles


def _defects(n: int) -> list[dict]:
    return [{"id": i + 1, "rank": i + 1, "z0": i, "z1": i + 2, "centroid_z_mm": 1.0, "centroid_y_mm": 2.0,
             "centroid_x_mm": 3.0, "volume_mm3": 35_125_000.0, "diameter_mm": 12.5, "peak": 1.5,
             "decision": "unsure"} for i in range(n)]


def _rows_per_page(path, lead_mm: float, n: int) -> list[int]:
    _register_fonts()
    doc = SimpleDocTemplate(str(path), pagesize=A4, topMargin=16 * mm, bottomMargin=18 * mm)
    story = [Spacer(1, lead_mm * mm)] + defect_story(_defects(n), {}, _styles(), FONT, A4[0] - 36 * mm)
    doc.build(story)
    return [text.count("unsure") for _, text in render(path, scale=0.2)]


def test_a_defect_table_never_leaves_one_or_two_rows_on_a_page(tmp_path):
    seen_breaks = 0
    for i, lead in enumerate(range(170, 250, 4)):  # the table starts lower and lower on the first page
        for n in (4, 7, 40):
            pages = _rows_per_page(tmp_path / f"t{i}_{n}.pdf", lead, n)
            assert sum(pages) == n
            assert all(rows == 0 or rows >= min(KEEP_ROWS, n) for rows in pages), (lead, n, pages)
            seen_breaks += sum(1 for rows in pages if rows) > 1
    assert seen_breaks  # some tables did break across pages
