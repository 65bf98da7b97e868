"""The PDF report: a summary page, then one block per flagged slice.

Text uses the Bitstream Vera fonts shipped with reportlab, embedded in the
file, so every viewer shows the same glyphs (the PDF base-14 fonts are not
embedded and cover Latin-1 only). Pages carry "page N of M", which needs the
page count: :class:`_NumberedCanvas` holds the pages back until the end.
"""
from __future__ import annotations

import io
import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Image, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ctreview import __version__
from ctreview.report.data import ReportData, clean_path, clean_text
from ctreview.report.defects_pdf import defect_story
from ctreview.report.flow import no_orphans
from ctreview.report.images import png_aspect
from ctreview.report.plot import score_plot

FONT, FONT_BOLD = "CtreviewVera", "CtreviewVeraBold"
_fonts_lock = threading.Lock()
GRID = TableStyle([("FONT", (0, 0), (-1, -1), FONT, 8.5), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                   ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#bbbbbb")),
                   ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f0f0"))])


def _register_fonts() -> None:
    with _fonts_lock:
        if FONT in pdfmetrics.getRegisteredFontNames():
            return
        folder = Path(reportlab.__file__).parent / "fonts"
        pdfmetrics.registerFont(TTFont(FONT, str(folder / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "VeraBd.ttf")))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD,
                                      italic=FONT, boldItalic=FONT_BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()

    def make(name: str, parent: str, **kw) -> ParagraphStyle:
        return ParagraphStyle(name, parent=base[parent], **{"fontName": FONT, **kw})

    return {"title": make("t", "Title", fontName=FONT_BOLD, fontSize=17),
            "h2": make("h2", "Heading2", fontName=FONT_BOLD, fontSize=12, spaceBefore=6),
            "body": make("b", "BodyText", fontSize=8.5, leading=11),
            "warn": make("w", "BodyText", fontSize=9, textColor=colors.HexColor("#b00000"))}


class _NumberedCanvas(canvas.Canvas):
    """A canvas that writes "page N of M" once it knows M."""

    footer_left = ""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("initialFontName", FONT)  # else an unused, unembedded Helvetica is listed
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(FONT, 7.5)
            self.setFillColor(colors.HexColor("#555555"))
            self.drawString(18 * mm, 10 * mm, self.footer_left)
            self.drawRightString(A4[0] - 18 * mm, 10 * mm, f"page {self._pageNumber} of {total}")
            super().showPage()
        super().save()


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _short(text: str, limit: int) -> str:
    # A table cell cannot break across pages: an essay-long note would not fit at all.
    lines = text.split("\n")
    if len(text) <= limit and len(lines) <= 12:
        return text
    return "\n".join(lines[:12])[:limit].rstrip() + " … (full note in CSV/JSON)"


def _fmt(value: float | None, spec: str = ".4g") -> str:
    return "–" if value is None else format(value, spec)


def _summary(data: ReportData, st: dict) -> list:
    vol, run, model = data.volume, data.run, data.model or {}
    dates = sorted(h["decided_at"] for r in data.flagged for h in r["history"])
    decided = sorted(r["decided_at"] for r in data.rows if r["decided_at"]) + dates
    facts = [
        ("Volume file", clean_path(vol["path"])), ("Fingerprint", vol["fingerprint"]),
        ("Format", vol["format"] or "–"), ("Shape (z × y × x)", " × ".join(map(str, vol["shape"]))),
        ("Spacing (mm, z y x)", " × ".join(f"{s:g}" for s in vol["spacing"])),
        ("Model", f"{model.get('name') or '–'} ({clean_path(model.get('path'))})"),
        ("Model domain", _domain_text((run.get("summary") or {}).get("domain"))),
        ("Calibration threshold", _fmt(data.threshold)),
        ("Mode / device", f"{run['mode']} / {run['device']}"),
        ("Scoring run", f"#{run['id']}, started {run['started_at'][:19]}, "
                        f"finished {(run['finished_at'] or 'not finished')[:19]} (UTC)"),
        ("Reviewer(s)", ", ".join(data.reviewers) or "–"),
        ("Decisions", f"{min(decided)[:19]} to {max(decided)[:19]} (UTC)" if decided else "none"),
        ("Report written", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
         + f" by ctreview {__version__}")]
    counts = data.counts
    count_rows = [("Slices scored", counts["scored"]), ("Above threshold", counts["above_threshold"]),
                  ("Flagged", counts["flagged"]), ("Accepted", counts["accepted"]),
                  ("Unsure", counts["unsure"]), ("Unreviewed", counts["unreviewed"])]
    width = A4[0] - 36 * mm
    story = [_p("CT inspection report", st["title"]), *_trust(data, st),
             Table([(k, _p(v, st["body"])) for k, v in facts], colWidths=[42 * mm, width - 42 * mm],
                   style=no_orphans(GRID, len(facts), head=0)), Spacer(1, 4 * mm),
             Table([(k, str(v)) for k, v in count_rows], colWidths=[42 * mm, 30 * mm], style=GRID,
                   hAlign="LEFT"),
             _p("Score along z", st["h2"]),
             score_plot(data.rows, data.threshold, {r["slice"] for r in data.flagged},
                        n_slices=int(vol["shape"][0]), width=width, height=62 * mm, font=FONT)]
    story += [_p(note, st["warn"]) for note in data.notes]
    return story


def _domain_text(domain: dict | None) -> str:
    if not domain:
        return "not checked (scored before domain checks)"
    from ctreview.model.domain import MANY_ABOVE, verdict_of

    if verdict_of(domain) == MANY_ABOVE:
        return "inside the model's training domain, but many slices above threshold (see above)"
    if not domain.get("ok", True):
        return "OUTSIDE the model's training domain (see above)"
    if (domain.get("checks") or {}).get("fingerprint"):
        return "not checked: the model has no domain fingerprint"
    return "inside the model's training domain"


def _trust(data: ReportData, st: dict) -> list:
    """First-page notices: the run was outside the model's domain; what loading and the ROI found doubtful."""
    domain = (data.run.get("summary") or {}).get("domain") or {}
    out = []
    if domain and not domain.get("ok", True):
        from ctreview.model.domain import MANY_ABOVE, OUTSIDE_PREFIX, verdict_of

        reason = clean_text(domain.get("reason", "")).removeprefix(OUTSIDE_PREFIX)
        many = verdict_of(domain) == MANY_ABOVE
        who = "" if many else "the model was not trained for volumes like this one: "
        text = f"Warning: {who}{reason}."
        out.append(_p(text, st["warn"]))
    warnings = (domain.get("checks") or {}).get("warnings") or []
    if warnings:
        out.append(_p("Input warnings: " + "; ".join(clean_text(w, keep_newlines=False) for w in warnings), st["body"]))
    return out + ([Spacer(1, 3 * mm)] if out else [])


def _flagged_block(row: dict, png: bytes | None, data: ReportData, st: dict) -> KeepTogether:
    n = data.counts["scored"]
    rank = f"{row['rank']} of {n}" if row["rank"] else "not scored in this run"
    details = [("Score", _fmt(row["score"])),
               ("Relative score", f"{_fmt(row['relative_score'], '.3f')} × threshold"),
               ("Rank", rank), ("Decision", f"{row['decision']} by {row['reviewer']}"),
               ("Decided at", f"{row['decided_at'][:19]} UTC"), ("Note", _short(row["note"], 800) or "–")]
    table = Table([(k, _p(v, st["body"])) for k, v in details], colWidths=[26 * mm, 60 * mm],
                  style=GRID)
    wide = png is not None and png_aspect(png) > 2.0  # scan | expected | anomaly: the page's width
    if png is not None:
        side = 174 * mm if wide else 82 * mm
        picture = Image(io.BytesIO(png), width=side, height=82 * mm, kind="proportional")
    else:
        picture = _p("(slice image not available)", st["body"])
    history = [("When (UTC)", "Reviewer", "Decision", "Note")] + [
        (h["decided_at"][:19].replace("T", " "), _p(h["reviewer"], st["body"]),
         h["status"] + (" (undo)" if h["undo"] else ""), _p(_short(h["note"], 400), st["body"]))
        for h in row["history"]]
    caption = _p("Scan | expected: the slice the model expected (its reconstruction) | anomaly: the scan "
                 "with its heatmap in red", st["body"])
    top = [picture, caption, Spacer(1, 2 * mm), table] if wide else [
        Table([(picture, table)], colWidths=[86 * mm, 88 * mm],
              style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))]
    return KeepTogether([
        _p(f"Slice {row['slice']}", st["h2"]),
        *top,
        Spacer(1, 2 * mm),
        Table(history, colWidths=[34 * mm, 30 * mm, 24 * mm, 86 * mm], style=no_orphans(GRID, len(history)),
              repeatRows=1),
        Spacer(1, 5 * mm)])


def write_pdf(data: ReportData, path: Path, images: dict[int, bytes | None],
              defect_images: dict[int, dict[str, bytes]] | None = None) -> None:
    """Write the PDF report to ``path`` (a temporary file the caller renames).

    ``images`` maps flagged slice index to its PNG (see :func:`images.slice_png`),
    or None where no picture could be drawn; ``defect_images`` maps a flagged
    defect's id to its plane crops (see :func:`defects.defect_planes`).
    """
    _register_fonts()
    # Binary (not ASCII85) streams: smaller files, and reportlab's pure-Python
    # ASCII85 encoder took 90 % of the time of a report with pictures.
    rl_config.useA85 = 0
    st = _styles()
    story = _summary(data, st)
    if data.flagged:
        story += [PageBreak(), _p(f"Flagged slices ({len(data.flagged)})", st["h2"])]
        story += [_flagged_block(row, images.get(row["slice"]), data, st) for row in data.flagged]
    else:
        story.append(_p("No slice is flagged.", st["h2"]))
    if data.defects is not None:
        story += defect_story(data.defects, defect_images or {}, st, FONT, A4[0] - 36 * mm)
    name = os.path.basename(clean_path(data.volume["path"]))
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=18 * mm,
                            title=f"CT inspection report: {name}", author=", ".join(data.reviewers),
                            subject=data.volume["fingerprint"], creator=f"ctreview {__version__}")
    canvas_class = type("_Canvas", (_NumberedCanvas,), {"footer_left": f"ctreview report · {name}"})
    doc.build(story, canvasmaker=canvas_class)
