"""The wheel is a complete install: resources inside, and ``ctreview --self-test`` passes from it.

The wheel is built from a copy of the sources (so the repository gets no
``build/`` or ``*.egg-info``), installed with ``--no-deps`` into a fresh
virtual environment, and given the main environment's packages through a
``.pth`` file. Entries from a ``.pth`` file go *after* the venv's own
site-packages, so the wheel's ``ctreview`` wins over the editable one.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "ctreview", "resources")


def _run(cmd: list, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, **kw)
    assert result.returncode == 0, (
        f"{cmd} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def _copy_sources(dst: Path) -> Path:
    dst.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dst / name, ignore=ignore)
        elif src.is_file():
            shutil.copy2(src, dst / name)
    return dst


def _build_wheel(tmp: Path) -> Path:
    src = _copy_sources(tmp / "src")
    out = tmp / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--disable-pip-version-check", "-w", out, src])
    wheels = list(out.glob("ctreview-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
          "--disable-pip-version-check", "--no-index", wheel])
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
                .stdout.strip())
    # Named to sort last; a .pth line only appends, so the venv's own ctreview stays first.
    (site / "zz_main_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def _clean_env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(QT_QPA_PLATFORM="offscreen", CTREVIEW_DATA_DIR=str(data_dir))
    return env


@pytest.mark.slow
def test_wheel_holds_resources_and_self_test_passes(tmp_path):
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    bundled = {n for n in names if n.startswith("ctreview/resources/")}
    assert any(n.startswith("ctreview/resources/profiles/") and n.endswith(".toml") for n in bundled)
    assert any(n.startswith("ctreview/resources/models/") and n.endswith("model.json")
               for n in bundled), "the demo model is not in the wheel"
    for size in (16, 32, 48, 256):
        assert f"ctreview/resources/icons/ctreview-{size}.png" in bundled
    assert not any(n.startswith(("tests/", "bench/", "packaging/")) for n in names)
    strays = [n for n in names if n.rsplit("/", 1)[-1].startswith(("test_", "conftest"))]
    assert not strays, f"test modules inside the package would ship to users: {strays}"

    venv = _fresh_venv(tmp_path, wheel)
    env = _clean_env(tmp_path / "userdata")
    where = _run([venv / "bin" / "python", "-c",
                  "import ctreview, ctreview.resources as r; "
                  "print(ctreview.__file__); print(r.resources_root())"],
                 env=env, cwd=tmp_path).stdout.split()
    for path in where:
        assert Path(path).resolve().is_relative_to(venv.resolve()), where

    result = _run([venv / "bin" / "ctreview", "--self-test"], env=env, cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert lines[-1] == "self-test passed", result.stdout
    steps = [line.split()[1] for line in lines if line.startswith("ok ")]
    assert steps == ["phantom", "model", "roi", "scoring", "workspace", "report", "gui"], lines
    version = _run([venv / "bin" / "ctreview", "--version"], env=env, cwd=tmp_path).stdout
    assert version.strip().startswith("ctreview ")

