"""Check, before Qt starts, that a window can be shown at all.

When Qt cannot open a display or load its platform plugin it aborts the
process with a multi-line message that names no fix. A new Linux user most
often meets two causes: no display (a server, an SSH session) and the X11
plugin's system libraries missing (``libxcb-cursor0`` and friends are not in
PyPI wheels). Both are found here and reported as one line.
"""
from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

from ctreview import qtlibs
from ctreview.errors import CtreviewError

XCB_PACKAGES = ("libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 "
                "libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0")


def _platform() -> str:
    """The Qt platform that will be used on Linux: ``QT_QPA_PLATFORM`` or Qt's choice."""
    return qtlibs.qt_platform()


def _xcb_plugin() -> Path | None:
    return qtlibs.xcb_plugin()


def check_display() -> None:
    """Raise :class:`CtreviewError` (one line, with the fix) if Qt could not show a window.

    Only Linux is checked; elsewhere, and for platforms other than X11,
    Qt is left to decide.
    """
    if not sys.platform.startswith("linux"):
        return
    platform = _platform()
    if platform in qtlibs.HEADLESS or platform.startswith("wayland"):
        return
    if not os.environ.get("DISPLAY"):
        raise CtreviewError(None, "no display to show the window on (DISPLAY is not set); "
                                  "run it on a desktop, or headless with QT_QPA_PLATFORM=offscreen, "
                                  "or check the install with `ctreview --self-test`")
    plugin = _xcb_plugin()
    if plugin is None:
        return
    missing = qtlibs.missing_libraries(plugin)
    if missing:  # every missing library at once, with the packages that hold them
        raise CtreviewError(None, qtlibs.missing_message(plugin, missing))
    try:
        ctypes.CDLL(str(plugin))  # resolves the plugin's system libraries, as Qt will
    except OSError as exc:
        lost = str(exc).split(":")[1].strip() if str(exc).count(":") >= 2 else str(exc)
        raise CtreviewError(None, f"Qt's X11 plugin cannot load ({lost}); install the X11 "
                                  f"libraries Qt needs (Debian/Ubuntu: apt install {XCB_PACKAGES})") from None
