"""The package as a whole: entry points, error handling, the Qt boundary."""
import subprocess
import sys

import pytest

from ctreview import __version__
from ctreview.cli import COMMANDS, build_parser, main

CORE = ["ctreview.io", "ctreview.phantom", "ctreview.roi", "ctreview.model", "ctreview.training",
        "ctreview.scoring", "ctreview.review", "ctreview.report", "ctreview.dataset", "ctreview.atlas"]


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
    # every submodule, not only the package: ctreview.model imports lazily
    code = (f"import sys, importlib, pkgutil, {module} as pkg; "
            "[importlib.import_module(m.name) for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.')]; "
            "bad = [m for m in ('PySide6', 'pyqtgraph', 'superqt') if m in sys.modules]; "
            "print(','.join(bad)); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, f"{module} imports Qt: {out.stdout}{out.stderr}"


def test_import_contracts_hold():
    """import-linter checks every import statement of the core, run or not."""
    from pathlib import Path

    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint)], capture_output=True, encoding="utf-8", errors="replace",
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout
