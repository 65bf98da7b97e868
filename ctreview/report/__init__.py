"""Reports of a review: PDF (summary page, flagged slices with heatmaps), CSV and JSON.

:func:`write_report` is the entry point; it reads everything from the
workspace (:mod:`ctreview.review`). :func:`iter_report` is the same as a
generator of progress events, for a worker off the GUI thread.
"""
from ctreview.report.data import ReportData, clean_path, clean_text, collect
from ctreview.report.images import slice_png
from ctreview.report.tables import COLUMNS, report_dict
from ctreview.report.writer import iter_report, write_report

__all__ = ["COLUMNS", "ReportData", "clean_path", "clean_text", "collect", "report_dict",
           "iter_report", "slice_png", "write_report"]
