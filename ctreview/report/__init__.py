"""Reports of a review: PDF (summary page, flagged slices with heatmaps), CSV and JSON.

:func:`write_report` is the entry point; it reads everything from the
workspace (:mod:`ctreview.review`) and can run off the GUI thread
(``progress``/``should_stop`` callbacks).
"""
from ctreview.report._data import ReportData, clean_path, clean_text, collect
from ctreview.report.images import slice_png
from ctreview.report.tables import COLUMNS, report_dict
from ctreview.report.writer import write_report

__all__ = ["COLUMNS", "ReportData", "clean_path", "clean_text", "collect", "report_dict",
           "slice_png", "write_report"]
