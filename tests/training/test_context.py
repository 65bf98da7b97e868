"""Context stacks: the same tile in slices k + offsets, padded with the nearest ROI slice."""
import numpy as np

from ctreview.roi import extract_roi
from ctreview.roi.context import OFFSETS, SliceReader, context_indices, nearest_slice
from ctreview.training.context import concat_context, slice_stack, volume_context_tiles


def test_offsets_past_the_roi_repeat_the_nearest_roi_slice():
    roi = [4, 5, 6, 7, 8, 9, 10]
    assert context_indices(7, roi) == [7, 4, 4, 10, 10]
    assert context_indices(4, roi, (-3, 3)) == [4, 4, 7]
    assert context_indices(9, roi, (-6, 6)) == [9, 4, 10]
    assert nearest_slice(2, [5, 8]) == 5 and nearest_slice(7, [5, 8]) == 8 and nearest_slice(6, [4, 8]) == 4


def _volume() -> np.ndarray:
    """A bright block from slice 3 to 20 whose grey level encodes the slice index."""
    vol = np.zeros((24, 64, 64), np.float32)
    for k in range(3, 21):
        vol[k, 12:52, 12:52] = 1000 + 100 * k
    return vol + np.random.default_rng(0).normal(0, 5, vol.shape).astype(np.float32)


def test_volume_context_tiles_cut_the_same_place_in_each_slice():
    vol = _volume()
    roi = extract_roi(vol, "whole-part", tile_size=32, stride=16)
    ct = volume_context_tiles(vol, roi, OFFSETS, group=2)
    n = sum(len(s.tiles) for s in roi.slices.values())
    assert ct.tiles.shape == (n, 5, 32, 32) and ct.masks.shape == (n, 32, 32) and len(ct) == n
    keys = sorted(roi.slices)
    for i in (0, n // 2, n - 1):
        k, (y, x) = int(ct.slices[i]), ct.positions[i]
        for c, j in enumerate(context_indices(k, keys)):
            assert np.array_equal(ct.tiles[i, c], vol[j, y:y + 32, x:x + 32])
    assert (ct.groups == 2).all()
    both = concat_context([ct, ct])
    assert len(both) == 2 * n and both.offsets == OFFSETS


def test_slice_stack_reads_volumes_and_arrays_alike():
    from ctreview.io import Volume

    vol = _volume()
    a = slice_stack(SliceReader(vol), 10, list(range(3, 21)), (-3, 3))
    b = slice_stack(SliceReader(Volume.from_array(vol), cache=1), 10, list(range(3, 21)), (-3, 3))
    assert a.shape == (3, 64, 64) and np.array_equal(a, b) and np.array_equal(a[1], vol[7])
