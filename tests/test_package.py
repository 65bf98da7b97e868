"""The package as a whole: entry points, error handling, the Qt boundary."""
import subprocess
import sys

import pytest

from ctreview import __version__
from ctreview.cli import COMMANDS, build_parser, main

CORE = ["ctreview.io", "ctreview.phantom", "ctreview.roi", "ctreview.model",
        "ctreview.scoring", "ctreview.review", "ctreview.report", "ctreview.dataset"]


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"ctreview {__version__}"


def test_help_lists_every_command():
    text = build_parser().format_help()
    for name in COMMANDS:
        assert name in text


def test_python_dash_m_runs():
    out = subprocess.run([sys.executable, "-m", "ctreview", "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.startswith("ctreview ")


@pytest.mark.parametrize("module", CORE)
def test_core_never_imports_qt(module):
    code = (f"import sys, {module}; "
            "bad = [m for m in ('PySide6', 'pyqtgraph', 'superqt') if m in sys.modules]; "
            "print(','.join(bad)); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, f"{module} imports Qt: {out.stdout}{out.stderr}"
