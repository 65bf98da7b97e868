"""The Linux system libraries that Qt's X11 plugin needs, which of them are missing, and what to install.

PyPI's PySide6 wheels carry Qt but not the X11 (xcb), OpenGL, font and
D-Bus libraries of the system; on a fresh Linux machine some are missing and
Qt aborts with a message that names no package. This module finds them with
``ldd`` without importing Qt (so it works where Qt itself cannot load), for
the window's start-up check and for ``./run demo``::

    python -m ctreview.qtlibs      # exit 1 and one line naming the packages when some are missing
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGES = {  # soname the xcb plugin loads (ldd, PySide6 6.x) -> Debian/Ubuntu package
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0", "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0", "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0", "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0", "libxcb-sync.so.1": "libxcb-sync1", "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-xkb.so.1": "libxcb-xkb1", "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1", "libX11.so.6": "libx11-6", "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1", "libfontconfig.so.1": "libfontconfig1", "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3", "libglib-2.0.so.0": "libglib2.0-0", "libgthread-2.0.so.0": "libglib2.0-0",
}
"""Every system library of Qt's xcb plugin and the Debian/Ubuntu package that has it (the README lists them)."""

HEADLESS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb")
"""Qt platforms that need no X11 libraries."""


def qt_platform() -> str:
    """The Qt platform that will be used on Linux: ``QT_QPA_PLATFORM`` or Qt's choice."""
    chosen = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if chosen:
        return chosen
    return "wayland" if os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY") else "xcb"


def xcb_plugin() -> Path | None:
    """The X11 platform plugin of the installed PySide6 (found without importing it), or None."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.origin:
        return None
    plugin = Path(spec.origin).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def missing_libraries(library: str | Path) -> list[str]:
    """Return the sonames ``library`` needs that the system lacks (``ldd``'s "not found"), in order.

    Empty when all are found, or when ``ldd`` is absent or cannot read the file.
    """
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        out = subprocess.run([ldd, str(library)], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    missing: list[str] = []
    for line in out.splitlines():
        name, _, where = line.strip().partition("=>")
        if "not found" in where and name.strip() not in missing:
            missing.append(name.strip())
    return missing


def install_command(missing: list[str]) -> str:
    """The ``apt-get`` line that installs the packages of ``missing`` sonames (unknown ones by soname)."""
    packages = dict.fromkeys(PACKAGES.get(name, name) for name in missing)
    return "sudo apt-get install " + " ".join(packages)


def missing_message(plugin: Path, missing: list[str]) -> str:
    """One line: what is missing and the command that installs it."""
    return (f"{plugin.name}: Qt's X11 plugin needs system libraries this machine lacks ({', '.join(missing)}); "
            f"install them with: {install_command(missing)} (Debian/Ubuntu; or run headless with "
            f"QT_QPA_PLATFORM=offscreen)")


def main(argv: list[str] | None = None) -> int:
    """Check the X11 libraries; print ``error: ...`` naming the packages and return 1 if some are missing.

    ``argv`` may name the plugin to check (tests); by default, PySide6's.
    """
    args = sys.argv[1:] if argv is None else argv
    if not sys.platform.startswith("linux") or qt_platform() in HEADLESS or qt_platform().startswith("wayland"):
        return 0
    plugin = Path(args[0]) if args else xcb_plugin()
    missing = missing_libraries(plugin) if plugin is not None else []
    if not missing:
        return 0
    print(f"error: {missing_message(plugin, missing)}", file=sys.stderr)  # type: ignore[arg-type]
    return 1


if __name__ == "__main__":
    sys.exit(main())
