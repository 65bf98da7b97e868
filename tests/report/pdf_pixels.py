"""Render PDF pages to RGB pixels and text with pypdfium2 (no system poppler needed)."""
import pypdfium2 as pdfium


def render(path, scale=1.0):
    """Return [(rgb array (y, x, 3), text)] for every page."""
    pdf = pdfium.PdfDocument(str(path))
    pages = []
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            bitmap = page.render(scale=scale, rev_byteorder=True)  # RGB, not BGR
            textpage = page.get_textpage()
            pages.append((bitmap.to_numpy()[..., :3].copy(), textpage.get_text_range()))
            textpage.close()
            bitmap.close()
            page.close()
    finally:
        pdf.close()
    return pages


def red_mask(rgb):
    """Return a (y, x) bool mask of clearly red pixels (the heatmap colour)."""
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    return (r > 180) & (g < 70) & (b < 70)
