"""Desktop integration: icons, the .desktop entry and the per-user Linux installer."""
from __future__ import annotations

import configparser
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
DESKTOP = ROOT / "packaging" / "linux" / "ctreview.desktop"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.mark.parametrize("size", SIZES)
def test_icons_are_square_pngs_of_their_size(size):
    assert _png_size(ROOT / "resources" / "icons" / f"ctreview-{size}.png") == (size, size)


def test_render_icons_draws_the_svg(tmp_path):
    script = ROOT / "packaging" / "render_icons.py"
    result = subprocess.run([sys.executable, str(script), "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    expected = [f"ctreview-{s}.png" for s in SIZES] + ["ctreview.icns", "ctreview.ico"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(expected)
    from PySide6.QtGui import QImage, QImageReader

    image = QImage(str(tmp_path / "ctreview-64.png"))
    opaque = sum(image.pixelColor(x, y).alpha() > 0 for y in range(64) for x in range(64))
    assert opaque > 64 * 64 // 4, "the rendered icon is almost empty"
    for name, sizes in (("ctreview.ico", [16, 24, 32, 48, 64, 128, 256]),
                        ("ctreview.icns", [32, 64, 128, 256, 256, 512, 512])):
        reader = QImageReader(str(tmp_path / name))
        found = []
        for i in range(reader.imageCount()):
            reader.jumpToImage(i)
            found.append(reader.read().width())
        assert found == sizes, name


def test_render_icons_refuses_a_broken_svg(tmp_path):
    bad = tmp_path / "bad.svg"
    bad.write_text("<svg this is not xml")
    result = subprocess.run([sys.executable, str(ROOT / "packaging" / "render_icons.py"),
                             "--svg", str(bad), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 2
    assert "not a valid SVG" in result.stderr


def test_desktop_entry_is_complete():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in desktop entries
    parser.read(DESKTOP, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"].split()[0] == "ctreview"
    assert entry["Icon"] == "ctreview"
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")


@pytest.mark.skipif(sys.platform != "linux", reason="the installer is for Linux desktops")
@pytest.mark.parametrize("where", ["checkout", "bundle"])
def test_linux_install_and_uninstall(tmp_path, where):
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "resources" / "icons", bundle / "_internal" / "resources" / "icons")
    app = bundle / "ctreview"
    app.write_text("#!/bin/sh\necho frozen ctreview \"$@\"\n")
    app.chmod(app.stat().st_mode | stat.S_IXUSR)
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "XDG_DATA_HOME"}
    env["HOME"] = str(home)
    script = ROOT / "packaging" / "linux" / "install.sh"
    if where == "checkout":
        command = ["bash", str(script), str(bundle)]
    else:  # the copy build.sh puts beside the app, run without arguments
        for name in ("install.sh", "ctreview.desktop"):
            shutil.copy(ROOT / "packaging" / "linux" / name, bundle / name)
        command = ["bash", str(bundle / "install.sh")]

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    opt, share = home / ".local" / "opt" / "ctreview", home / ".local" / "share"
    launcher = home / ".local" / "bin" / "ctreview"
    ran = subprocess.run([str(launcher), "--version"], capture_output=True, text=True, timeout=30)
    assert ran.stdout.strip() == "frozen ctreview --version"
    for size in SIZES:
        icon = share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "ctreview.png"
        assert _png_size(icon) == (size, size)
    entry = (share / "applications" / "ctreview.desktop").read_text()
    assert f"Exec={opt}/ctreview gui %f" in entry.splitlines()
    assert not (opt / "install.sh").exists()

    gone = subprocess.run(["bash", str(script), "--uninstall"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert gone.returncode == 0, gone.stderr
    assert not opt.exists() and not launcher.exists()
    assert not (share / "applications" / "ctreview.desktop").exists()


def test_linux_install_refuses_a_folder_without_the_app(tmp_path):
    result = subprocess.run(["bash", str(ROOT / "packaging" / "linux" / "install.sh"), str(tmp_path)],
                            env={**os.environ, "HOME": str(tmp_path / "home")},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "not a ctreview bundle" in result.stderr
    assert not (tmp_path / "home" / ".local" / "opt").exists()
