"""Training sets: tiles of accepted (normal) slices, with their provenance.

A training set is a folder with ``manifest.json`` and one memory-mappable
``.npy`` of tiles per source volume (see :mod:`ctreview.dataset.manifest`).
:func:`export_training_set` fills it from reviewed volumes,
:func:`load_training_tiles` hands its tiles to training, :func:`summarise`
and :func:`prune` inspect and clean it.
"""
from ctreview.dataset.export import ExportSummary, SourceSummary, export_training_set, iter_export, preview_export
from ctreview.dataset.manifest import FORMAT_VERSION, MANIFEST_NAME, Manifest, read_manifest
from ctreview.dataset.selection import SliceSelection, select_slices
from ctreview.dataset.store import TrainingSet
from ctreview.dataset.summary import (
                                     format_summary,
                                     is_training_set,
                                     load_training_tiles,
                                     open_training_set,
                                     prune,
                                     summarise,
                                     training_groups,
)

__all__ = ["ExportSummary", "FORMAT_VERSION", "MANIFEST_NAME", "Manifest", "SliceSelection",
           "SourceSummary", "TrainingSet", "select_slices", "export_training_set", "format_summary", "is_training_set",
           "iter_export", "load_training_tiles", "open_training_set", "preview_export", "prune",
           "read_manifest", "summarise", "training_groups"]
