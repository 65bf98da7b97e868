"""Stitching tile maps: no bands along tile borders, values in the tiles' own units."""
from __future__ import annotations

import numpy as np

from ctreview.roi.stitch import EDGE_FLOOR, stitch, tile_window


def _grid(shape, t, stride):
    return [(y, x) for y in range(0, shape[0] - t + 1, stride) for x in range(0, shape[1] - t + 1, stride)]


def test_window_is_positive_everywhere_and_peaks_in_the_middle():
    w = tile_window(32)
    assert w.shape == (32, 32) and w.min() > 0 and w.max() <= 1
    assert w[16, 16] > w[0, 16] and np.allclose(w, w.T)


def test_a_tile_with_bright_borders_leaves_no_band():
    """A tile network is worst at its borders: a bright frame must not become red lines in the slice."""
    t, shape, stride = 32, (96, 96), 24
    tiles = _grid(shape, t, stride)
    maps = np.full((len(tiles), t, t), 0.2, np.float32)
    maps[:, :2, :] = maps[:, -2:, :] = maps[:, :, :2] = maps[:, :, -2:] = 1.0
    hard = np.zeros(shape, np.float32)  # the old stitching: a plain average
    count = np.zeros(shape, np.float32)
    for m, (y, x) in zip(maps, tiles):
        hard[y:y + t, x:x + t] += m
        count[y:y + t, x:x + t] += 1
    hard /= np.maximum(count, 1)
    soft = stitch(maps, tiles, shape, sigma=0)
    inner = (slice(t, shape[0] - t), slice(t, shape[1] - t))  # covered by more than one tile
    # the frame's excess over the normal 0.2, over the part covered by several tiles
    assert np.mean(soft[inner]) - 0.2 < 0.4 * (np.mean(hard[inner]) - 0.2)
    assert soft[inner].max() < 0.5 < 0.75 < hard[inner].max()


def test_values_stay_within_the_tiles_range_and_a_lone_tile_keeps_its_inside():
    rng = np.random.default_rng(0)
    t, shape = 16, (40, 40)
    tiles = _grid(shape, t, 12)
    maps = rng.random((len(tiles), t, t)).astype(np.float32) * 3
    out = stitch(maps, tiles, shape, sigma=0)
    assert out.max() <= maps.max() + 1e-6 and out.min() >= 0
    lone = stitch(maps[:1], tiles[:1], shape, sigma=0)
    inside = tile_window(t) >= EDGE_FLOOR
    assert np.allclose(lone[:t, :t][inside], maps[0][inside])
    assert (lone[:t, :t] <= maps[0] + 1e-6).all()


def test_the_outer_border_of_the_tiled_area_fades():
    """Seen on a real scan: the tiles' outer edge, covered by nothing else, drew a bright frame."""
    t = 64
    maps = np.full((1, t, t), 0.05, np.float32)
    maps[0, :4, :] = maps[0, :, :4] = 0.6  # a 4-pixel frame, as on the fly scan
    out = stitch(maps, [(8, 8)], (80, 80), sigma=0)
    assert out[8:8 + t, 8:8 + t].max() < 0.4
    assert out[8 + t // 2, 8 + t // 2] == np.float32(0.05)
