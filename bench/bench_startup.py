"""Start-up time of ctreview to a visible main window, and the size of the frozen bundle.

    .venv/bin/python bench/bench_startup.py [--repeat 5]

For the installed ``ctreview`` (the console script beside this interpreter)
and, if ``dist/ctreview`` exists, the frozen app, it times:

* ``--version``: process start to exit (the bare CLI start);
* ``gui``: process start to the main window shown (offscreen). It runs
  ``ctreview --self-test`` with ``CTREVIEW_SELFTEST_ONLY=gui``, which only
  opens the main window once, and stamps the moment its ``ok   gui`` line
  arrives, so the same measurement works on the frozen app, where no Python
  snippet can be run.

The first run of each is reported apart (cold file cache), the others as
median and min. Figures are printed; paste them into bench/results/packaging.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(data_dir: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DISPLAY", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="offscreen", CTREVIEW_DATA_DIR=data_dir, CTREVIEW_SELFTEST_ONLY="gui")
    return env


def time_version(app: Path, env: dict) -> float:
    """Seconds from process start to exit of ``app --version``."""
    start = time.perf_counter()
    done = subprocess.run([str(app), "--version"], env=env, capture_output=True, text=True, timeout=300)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{app} --version failed: {done.stderr.strip()}")
    return took


def time_window(app: Path, env: dict) -> float:
    """Seconds from process start until the main window was shown (the ``ok   gui`` line)."""
    start = time.perf_counter()
    proc = subprocess.Popen([str(app), "--self-test"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    shown = None
    for line in proc.stdout:
        if line.startswith("ok   gui"):
            shown = time.perf_counter() - start
    _, err = proc.communicate(timeout=300)
    if proc.returncode != 0 or shown is None:
        raise RuntimeError(f"{app} did not open its main window (exit {proc.returncode}): {err.strip()}")
    return shown


def _summary(times: list[float]) -> str:
    first, rest = times[0], times[1:] or times
    return f"first {first:5.2f} s   then median {statistics.median(rest):5.2f} s, min {min(rest):5.2f} s"


def folder_size(path: Path) -> int:
    """Bytes in all files under ``path`` (links not followed)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def bench(label: str, app: Path, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="ctreview-bench-") as data_dir:
        env = _env(data_dir)
        versions = [time_version(app, env) for _ in range(repeat)]
        windows = [time_window(app, env) for _ in range(repeat)]
    print(f"{label:<10} --version        {_summary(versions)}")
    print(f"{label:<10} main window      {_summary(windows)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist" / "ctreview")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, python {sys.version.split()[0]}, {sys.platform}")
    installed = Path(sys.executable).parent / "ctreview"
    bench("installed", installed, args.repeat)
    frozen = args.dist / "ctreview"
    if frozen.is_file():
        bench("frozen", frozen, args.repeat)
        size = folder_size(args.dist)
        files = sum(1 for p in args.dist.rglob("*") if p.is_file())
        print(f"bundle     {args.dist}: {size / 2**20:.0f} MiB in {files} files")
    else:
        print(f"frozen     skipped: {frozen} not built (bash packaging/build.sh)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
