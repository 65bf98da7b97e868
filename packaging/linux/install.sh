#!/usr/bin/env bash
# Install a built bundle (dist/ctreview/) for the current user, like a desktop app:
#
#   bash packaging/linux/install.sh [BUNDLE_DIR]      # default: dist/ctreview
#   bash packaging/linux/install.sh --uninstall
#   bash ctreview/install.sh                          # the copy build.sh puts in the bundle
#
# Puts the bundle in ~/.local/opt/ctreview, a `ctreview` command in
# ~/.local/bin, the icons in ~/.local/share/icons/hicolor and the menu entry
# in ~/.local/share/applications (XDG_DATA_HOME is honoured). No root needed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
OPT="$HOME/.local/opt/ctreview"
BIN="$HOME/.local/bin"
SIZES="16 24 32 48 64 128 256 512"

uninstall() {
    rm -rf "$OPT"
    rm -f "$BIN/ctreview" "$DATA/applications/ctreview.desktop"
    for size in $SIZES; do rm -f "$DATA/icons/hicolor/${size}x${size}/apps/ctreview.png"; done
    rm -f "$DATA/icons/hicolor/scalable/apps/ctreview.svg"
}

if [ "${1:-}" = "--uninstall" ]; then
    uninstall
    echo "ctreview removed"
    exit 0
fi

if [ -n "${1:-}" ]; then
    DEFAULT="$1"
elif [ -x "$HERE/ctreview" ]; then
    DEFAULT="$HERE"  # this script lies inside the bundle
else
    DEFAULT="$ROOT/dist/ctreview"
fi
if [ ! -d "$DEFAULT" ]; then
    echo "error: $DEFAULT: no such folder (build it with packaging/build.sh)" >&2
    exit 2
fi
BUNDLE=$(cd "$DEFAULT" && pwd)
if [ ! -x "$BUNDLE/ctreview" ]; then
    echo "error: $BUNDLE: not a ctreview bundle (build it with packaging/build.sh)" >&2
    exit 2
fi
ICONS="$BUNDLE/_internal/resources/icons"
[ -d "$ICONS" ] || ICONS="$ROOT/resources/icons"

uninstall
mkdir -p "$OPT" "$BIN" "$DATA/applications"
cp -a "$BUNDLE/." "$OPT/"
rm -f "$OPT/install.sh" "$OPT/ctreview.desktop"
ln -sf "$OPT/ctreview" "$BIN/ctreview"
for size in $SIZES; do
    dir="$DATA/icons/hicolor/${size}x${size}/apps"
    mkdir -p "$dir"
    cp "$ICONS/ctreview-$size.png" "$dir/ctreview.png"
done
if [ -f "$ICONS/ctreview.svg" ]; then
    mkdir -p "$DATA/icons/hicolor/scalable/apps"
    cp "$ICONS/ctreview.svg" "$DATA/icons/hicolor/scalable/apps/ctreview.svg"
fi
# Menus do not read the user's PATH: point Exec/TryExec at the installed file.
sed -e "s|^Exec=ctreview |Exec=$OPT/ctreview |" -e "s|^TryExec=ctreview$|TryExec=$OPT/ctreview|" \
    "$HERE/ctreview.desktop" > "$DATA/applications/ctreview.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" || true
echo "ctreview installed: $OPT (command: $BIN/ctreview, menu entry: $DATA/applications/ctreview.desktop)"
