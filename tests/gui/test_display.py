"""Without a usable display the window command fails with one line that names the fix."""
import sys

import pytest

from ctreview.cli import main
from ctreview.gui import display

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is for Linux")


def test_no_display_is_one_line_with_the_way_out(monkeypatch, capsys):
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    code = main(["gui"])
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1
    assert err.startswith("error: no display") and "QT_QPA_PLATFORM=offscreen" in err


def test_an_x11_plugin_that_cannot_load_names_the_packages(monkeypatch, tmp_path, capsys):
    broken = tmp_path / "libqxcb.so"
    broken.write_bytes(b"not a shared library")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setenv("DISPLAY", ":1234")
    monkeypatch.setattr(display, "_xcb_plugin", lambda: broken)
    code = main(["gui"])
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1
    assert "X11 plugin cannot load" in err and "libxcb-cursor0" in err


def test_offscreen_and_wayland_are_left_to_qt(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.delenv("DISPLAY", raising=False)
    display.check_display()
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    display.check_display()
