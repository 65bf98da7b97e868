"""Fixtures of the batch tests: small phantoms on disk."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def volumes(tmp_path_factory) -> Path:
    """A folder of three small transformer phantoms (96 px, 24 slices; one normal, two defective)."""
    from helpers_model import tiny_phantom_volumes

    folder = tmp_path_factory.mktemp("batch-in")
    tiny_phantom_volumes(folder, normal=1, defective=2, seed=7)
    return folder
