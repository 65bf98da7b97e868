"""Pick the torch device: CUDA, then Apple MPS, then CPU."""
from __future__ import annotations

import os

import torch

from ctreview.errors import CtreviewError


def pick_device(spec: str | torch.device | None = "auto") -> torch.device:
    """Return the device for ``spec``.

    Parameters
    ----------
    spec : str, torch.device or None
        ``"auto"`` (or None) picks CUDA, then MPS, then CPU; ``"cpu"``,
        ``"cuda"``, ``"cuda:1"``, ``"mps"`` force one.

    Raises
    ------
    CtreviewError
        If the requested device is unknown or not available here.
    """
    if isinstance(spec, torch.device):
        device = spec
    elif spec in (None, "auto"):
        if torch.cuda.is_available():
            device = torch.device("cuda")
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            device = torch.device("mps")
        else:
            device = torch.device("cpu")
    else:
        try:
            device = torch.device(spec)
        except RuntimeError as exc:
            raise CtreviewError(None, f"unknown device {spec!r}") from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise CtreviewError(None, f"device {spec!r} requested but CUDA is not available")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise CtreviewError(None, f"device {spec!r} requested but Apple MPS is not available")
    if device.type == "cpu":
        torch.set_num_threads(cpu_threads())
    return device


def cpu_threads() -> int:
    """Return the CPU threads to use: ``CTREVIEW_THREADS`` if set, else the cores other processes leave free.

    On a machine shared with other busy processes two threads can be several
    times slower than one (they spin waiting for each other: training was
    measured 20x slower), so the default is the usable cores minus the
    1-minute load average (rounded), at least one. The override wins.
    """
    env = os.environ.get("CTREVIEW_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, cores - int(round(_load()))))


def _load() -> float:
    try:
        return float(os.getloadavg()[0])
    except (OSError, AttributeError):  # no load average (Windows): trust the core count
        return 0.0


def describe(device: torch.device) -> str:
    """``"cpu (2 threads)"``, ``"cuda:0"``: the device as a user reads it, with the CPU threads chosen."""
    n = torch.get_num_threads()
    return f"cpu ({n} thread{'' if n == 1 else 's'})" if device.type == "cpu" else str(device)
