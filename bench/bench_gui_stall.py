"""How long does the review window's event loop stall while a volume is scored?

Opens a phantom in the real window (offscreen), starts scoring, and runs a
QTimer probe every 5 ms that records the gaps between its ticks; a gap much
longer than 5 ms means the UI thread was busy (a stall the user would feel).
Meanwhile a second timer plays the analyst: it steps to the next slice every
100 ms, so slice drawing and heatmap overlays are part of the load.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_gui_stall.py [--size 128 --slices 64 --mode hybrid]``
or on a given volume (e.g. the 512^3 one of ``bench/bench_real_size.py``): ``--volume PATH --model DIR``.
Also printed: the seconds from the start of scoring to the first score in the window.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _model(tmp: Path, name: str | None) -> Path:
    if name:
        return Path(name)
    from ctreview.errors import CtreviewError
    from ctreview.model import bundled_model_path

    try:
        return bundled_model_path("transformer")
    except CtreviewError:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from helpers_model import train_tiny_model

        print("no bundled model: training the tests' tiny model …", flush=True)
        return train_tiny_model(tmp / "tiny-model")


def _phantom(tmp: Path, size: int, slices: int) -> Path:
    from ctreview.io import write_tiff
    from ctreview.phantom import make_phantom

    phantom = make_phantom("transformer", size=size, slices=slices, defective=True, seed=11)
    return write_tiff(tmp / "bench_phantom.tif", phantom.volume, spacing=phantom.spacing)


def _run_until(condition, timeout: float = 600.0) -> None:
    """Run the Qt event loop until ``condition()`` holds (checked every 50 ms)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop, check = QEventLoop(), QTimer(interval=50)
    deadline = time.monotonic() + timeout

    def tick() -> None:
        if condition() or time.monotonic() > deadline:
            loop.quit()

    check.timeout.connect(tick)
    check.start()
    if not condition():
        loop.exec()
    check.stop()
    if not condition():
        raise RuntimeError("timed out")


def measure(volume: Path, model: Path, workspace: Path, mode: str, browse: bool) -> dict:
    """Score ``volume`` in the window; return the probe's gap statistics in ms."""
    from PySide6.QtCore import QTimer

    from ctreview.gui.app import create_window, make_app

    make_app()
    window = create_window(volume, model=model, workspace=workspace)
    gaps, busy, last = [], [], [time.perf_counter(), time.thread_time()]

    def probe() -> None:
        # wall gap = what the user feels; the UI thread's own CPU time in the gap
        # = the work it did (the rest is waiting for a core or the GIL)
        now, cpu = time.perf_counter(), time.thread_time()
        gaps.append((now - last[0]) * 1000)
        busy.append((cpu - last[1]) * 1000)
        last[:] = [now, cpu]

    timer = QTimer(interval=5)
    timer.timeout.connect(probe)
    # Start-up first, on its own: the device lookup imports torch in a worker, which holds
    # the GIL in C for up to ~130 ms at a time. Wait in real event loops (a busy
    # processEvents() loop would compete for the GIL).
    timer.start()
    _run_until(lambda: window.session.volume_id is not None and bool(window.scoring.model_path())
               and not window.runner.is_running("roi") and not window.runner.is_running("device"))
    timer.stop()
    startup_max_ms = float(max(gaps[1:], default=0.0))
    gaps.clear()
    busy.clear()
    last[:] = [time.perf_counter(), time.thread_time()]
    stepper = QTimer(interval=100)
    stepper.timeout.connect(lambda: window.session.set_current((window.session.current + 1)
                                                               % len(window.session.volume)))
    t0 = time.perf_counter()
    first: list[float] = []
    window.session.scores_changed.connect(lambda *_: first or first.append(time.perf_counter() - t0))
    window.start_scoring(window.scoring.model_path(), mode)
    timer.start()
    if browse:
        stepper.start()
    _run_until(lambda: not window.runner.is_running("score"))
    seconds = time.perf_counter() - t0
    timer.stop()
    stepper.stop()
    n = len(window.session.scores)
    window.close()
    gaps_ms, busy_ms = np.array(gaps[1:]), np.array(busy[1:])
    return {"slices": n, "seconds": seconds, "ticks": len(gaps_ms), "max_ms": float(gaps_ms.max()),
            "p99_ms": float(np.percentile(gaps_ms, 99)), "median_ms": float(np.median(gaps_ms)),
            "busy_max_ms": float(busy_ms.max()), "busy_p99_ms": float(np.percentile(busy_ms, 99)),
            "startup_max_ms": startup_max_ms, "first_score_s": first[0] if first else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--slices", type=int, default=64)
    parser.add_argument("--mode", default="hybrid", choices=("hybrid", "fast", "anogan"))
    parser.add_argument("--model", help="model folder (default: bundled, else the tests' tiny model)")
    parser.add_argument("--volume", type=Path, help="score this volume instead of a new phantom")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["CTREVIEW_DATA_DIR"] = str(tmp / "data")  # keep the user's settings untouched
        model = _model(tmp, args.model)
        volume = args.volume or _phantom(tmp, args.size, args.slices)
        print(f"volume {volume.name}, model {model.name}, mode {args.mode}")
        for browse in (False, True):
            r = measure(volume, model, tmp / f"ws{int(browse)}.sqlite", args.mode, browse)
            label = "scoring + stepping slices every 100 ms" if browse else "scoring, window idle"
            print(f"{label}: {r['slices']} slices in {r['seconds']:.1f} s (first score after "
                  f"{r['first_score_s']:.1f} s); probe every 5 ms, "
                  f"{r['ticks']} ticks: longest stall {r['max_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
                  f"median {r['median_ms']:.1f} ms; UI-thread CPU per gap: max {r['busy_max_ms']:.1f} ms, "
                  f"p99 {r['busy_p99_ms']:.1f} ms; load average {os.getloadavg()[0]:.1f} "
                  f"(before scoring, while the window started: longest stall {r['startup_max_ms']:.1f} ms)")


if __name__ == "__main__":
    main()
