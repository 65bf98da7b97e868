"""Simulated CT phantoms of electronic parts with planted, labelled defects.

Defective phantoms have defect-free twins (same part and pose, independent
noise). Used by the demo, the tests and the benchmarks: every volume comes with the
ground truth of where the part is and where each defect is.
"""
from ctreview.phantom.phantom import PARTS, Phantom, make_phantom, make_twin
from ctreview.phantom.writer import phantom_seed, write_phantom_set

__all__ = ["PARTS", "Phantom", "make_phantom", "make_twin", "phantom_seed", "write_phantom_set"]
