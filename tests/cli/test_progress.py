"""Long commands show how far they are: done of a total, the rate and the time left."""
from __future__ import annotations

import io
import re

from ctreview.cli import main
from ctreview.cli._progress import ProgressBar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_plain_lines_with_the_total_and_the_last_one_always():
    out = io.StringIO()
    bar = ProgressBar("slices", out)
    bar.start(40, "scoring")
    for k in range(1, 41):
        bar.update(k)
    bar.end()
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("scoring: 40/40 slices") and len(lines) <= 3   # not one line per slice
    assert "\r" not in out.getvalue()


def test_a_terminal_gets_one_bar_with_rate_and_time_left():
    out = _Terminal()
    bar = ProgressBar("slices", out)
    bar.start(10, "scoring")
    bar.t0 -= 2.0                       # as if the 3 slices took two seconds
    bar.update(3)
    text = out.getvalue()
    assert text.startswith("\r[") and "3/10 slices" in text and "slices/s" in text and "left" in text
    bar.end()
    assert out.getvalue().endswith("\n")


def test_no_rate_is_guessed_from_the_first_instant():
    out = _Terminal()
    bar = ProgressBar("steps", out)
    bar.start(382, "features")
    bar.update(16)
    text = out.getvalue()
    assert "16/382 steps" in text and "steps/s" not in text and "left" not in text


def test_score_reports_the_number_of_slices_to_score(tiny_data, tiny_model, tmp_path, capfd):
    assert main(["score", str(tiny_data / "transformer_defect_000.tif"), "--model", str(tiny_model),
                 "--out", str(tmp_path / "run"), "--mode", "fast", "--device", "cpu"]) == 0
    err = capfd.readouterr().err
    done = re.findall(r"scoring: (\d+)/(\d+) slices", err)
    assert done and done[-1][0] == done[-1][1]
