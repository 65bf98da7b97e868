"""The house tools run clean: ruff, mypy, and the package order (no training code in ctreview.model)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def test_ruff_passes():
    out = subprocess.run([_tool("ruff"), "check", "."], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow
def test_mypy_passes():
    out = subprocess.run([_tool("mypy")], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


def test_importing_the_model_package_loads_no_training_code():
    code = ("import sys, importlib, pkgutil, ctreview.model as pkg; "
            "[importlib.import_module(m.name) for m in pkgutil.walk_packages(pkg.__path__, 'ctreview.model.')]; "
            "bad = sorted(m for m in sys.modules if m.split('.')[:2] in (['ctreview', 'training'], "
            "['ctreview', 'scoring'], ['ctreview', 'review'], ['ctreview', 'dataset'])); "
            "print(','.join(bad)); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, f"ctreview.model pulls in: {out.stdout}{out.stderr}"
