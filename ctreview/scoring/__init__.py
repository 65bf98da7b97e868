"""Volume -> stream of slice results (score, heatmap, best tile), and run folders.

Core package: never imports Qt.
"""
from ctreview.scoring.run import CSV_HEADER, RunWriter, record_run, write_run
from ctreview.scoring.stitch import stitch
from ctreview.scoring.stream import ScoredSlice, score_volume

__all__ = ["CSV_HEADER", "RunWriter", "record_run", "write_run", "stitch", "ScoredSlice", "score_volume"]
