"""A tiny model trained once per session and shared by the model and scoring tests."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers_model import shared_tiny_data, shared_tiny_model  # noqa: E402


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """Folder with two normal and one defective small transformer phantoms (96 px, 24 slices)."""
    return shared_tiny_data(tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """Folder of a tiny model trained on ``tiny_data``'s normal volumes."""
    return shared_tiny_model(tmp_path_factory)
