"""Simulated CT phantoms of electronic parts with planted, labelled defects.

Used by the demo, the tests and the benchmarks: every volume comes with the
ground truth of where the part is and where each defect is.
"""
from ctreview.phantom.phantom import PARTS, Phantom, make_phantom
from ctreview.phantom.writer import phantom_seed, write_phantom_set

__all__ = ["PARTS", "Phantom", "make_phantom", "phantom_seed", "write_phantom_set"]
