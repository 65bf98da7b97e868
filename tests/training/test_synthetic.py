"""Synthetic defects: labels cover every change, decoys spare the centre, seeds reproduce."""
import numpy as np
import pytest

from ctreview.training.synthetic import LOOKS, SHAPES, DefectSettings, plant_defects

T = 32


def _stack(n: int = 24, C: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Tiles with a striped disc (the part) on a dark background, and the disc's mask."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:T, :T]
    disc = (yy - 16) ** 2 + (xx - 16) ** 2 < 10 ** 2
    stripes = 1500 * (np.sin(xx / 1.5) > 0)  # structure, so that erasing shows
    tiles = 1000 + (2000 + stripes) * disc + rng.normal(0, 60, (n, C, T, T))
    return tiles.astype(np.float32), np.broadcast_to(disc, (n, T, T)).copy()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("look", LOOKS)
def test_every_changed_centre_pixel_is_labelled_and_inside_the_mask(shape, look):
    tiles, mask = _stack()
    s = DefectSettings(shapes=((shape, 1.0),), looks=((look, 1.0),), decoy=0.0, span=0.5)
    out, labels = plant_defects(tiles, np.random.default_rng(3), mask=mask, offsets=(-6, -3, 3, 6), settings=s)
    changed = out != tiles
    assert not (changed[:, 0] & ~labels).any()
    assert not (changed.any(axis=1) & ~mask).any()  # nothing outside the part, in any slice
    assert not (labels & ~mask).any()
    visible = np.abs(out[:, 0] - tiles[:, 0]).max(axis=(1, 2)) > 3 * 60
    assert (labels.any(axis=(1, 2)) | ~visible).all()  # a visible defect has a label
    assert labels.any(axis=(1, 2)).mean() > 0.5  # and most tiles do get one


def test_decoys_leave_the_centre_and_its_label_alone():
    tiles, mask = _stack()
    out, labels = plant_defects(tiles, np.random.default_rng(1), mask=mask, settings=DefectSettings(decoy=1.0))
    assert np.array_equal(out[:, 0], tiles[:, 0])
    assert not labels.any()
    assert (out[:, 1:] != tiles[:, 1:]).any(axis=(1, 2, 3)).mean() > 0.5


def test_spanning_defects_reach_near_context_slices_weaker():
    tiles, mask = _stack(n=40)
    s = DefectSettings(span=1.0, decoy=0.0, depth=(5.0, 5.0), looks=(("brighter", 1.0),))
    out, labels = plant_defects(tiles, np.random.default_rng(2), mask=mask, offsets=(-6, -3, 3, 6), settings=s)
    change = np.abs(out - tiles).sum(axis=(2, 3))
    assert (change[:, [1, 4]] == 0).all()  # |6| is beyond a half-depth of 5 slices
    assert (change[:, 2] > 0).mean() > 0.5
    assert change[:, 2].sum() < change[:, 0].sum()


def test_seeds_reproduce_and_differ():
    tiles, mask = _stack(n=8)
    a = plant_defects(tiles, np.random.default_rng(7), mask=mask)
    b = plant_defects(tiles, np.random.default_rng(7), mask=mask)
    c = plant_defects(tiles, np.random.default_rng(8), mask=mask)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_one_tile_share_and_empty_mask():
    tiles, mask = _stack(n=1, C=1)
    out, label = plant_defects(tiles[0], np.random.default_rng(0), mask=mask[0])
    assert out.shape == (1, T, T) and label.shape == (T, T) and label.any()
    same, none = plant_defects(tiles, np.random.default_rng(0), share=0.0)
    assert np.array_equal(same, tiles) and not none.any()
    kept, empty = plant_defects(tiles, np.random.default_rng(0), mask=np.zeros_like(mask))
    assert np.array_equal(kept, tiles) and not empty.any()


def test_bad_input_is_refused():
    tiles, mask = _stack(n=2)
    with pytest.raises(ValueError):
        plant_defects(tiles, np.random.default_rng(0), offsets=(3,))
    with pytest.raises(ValueError):
        plant_defects(tiles, np.random.default_rng(0), mask=mask[:1])
    with pytest.raises(ValueError):
        DefectSettings(shapes=(("scratch", 1.0),))
