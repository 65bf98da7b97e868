"""Test set-up shared by every area: headless Qt and a private data folder."""
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory, monkeypatch):
    """Keep workspaces, model libraries and QSettings of tests away from the user's."""
    base = tmp_path_factory.mktemp("userdata")
    monkeypatch.setenv("CTREVIEW_DATA_DIR", str(base))
    return base
