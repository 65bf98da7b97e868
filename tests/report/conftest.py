"""Fixtures of the report tests: a scored and reviewed volume in a workspace.

The data builders are shared with the review-store tests (tests/review/review_data.py).
"""
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "review"))

from review_data import make_array, open_test_volume, scored_workspace, write_tiff  # noqa: E402

from ctreview.review import Workspace  # noqa: E402


@pytest.fixture
def reviewed(tmp_path):
    """A TIFF volume, scored with review_data.compute_results, slices 10-12 flagged, 0-1 accepted."""
    path = write_tiff(tmp_path / "scan_0042.tif", make_array(seed=4))
    workspace = Workspace(tmp_path / "workspace.sqlite")
    volume = open_test_volume(path)
    volume_id, run_id = scored_workspace(workspace, volume)
    yield SimpleNamespace(path=path, workspace=workspace, volume=volume, volume_id=volume_id,
                          run_id=run_id, out=tmp_path / "out")
    volume.close()
    workspace.close()
