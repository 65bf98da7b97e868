"""Progress on the command line: a bar with rate and time left on a terminal, plain lines otherwise."""
from __future__ import annotations

import sys
import time
from typing import Any, TextIO

PLAIN_EVERY = 5.0
"""Seconds between plain progress lines when the output is not a terminal (a log, a pipe)."""

MIN_RATE_SECONDS = 1.0
"""No rate or time left is shown before this much time has passed."""


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressBar:
    """``done`` of ``total`` units with the rate and the time left.

    Parameters
    ----------
    unit : str
        What is counted ("slices", "volumes", "iterations").
    stream : text stream, optional
        Standard error by default (looked up at call time, so a redirected one counts).
    """

    def __init__(self, unit: str, stream: TextIO | None = None, *, width: int = 30) -> None:
        self.unit, self.width = unit, width
        self.stream: Any = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label, self.total, self.done = "", 0, 0
        self.t0 = self.last = time.monotonic()
        self.drawn = False

    def start(self, total: int, label: str = "") -> None:
        """Begin a new count (a new stage) of ``total`` units."""
        self.end()
        self.label, self.total, self.done = label, int(total), 0
        self.t0 = time.monotonic()
        self.last = 0.0

    def update(self, done: int, note: str = "") -> None:
        """Show that ``done`` units are finished (at most every few seconds when not a terminal)."""
        self.done = int(done)
        now = time.monotonic()
        if self.tty:
            self._draw(self._text(now, note))
        elif now - self.last >= PLAIN_EVERY or self.done >= self.total > 0:
            self.last = now
            print(self._text(now, note), file=self.stream, flush=True)

    def line(self, text: str) -> None:
        """Print a line of its own above the bar."""
        if self.drawn:
            print("\r\033[K", end="", file=self.stream)
            self.drawn = False
        print(text, file=self.stream, flush=True)

    def end(self) -> None:
        """Close the bar (a terminal gets its line break)."""
        if self.drawn:
            print(file=self.stream, flush=True)
            self.drawn = False

    def _text(self, now: float, note: str) -> str:
        elapsed = now - self.t0
        # A rate over the first instants is noise (one step in microseconds reads as millions a second).
        rate = self.done / elapsed if elapsed >= MIN_RATE_SECONDS else None
        left = (self.total - self.done) / rate if rate and self.total else None
        total = f"/{self.total}" if self.total else ""
        speed = f", {rate:.1f} {self.unit}/s" if rate is not None else ""
        eta = f", {_duration(left)} left" if left is not None and self.done < self.total else ""
        head = f"{self.label}: " if self.label else ""
        tail = f" ({note})" if note else ""
        return f"{head}{self.done}{total} {self.unit}{speed}{eta}{tail}"

    def _draw(self, text: str) -> None:
        full = int(self.width * self.done / self.total) if self.total else 0
        print(f"\r[{'#' * full}{'.' * (self.width - full)}] {text}\033[K", end="", file=self.stream, flush=True)
        self.drawn = True
