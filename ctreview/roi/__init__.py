"""Classical ROI extraction: part segmentation, pose, component profiles, tiles.

The anomaly model only sees what this package hands it: the part's
cross-section (or the regions a component profile names) in every slice,
cut into native-resolution tiles.
"""
from ctreview.roi.extract import RoiResult, SliceRoi, extract_roi, iter_roi
from ctreview.roi.pose import align_slice
from ctreview.roi.profiles import Profile, ProfileSpec, Region, list_profiles, load_profile
from ctreview.roi.stitch import stitch
from ctreview.roi.tiles import cut_tiles

__all__ = ["Profile", "ProfileSpec", "Region", "RoiResult", "SliceRoi", "align_slice", "cut_tiles",
           "extract_roi", "iter_roi", "list_profiles", "stitch", "load_profile"]
