"""Independent images: every file (or page) its own sample, sizes may differ, no air needed."""
from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from ctreview.errors import CtreviewError
from ctreview.io import open_images, open_volume
from ctreview.io.images import check_stack
from ctreview.roi import extract_roi


def _texture(seed: int, shape=(48, 64)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal(128, 20, shape)
    return np.clip(base, 0, 255).astype(np.uint8)


@pytest.fixture
def image_folder(tmp_path):
    folder = tmp_path / "tiles"
    folder.mkdir()
    Image.fromarray(_texture(0)).save(folder / "b.png")
    Image.fromarray(_texture(1, (40, 30))).save(folder / "a.png")
    rgb = np.stack([_texture(2)] * 3, axis=-1)
    Image.fromarray(rgb).save(folder / "c.jpg")
    tifffile.imwrite(folder / "d.tif", np.stack([_texture(3), _texture(4)]))
    return folder


def test_every_file_and_page_is_an_image_of_its_own_size(image_folder):
    vol = open_images(image_folder)
    names = [m["name"] for m in vol.metadata["images"]]
    assert names == ["a.png", "b.png", "c.jpg", "d.tif[0]", "d.tif[1]"]
    assert vol.layout == "images" and vol.shape == (5, 48, 64)
    assert vol.valid_box(0) == (0, 0, 40, 30) and vol.valid_box(1) == (0, 0, 48, 64)
    np.testing.assert_array_equal(vol.slice(0)[:40, :30], _texture(1, (40, 30)))
    assert "2 sizes" in " ".join(vol.warnings)


def test_whole_image_roi_needs_no_air_and_follows_each_image(image_folder):
    vol = open_images(image_folder)
    roi = extract_roi(vol, "auto", tile_size=16)
    assert roi.profile.name == "whole-image" and sorted(roi.slices) == list(range(5))
    assert roi.slices[0].boxes == [(0, 0, 40, 30)]
    mask = roi.slices[0].mask(vol.shape[1:])
    assert mask[:40, :30].all() and not mask[40:].any() and not mask[:, 30:].any()
    assert all(y + 16 <= 40 and x + 16 <= 30 for y, x in roi.slices[0].tiles)


def test_a_volume_of_textures_gives_a_clear_message_naming_the_profile(tmp_path):
    path = tmp_path / "textures.tif"
    tifffile.imwrite(path, np.stack([_texture(k) for k in range(6)]))
    with pytest.raises(CtreviewError, match="--profile whole-image"):
        extract_roi(open_volume(path), "whole-part")


def test_a_folder_of_unrelated_slices_says_so(tmp_path):
    folder = tmp_path / "stack"
    folder.mkdir()
    for k in range(6):
        Image.fromarray(_texture(k)).save(folder / f"s{k:02d}.png")
    vol = open_volume(folder)
    assert check_stack(vol) is not None
    assert any("unrelated images" in w and "--images" in w for w in vol.warnings)


def test_a_scan_is_not_taken_for_unrelated_images(tmp_path):
    from ctreview.io import write_tiff
    from ctreview.phantom import make_phantom

    phantom = make_phantom("capacitor", size=64, slices=12, seed=1)
    folder = tmp_path / "scan"
    folder.mkdir()
    for k, plane in enumerate(phantom.volume):
        write_tiff(folder / f"z{k:03d}.tif", plane[None])
    vol = open_volume(folder)
    assert check_stack(vol) is None
    assert not any("unrelated" in w for w in vol.warnings)


def test_bad_images_name_the_file(tmp_path):
    (tmp_path / "x.png").write_bytes(b"not a png")
    with pytest.raises(CtreviewError, match="x.png"):
        open_images(tmp_path / "x.png")
    with pytest.raises(CtreviewError, match="no image files"):
        open_images(tmp_path / "nothing") if (tmp_path / "nothing").mkdir() is None else None
