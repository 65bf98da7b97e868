"""Fixtures of the review-store tests: a TIFF volume on disk and a workspace."""
import pytest
from review_data import make_array, open_test_volume, write_tiff

from ctreview.review import open_workspace


@pytest.fixture
def volume_file(tmp_path):
    return write_tiff(tmp_path / "part_0001.tif", make_array(seed=1))


@pytest.fixture
def volume(volume_file):
    vol = open_test_volume(volume_file)
    yield vol
    vol.close()


@pytest.fixture
def workspace(tmp_path):
    ws = open_workspace(tmp_path / "ws" / "workspace.sqlite")
    yield ws
    ws.close()
