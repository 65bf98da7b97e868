"""Fixtures of the dialog tests: a small training set of real tiles on disk."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")


@pytest.fixture(scope="session")
def disc_set(tmp_path_factory):
    """A training set of 48 synthetic 32-pixel disc tiles (uint16) from two 'sources'."""
    from helpers_model import disc_tiles

    from ctreview.dataset import TrainingSet

    out = tmp_path_factory.mktemp("sets") / "discs"
    tset = TrainingSet.open_or_create(out)
    for k in range(2):
        tiles = disc_tiles(24, 32, seed=k).clip(0, 65535).astype(np.uint16)
        records = [{"slice": i // 4, "tile_box": [0, 32 * (i % 4), 32, 32 * (i % 4) + 32],
                    "profile": "whole-part", "reviewer": "test"} for i in range(24)]
        tset.append({"fingerprint": f"v1:{k:032x}", "name": f"disc{k}.tif", "path": None},
                    tiles, records)
    return out
