"""Relative heatmaps -> 3D defect objects with their box, position and size in voxels and mm.

Core package: never imports Qt. :func:`find_defects` labels a whole heatmap
slab by slab (bounded memory, a ``heatmap.tif`` memory map is fine);
:class:`DefectTracker` gives the provisional objects of a run while it
streams; :class:`DefectSettings` holds the levels and the minimum size.
"""
from ctreview.defects.decisions import (
                                        SAME_OBJECT_IOU,
                                        DefectVerdict,
                                        carried_verdicts,
                                        defect_decision,
                                        defect_note,
                                        defect_verdict,
                                        same_object,
)
from ctreview.defects.label import SLAB_BYTES, find_defects, iter_defects, slab_slices
from ctreview.defects.objects import CSV_COLUMNS, Defect, sphere_diameter, worst_first, write_defects_csv
from ctreview.defects.settings import DefectSettings
from ctreview.defects.sources import SliceStack
from ctreview.defects.stream import TRACKER_BYTES, DefectTracker, RunDefects

__all__ = ["CSV_COLUMNS", "SAME_OBJECT_IOU", "SLAB_BYTES", "TRACKER_BYTES", "Defect", "DefectSettings",
           "DefectTracker", "DefectVerdict", "RunDefects", "SliceStack", "carried_verdicts", "defect_decision",
           "defect_note", "defect_verdict", "same_object", "find_defects", "iter_defects", "slab_slices",
           "sphere_diameter", "worst_first", "write_defects_csv"]
