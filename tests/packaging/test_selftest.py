"""``ctreview --self-test``: every step passes on a good install, a broken step says FAIL."""
from __future__ import annotations

import io
import os
import re

import pytest

from ctreview import selftest
from ctreview.cli import main

LINE = re.compile(r"^ok   (\w+) +\(\d+\.\d s\)")


@pytest.mark.slow
def test_self_test_passes_and_prints_one_line_per_step(private_data_dir, monkeypatch):
    monkeypatch.delenv("CTREVIEW_SELFTEST_ONLY", raising=False)
    out = io.StringIO()
    assert selftest.run_self_test(out) == 0, out.getvalue()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("ctreview ")
    assert [LINE.match(line).group(1) for line in lines[1:-1]] == [name for name, _ in selftest.STEPS]
    assert lines[-1] == "self-test passed"
    # It worked in a temporary folder: the user's data folder stays untouched...
    assert list(private_data_dir.iterdir()) == []
    # ...and the environment is as it was.
    assert os.environ["CTREVIEW_DATA_DIR"] == str(private_data_dir)


def test_cli_self_test_runs_only_the_named_steps(monkeypatch, capsys):
    monkeypatch.setenv("CTREVIEW_SELFTEST_ONLY", "phantom,gui")
    assert main(["--self-test"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [LINE.match(line).group(1) for line in out[1:-1]] == ["phantom", "gui"]


def test_a_failing_step_prints_fail_and_exits_1(monkeypatch, capsys):
    # ROI without a phantom and a model before it: the step really fails.
    monkeypatch.setenv("CTREVIEW_SELFTEST_ONLY", "roi,report")
    assert main(["--self-test"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("FAIL roi: ")
    assert not any(line.startswith(("ok", "FAIL report", "self-test passed")) for line in out)


def test_unknown_step_names_fail_instead_of_passing(monkeypatch, capsys):
    monkeypatch.setenv("CTREVIEW_SELFTEST_ONLY", "phantom,nonsense")
    assert main(["--self-test"]) == 1
    out = capsys.readouterr().out
    assert "FAIL setup: " in out and "nonsense" in out
