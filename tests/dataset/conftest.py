"""Fixtures of the training-set tests."""
from __future__ import annotations

import pytest
from reviewed_data import Reviewed, reviewed_session


@pytest.fixture(scope="session")
def reviewed(tmp_path_factory) -> Reviewed:
    """A reviewed phantom session (see ``reviewed_data``), shared with the dialog tests."""
    return reviewed_session(tmp_path_factory.getbasetemp())


@pytest.fixture(autouse=True)
def keep_log_handlers():
    """``ctreview.cli.main`` installs a stderr handler on the root logger; undo it after a test."""
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
