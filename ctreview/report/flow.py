"""Page-break rules of the PDF's tables: no page holds one leftover row."""
from __future__ import annotations

from reportlab.platypus import TableStyle

KEEP_ROWS = 3
"""Body rows a table keeps together at its start and at its end, across a page break."""


def no_orphans(style: TableStyle, rows: int, *, head: int = 1, keep: int = KEEP_ROWS) -> TableStyle:
    """Return a copy of ``style`` that lets a table of ``rows`` rows break only where ``keep`` body
    rows stay on each side: the first page holds the header and at least ``keep`` rows, the last
    page at least ``keep`` rows (under the repeated header, with ``repeatRows``).

    Parameters
    ----------
    style : TableStyle
        The table's style (left unchanged).
    rows : int
        Rows of the table, header included.
    head : int
        Header rows at its top.
    keep : int
        Body rows kept together at each end; a table of fewer than ``2 * keep`` body rows does not split.
    """
    out = TableStyle(parent=style)
    last = rows - 1
    if last < head:
        return out
    out.add("NOSPLIT", (0, 0), (-1, min(last, head + keep - 1)))
    out.add("NOSPLIT", (0, max(head, last - keep + 1)), (-1, last))
    return out
