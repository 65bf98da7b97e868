"""Render the app icon ``resources/icons/ctreview.svg`` to PNGs in the usual sizes.

Run from the repository root (no display needed)::

    .venv/bin/python packaging/render_icons.py

It writes ``resources/icons/ctreview-<size>.png`` for every size in
:data:`SIZES`, and from them ``packaging/icons/ctreview.ico`` (Windows) and
``ctreview.icns`` (macOS) that the PyInstaller spec uses on those systems
(they stay out of the wheel, which does not need them). The PNGs are committed, so builds and wheels do not need to
render anything; rerun this after editing the SVG. It uses QtSvg from
PySide6-Essentials, so no extra tool (Inkscape, cairosvg) is needed.
"""
from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
HERE = Path(__file__).resolve().parent
ICONS = HERE.parent / "resources" / "icons"


def render(svg: Path, out_dir: Path, sizes: tuple[int, ...] = SIZES) -> list[Path]:
    """Render ``svg`` to ``out_dir/ctreview-<size>.png`` for each size.

    Parameters
    ----------
    svg : Path
        The source icon; it is drawn to fill a square, keeping its aspect.
    out_dir : Path
        Folder for the PNGs, created if missing.
    sizes : tuple of int
        Edge lengths in pixels.

    Returns
    -------
    list of Path
        The PNG files written, in the order of ``sizes``.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])  # QPainter on images needs one
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not a valid SVG file")
    renderer.setAspectRatioMode(Qt.AspectRatioMode.KeepAspectRatio)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        path = out_dir / f"ctreview-{size}.png"
        if not image.save(str(path), "PNG"):
            raise OSError(f"{path}: could not write the PNG")
        written.append(path)
    return written


# Windows .ico entries (PNG-compressed, read by Windows Vista and later).
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# macOS .icns element types holding PNG data, by edge length in pixels.
ICNS_TYPES = ((b"ic11", 32), (b"ic12", 64), (b"ic07", 128), (b"ic13", 256), (b"ic08", 256),
              (b"ic14", 512), (b"ic09", 512))


def write_ico(pngs: dict[int, bytes], path: Path) -> Path:
    """Write a Windows icon holding the PNGs of :data:`ICO_SIZES` (``pngs``: size -> PNG bytes)."""
    sizes = [s for s in ICO_SIZES if s in pngs]
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        data = pngs[size]
        edge = 0 if size >= 256 else size  # 0 stands for 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", edge, edge, 0, 0, 1, 32, len(data), offset + len(blobs))
        blobs += data
    path.write_bytes(header + entries + blobs)
    return path


def write_icns(pngs: dict[int, bytes], path: Path) -> Path:
    """Write a macOS icon from the PNGs (``pngs``: size -> PNG bytes)."""
    body = b"".join(kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
                    for kind, size in ICNS_TYPES if size in pngs)
    path.write_bytes(b"icns" + struct.pack(">I", 8 + len(body)) + body)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--svg", type=Path, default=ICONS / "ctreview.svg")
    parser.add_argument("--out", type=Path, default=ICONS, help="folder for the PNGs")
    parser.add_argument("--platform-out", type=Path, default=None,
                        help="folder for ctreview.ico/.icns (default: packaging/icons, or --out if given)")
    args = parser.parse_args(argv)
    if not args.svg.is_file():
        print(f"error: {args.svg}: no such file", file=sys.stderr)
        return 2
    try:
        written = render(args.svg, args.out)
        pngs = {int(p.stem.rsplit("-", 1)[1]): p.read_bytes() for p in written}
        platform_out = args.platform_out or (HERE / "icons" if args.out == ICONS else args.out)
        platform_out.mkdir(parents=True, exist_ok=True)
        written += [write_ico(pngs, platform_out / "ctreview.ico"),
                    write_icns(pngs, platform_out / "ctreview.icns")]
        for path in written:
            print(path)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
