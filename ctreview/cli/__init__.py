"""Command line: ``ctreview <command> ...``.

Each command lives in its own module ``ctreview.cli.<name>`` exposing
``add_parser(subparsers)`` and ``run(args) -> int``. Modules import heavy
libraries inside ``run`` so ``--help`` stays instant. User errors
(:class:`~ctreview.errors.CtreviewError`) become one line
``error: <file>: <what>`` and a non-zero exit; nothing prints a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Sequence

from ctreview import __version__
from ctreview.errors import Cancelled, CtreviewError

COMMANDS = ("gui", "demo", "info", "phantom", "roi", "train", "score",
            "decide", "report", "dataset", "batch")

EXIT_USER_ERROR = 2
EXIT_INTERNAL = 70
EXIT_CANCELLED = 130


def _command_modules() -> dict:
    modules = {}
    for name in COMMANDS:
        try:
            modules[name] = importlib.import_module(f"ctreview.cli.{name}_cmd")
        except ModuleNotFoundError as exc:  # a command not built yet
            if exc.name != f"ctreview.cli.{name}_cmd":
                raise
    return modules


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="ctreview",
        description="Triage X-ray CT volumes of electronic parts: find the part, score "
                    "every slice with a model of normal parts (fused deep features and a defect "
                    "head, or an AnoGAN), review the ranked slices, report.",
    )
    parser.add_argument("--version", action="version", version=f"ctreview {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="run a headless end-to-end check (phantom, ROI, scoring, report) and exit")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in _command_modules().values():
        module.add_parser(sub)
    return parser


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


class _Stderr(logging.Handler):
    """Writes to ``sys.stderr`` as it is when a record comes, not as it was when :func:`main` ran.

    A handler holding the stream of its day outlives it: in-process callers
    (tests, the self-test, an embedding app) swap and close stderr, and a
    worker that logs later would write to a closed file.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - logging never raises into the caller
            self.handleError(record)


def _setup_logging(verbosity: int) -> None:
    handler = _Stderr()
    handler.setFormatter(_Formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG)


def _report_internal(exc: BaseException) -> None:
    from ctreview.paths import log_dir

    log_file = log_dir() / "crash.log"
    try:
        with open(log_file, "a", encoding="utf-8") as fh:
            traceback.print_exception(exc, file=fh)
        where = f" (details in {log_file})"
    except OSError:
        where = ""
    print(f"error: internal error: {type(exc).__name__}: {exc}{where}", file=sys.stderr)


def _with_bare_path(argv: list[str]) -> list[str]:
    """``ctreview [options] VOLUME`` is ``ctreview [options] gui VOLUME`` when VOLUME exists.

    A first argument that is neither a command nor an existing path but looks
    like one (a suffix or a folder separator) is a missing file, not a typo of
    a command: :class:`CtreviewError`.
    """
    from pathlib import Path

    at = next((i for i, a in enumerate(argv) if not a.startswith("-")), None)
    if at is None or argv[at] in COMMANDS:
        return argv
    path = Path(argv[at]).expanduser()
    if path.exists():
        return [*argv[:at], "gui", *argv[at:]]
    if path.suffix or "/" in argv[at] or "\\" in argv[at]:
        raise CtreviewError(path, "no such file or folder")
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status.

    A first argument that is no command but an existing file or folder opens
    the window on it (``ctreview VOLUME`` is ``ctreview gui VOLUME``).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        argv = _with_bare_path(argv)
    except CtreviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        if args.self_test:
            from ctreview.selftest import run_self_test
            return run_self_test()
        if args.command is None:
            args = parser.parse_args(["gui", *argv])
        return int(_command_modules()[args.command].run(args) or 0)
    except CtreviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as exc:  # noqa: BLE001 - last line of defence: no tracebacks for users
        _report_internal(exc)
        return EXIT_INTERNAL


def gui_main() -> int:
    """Entry point of the windowed launcher: the GUI with the given arguments."""
    return main(["gui", *sys.argv[1:]])
