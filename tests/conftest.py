"""Test set-up shared by every area: headless Qt and a private data folder."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory, monkeypatch):
    """Keep workspaces, model libraries and QSettings of tests away from the user's."""
    base = tmp_path_factory.mktemp("userdata")
    monkeypatch.setenv("CTREVIEW_DATA_DIR", str(base))
    return base


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """Folder with two normal and one defective small transformer phantoms (96 px, 24 slices)."""
    from helpers_model import shared_tiny_data

    return shared_tiny_data(tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """Folder of a tiny model trained on ``tiny_data``'s normal volumes (shared by every area)."""
    from helpers_model import shared_tiny_model

    return shared_tiny_model(tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_detector(tmp_path_factory) -> Path:
    """Folder of a tiny fused model (format 2) trained on ``tiny_data``'s normal volumes."""
    from helpers_model import shared_tiny_detector

    return shared_tiny_detector(tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_anogan_detector(tmp_path_factory) -> Path:
    """Folder of a tiny fused model with the conditioned AnoGAN scorer (it draws the expected slices)."""
    from helpers_model import shared_tiny_anogan_detector

    return shared_tiny_anogan_detector(tmp_path_factory)
