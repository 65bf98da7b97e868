"""Component profiles: bundled ones load, broken ones name the file and the field."""
import numpy as np
import pytest

from ctreview.errors import CtreviewError
from ctreview.roi import extract_roi, list_profiles, load_profile


def test_bundled_profiles_load():
    assert {"whole-part", "transformer", "capacitor"} <= set(list_profiles())
    for name in list_profiles():
        profile = load_profile(name)
        assert profile.name == name and profile.regions and 0 < profile.stride <= profile.tile_size
    assert load_profile("transformer").augment == {"flip": True, "rot90": False}


def test_profile_from_path_is_used(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\n[tiles]\nsize = 16\nstride = 8\n'
                    '[[regions]]\nname = "top"\nz = [0.5, 1.0]\nshape = "box"\nbox = [-0.5, -0.5, 0.5, 0.5]\n')
    vol = np.zeros((20, 64, 64), np.float32)
    vol[4:16, 10:50, 16:56] = 100
    vol += np.random.default_rng(0).normal(0, 1, vol.shape)
    roi = extract_roi(vol, path)
    assert roi.profile.name == "mine" and roi.tile_size == 16
    assert min(roi.slices) >= 10  # only the upper half of the part
    y0, x0, y1, x1 = roi.slices[12].boxes[0]
    assert y1 - y0 < 30 and x1 - x0 < 30  # half the extent along each axis


@pytest.mark.parametrize("text, field", [
    ("name = 'x'\n[tiles]\nsize = 'big'\n", "tiles.size"),
    ("name = 'x'\n[tiles]\nsize = 32\nstride = 64\n", "tiles.stride"),
    ("name = 'x'\n[[regions]]\nshape = 'star'\n", "regions[0].shape"),
    ("name = 'x'\n[[regions]]\nz = [0.8, 0.2]\n", "regions[0].z"),
    ("name = 'x'\n[[regions]]\nshape = 'ring'\ninner = 2.0\nouter = 1.0\n", "regions[0].inner"),
    ("name = 'x'\nregions = []\n", "regions"),
    ("name = 'x'\n[augment]\nflip = 'yes'\n", "augment"),
])
def test_bad_field_names_file_and_field(tmp_path, text, field):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(CtreviewError) as info:
        load_profile(path)
    assert str(path) in str(info.value) and f"'{field}'" in str(info.value)


def test_broken_toml_and_unknown_name(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("name = [unclosed\n")
    with pytest.raises(CtreviewError, match="broken TOML"):
        load_profile(path)
    with pytest.raises(CtreviewError, match="unknown profile"):
        load_profile("no-such-part")
    with pytest.raises(CtreviewError, match="not found"):
        load_profile(tmp_path / "missing.toml")
