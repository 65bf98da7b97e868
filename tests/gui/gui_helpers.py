"""Helpers shared by the GUI tests (not fixtures)."""
from __future__ import annotations

import numpy as np


def open_and_wait(qtbot, win, path) -> None:
    """Open ``path`` in ``win`` and wait until it is registered in the workspace."""
    win.open_path(path)
    qtbot.waitUntil(lambda: win.session.volume_id is not None, timeout=20000)


def fake_results(n: int, shape=(64, 64), seed: int = 0):
    """Real :class:`SliceResult` objects with seeded random scores, for list/plot tests."""
    from ctreview.results import SliceResult

    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        score = float(rng.uniform(0.1, 2.0))
        heat = np.zeros(shape, np.float32)
        heat[10:20, 10:20] = score
        out.append(SliceResult(k, score, score / 1.0, (10, 10, 26, 26), [(4, 4, 60, 60)], heat))
    return out
