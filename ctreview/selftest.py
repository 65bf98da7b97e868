"""``ctreview --self-test``: a headless end-to-end check of an installation.

It runs the whole chain on a small simulated part, the way an analyst would:
phantom -> bundled model -> ROI -> scoring (hybrid, a short latent search)
-> workspace -> report (PDF + CSV) -> main window (offscreen). Every step prints one line::

    ok   phantom  (0.8 s)

and the first failing step prints ``FAIL <step>: <reason>`` and stops, so
an installer, a support call or CI can tell at once what is broken. It
writes only into a temporary folder and points ``CTREVIEW_DATA_DIR`` there
while it runs, so the user's workspace and settings are never touched.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ctreview import __version__

if TYPE_CHECKING:  # the steps import their parts when they run, so a broken one fails its own step
    from ctreview.io import Volume
    from ctreview.model import Detector
    from ctreview.phantom import Phantom
    from ctreview.results import SliceResult
    from ctreview.review import Workspace
    from ctreview.roi import RoiResult
    from ctreview.scoring import RunSummary

__all__ = ["run_self_test", "STEPS"]

PART = "transformer"
# Small enough to take seconds on two cores, large enough that the ROI
# finder sees a real part and the model gets whole tiles.
PHANTOM_SIZE = 96
PHANTOM_SLICES = 12
SEARCH_STEPS = 10


class _State:
    """What the steps hand each other: each step sets its fields for the steps after it."""

    phantom: Phantom
    volume: Volume
    model: Detector
    roi: RoiResult
    summary: RunSummary
    workspace: Workspace
    volume_id: int
    run_id: int

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.results: list[SliceResult] = []


def _phantom(s: _State) -> str:
    from ctreview.io import Volume
    from ctreview.phantom import make_phantom

    s.phantom = make_phantom(PART, size=PHANTOM_SIZE, slices=PHANTOM_SLICES, defective=True, seed=0)
    s.volume = Volume.from_array(s.phantom.volume, spacing=s.phantom.spacing)
    return "x".join(str(n) for n in s.volume.shape)


def _model(s: _State) -> str:
    from ctreview.model import bundled_model_path, load_model

    s.model = load_model(bundled_model_path(PART), device="cpu")
    return f"{s.model.profile}, tile {s.model.tile_size}"


def _roi(s: _State) -> str:
    from ctreview.roi import extract_roi

    s.roi = extract_roi(s.volume, s.model.profile)
    if not s.roi.slices:
        raise RuntimeError("no slice has a region of interest")
    return f"{len(s.roi.slices)} slices"


def _scoring(s: _State) -> str:
    from ctreview.progress import drain
    from ctreview.results import SliceResult
    from ctreview.review import open_workspace
    from ctreview.scoring import ScoringSettings, run_scoring

    # A short latent search where the model has an AnoGAN scorer: exercises
    # autograd too (the frozen build must carry it), yet takes seconds. The
    # service records the run in the workspace and a run folder, as the
    # window and the CLI do.
    settings = ScoringSettings(mode="anogan", steps=SEARCH_STEPS)
    s.workspace = open_workspace(s.tmp / "workspace.sqlite")
    latest: dict[int, SliceResult] = {}
    events = run_scoring(s.volume, s.model, settings, roi=s.roi, workspace=s.workspace, out=s.tmp / "run")
    s.summary = drain(events, lambda e: latest.__setitem__(e.index, e) if isinstance(e, SliceResult) else None)
    s.results = [latest[k] for k in sorted(latest)]
    if not s.results:
        raise RuntimeError("the model scored no slice")
    if not (s.tmp / "run" / "summary.json").is_file():
        raise RuntimeError("the run folder has no summary.json")
    if s.summary.run_id is None:
        raise RuntimeError("the workspace did not record the run")
    s.run_id = s.summary.run_id
    s.volume_id = s.workspace.run_info(s.run_id)["volume_id"]
    # Information, not a pass/fail criterion: a demo model on a tiny phantom
    # need not rank the planted defect first.
    top = max(s.results, key=lambda r: r.relative)
    hit = "a defect" if s.phantom.slice_labels[top.index] else "no defect"
    return f"{len(s.results)} slices, top slice {top.index} holds {hit}"


def _workspace(s: _State) -> str:
    ws = s.workspace
    first = s.results[0].index
    ws.decide(s.volume_id, first, "accept", note="self-test", reviewer="self-test")
    if len(ws.run_scores(s.run_id)) != len(s.results):
        raise RuntimeError("the workspace lost scored slices")
    return f"{len(s.results)} scores, 1 decision"


def _report(s: _State) -> str:
    from ctreview.report import write_report

    pdf, csv = s.tmp / "report.pdf", s.tmp / "report.csv"
    write_report(s.workspace, s.volume_id, s.run_id, pdf=pdf, csv=csv, volume=s.volume)
    if not pdf.is_file() or pdf.read_bytes()[:5] != b"%PDF-":
        raise RuntimeError("the PDF report is missing or not a PDF")
    if not csv.is_file() or len(csv.read_text(encoding="utf-8").splitlines()) < 2:
        raise RuntimeError("the CSV report is missing or empty")
    return f"PDF {pdf.stat().st_size // 1024} KiB, CSV"


def _gui(s: _State) -> str:
    # The same start as `ctreview gui`: app set-up, main window, icon, show.
    from ctreview.gui import create_window, make_app

    app = make_app([sys.argv[0]])
    workspace = s.tmp / "workspace.sqlite"
    with _slot_errors() as errors:
        window = create_window(workspace=workspace if workspace.is_file() else None)
        try:
            app.processEvents()  # runs the window's deferred start-up too
            if not window.isVisible():
                raise RuntimeError("the main window did not become visible")
            if window.windowIcon().isNull():
                raise RuntimeError("the main window has no icon (resources/icons/ctreview.svg)")
            title = window.windowTitle()
        finally:
            window.close()
            window.deleteLater()
            app.processEvents()
    if errors:
        raise errors[0]
    return f"{title!r} on {app.platformName()}"


@contextmanager
def _slot_errors() -> Iterator[list[BaseException]]:
    """Collect exceptions raised in Qt slots and timers, which Qt would only print."""
    errors: list[BaseException] = []
    previous = sys.excepthook
    sys.excepthook = lambda _type, value, _tb: errors.append(value)
    try:
        yield errors
    finally:
        sys.excepthook = previous


STEPS: tuple[tuple[str, Callable[[_State], str]], ...] = (
    ("phantom", _phantom),
    ("model", _model),
    ("roi", _roi),
    ("scoring", _scoring),
    ("workspace", _workspace),
    ("report", _report),
    ("gui", _gui),
)


def _selected_steps() -> tuple[tuple[str, Callable[[_State], str]], ...]:
    """Return the steps to run: all, or those named in ``CTREVIEW_SELFTEST_ONLY``.

    ``CTREVIEW_SELFTEST_ONLY=gui`` times a bare start-up to the main window
    (``bench/bench_startup.py`` uses it on the frozen app, where no Python
    snippet can be run). Unknown names are an error, not a silent pass.
    """
    only = os.environ.get("CTREVIEW_SELFTEST_ONLY", "").strip()
    if not only:
        return STEPS
    names = [n.strip() for n in only.split(",") if n.strip()]
    known = dict(STEPS)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"CTREVIEW_SELFTEST_ONLY names unknown steps {unknown}; "
                         f"known: {', '.join(known)}")
    return tuple((n, known[n]) for n in names)


@contextmanager
def _private_environment(tmp: Path) -> Iterator[None]:
    """Point user data at ``tmp`` and Qt at the offscreen platform if there is no display."""
    saved = {k: os.environ.get(k) for k in ("CTREVIEW_DATA_DIR", "QT_QPA_PLATFORM")}
    os.environ["CTREVIEW_DATA_DIR"] = str(tmp / "userdata")
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_self_test(out: TextIO | None = None) -> int:
    """Run every step, print one line each, return 0 if all passed, else 1.

    Parameters
    ----------
    out : text stream, optional
        Where the lines go; standard output by default.
    """
    out = out or sys.stdout
    print(f"ctreview {__version__} self-test (python {sys.version.split()[0]}, {sys.platform})",
          file=out, flush=True)
    try:
        steps = _selected_steps()
    except ValueError as exc:
        print(f"FAIL setup: {exc}", file=out, flush=True)
        return 1
    with tempfile.TemporaryDirectory(prefix="ctreview-selftest-") as tmp_name:
        state = _State(Path(tmp_name))
        with _private_environment(state.tmp):
            try:
                failed = next((name for name, step in steps if not _run_step(name, step, state, out)),
                              None)
            finally:
                _close(state)
    if failed:
        return 1
    print("self-test passed", file=out, flush=True)
    return 0


def _run_step(name: str, step: Callable[[_State], str], state: _State, out: TextIO) -> bool:
    """Run one step and print its line; return whether it passed."""
    start = time.perf_counter()
    try:
        detail = step(state)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one FAIL line
        print(f"FAIL {name}: {_reason(exc)}", file=out, flush=True)
        if os.environ.get("CTREVIEW_SELFTEST_TRACEBACK"):
            traceback.print_exc()
        return False
    took = time.perf_counter() - start
    extra = f"  {detail}" if detail else ""
    print(f"ok   {name:<8} ({took:.1f} s){extra}", file=out, flush=True)
    return True


def _close(state: _State) -> None:
    """Release the workspace so the temporary folder can go (Windows locks open files)."""
    workspace = getattr(state, "workspace", None)  # unset when the steps stopped before opening it
    if workspace is not None:
        try:
            workspace.close()
        except Exception:  # noqa: BLE001 - cleanup must not hide the real outcome
            pass
