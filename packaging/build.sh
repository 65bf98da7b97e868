#!/usr/bin/env bash
# Build the ctreview desktop app as a one-folder bundle: dist/ctreview/.
#
#   bash packaging/build.sh            # from anywhere; takes ~11 min on 2 cores
#
# It makes its own virtual environment (packaging/.venv-build, reused by
# later runs), installs the CPU build of PyTorch first, then ctreview and
# PyInstaller, freezes packaging/ctreview.spec, and finally runs the frozen
# `ctreview --version` and `ctreview --self-test` (offscreen, no display
# needed). It exits non-zero if any of that fails.
#
# Environment:
#   PYTHON            interpreter for the build venv (default: python3.11, else python3)
#   TORCH_INDEX_URL   index with CPU torch wheels, e.g. https://download.pytorch.org/whl/cpu
#                     (Linux wheels on PyPI bundle CUDA, which makes a bundle of several GB)
#   ALLOW_CUDA_TORCH  set to 1 to freeze a CUDA torch anyway
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/packaging/.venv-build"
TORCH_VERSION=2.13.0
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
cd "$ROOT"
start=$(date +%s)

step() { printf '\n== %s\n' "$*"; }

step "build environment $VENV ($("$PYTHON" --version))"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --quiet --disable-pip-version-check)

step "CPU PyTorch $TORCH_VERSION"
"${PIP[@]}" "torch==$TORCH_VERSION" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
if [ "$("$PY" -c 'import torch; print(torch.version.cuda or "")')" != "" ] \
        && [ "${ALLOW_CUDA_TORCH:-0}" != 1 ]; then
    echo "error: the build venv got a CUDA build of torch; set TORCH_INDEX_URL to a CPU index" \
         "or ALLOW_CUDA_TORCH=1" >&2
    exit 1
fi

step "ctreview and PyInstaller"
# Dependencies once (cached by later runs), then ctreview itself afresh every time
# so the bundle always freezes the current source tree.
"${PIP[@]}" "$ROOT[packaging]"
"${PIP[@]}" --no-deps --force-reinstall "$ROOT"
"$PY" -m pip check

step "PyInstaller"
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" \
    "$ROOT/packaging/ctreview.spec"
built=$(date +%s)
if [ "$(uname -s)" = Linux ]; then
    # So an unpacked archive installs itself: `bash ctreview/install.sh`.
    cp "$ROOT/packaging/linux/install.sh" "$ROOT/packaging/linux/ctreview.desktop" "$ROOT/dist/ctreview/"
fi

step "frozen app checks"
APP="$ROOT/dist/ctreview/ctreview"
"$APP" --version
check_dir=$(mktemp -d)
trap 'rm -rf "$check_dir"' EXIT
# A private data folder: the check must not touch the builder's own workspace.
QT_QPA_PLATFORM=offscreen CTREVIEW_DATA_DIR="$check_dir" "$APP" --self-test

step "done"
echo "bundle:     $ROOT/dist/ctreview ($(du -sh "$ROOT/dist/ctreview" | cut -f1))"
echo "build time: $((built - start)) s (checks $(( $(date +%s) - built )) s)"
