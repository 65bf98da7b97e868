"""The command line's log lines go to the stderr of the moment, so a later log never hits a closed file."""
import io
import logging
import sys

import numpy as np

from ctreview.cli import main


def test_a_log_after_main_returned_goes_to_the_current_stderr(tmp_path, capsys, monkeypatch):
    path = tmp_path / "flat.npy"
    np.save(path, np.zeros((8, 9), np.float32))
    assert main(["info", str(path)]) == 0  # installs the command line's log handler
    assert "warning: " in capsys.readouterr().err
    later = io.StringIO()
    monkeypatch.setattr(sys, "stderr", later)  # as pytest does between tests, closing the old one
    logging.getLogger("ctreview.workers").error("roi failed: no part found")
    assert later.getvalue() == "error: roi failed: no part found\n"
