"""CPU threads follow the cores other processes leave free; the override wins; the CLI says what it chose."""
import os

import torch

from ctreview.model import device as dev


def test_threads_leave_the_busy_cores_alone(monkeypatch):
    monkeypatch.delenv("CTREVIEW_THREADS", raising=False)
    cores = len(os.sched_getaffinity(0))
    monkeypatch.setattr(os, "getloadavg", lambda: (0.1, 0.1, 0.1))
    assert dev.cpu_threads() == cores
    monkeypatch.setattr(os, "getloadavg", lambda: (cores + 3.0, 1.0, 1.0))
    assert dev.cpu_threads() == 1
    if cores >= 2:
        monkeypatch.setattr(os, "getloadavg", lambda: (1.2, 1.0, 1.0))
        assert dev.cpu_threads() == cores - 1


def test_the_override_wins(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (50.0, 1.0, 1.0))
    monkeypatch.setenv("CTREVIEW_THREADS", "3")
    assert dev.cpu_threads() == 3
    monkeypatch.setenv("CTREVIEW_THREADS", "zero")
    assert dev.cpu_threads() == 1


def test_pick_device_sets_the_threads_and_describe_names_them(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setenv("CTREVIEW_THREADS", "1")
    try:
        device = dev.pick_device("cpu")
        assert torch.get_num_threads() == 1
        assert dev.describe(device) == "cpu (1 thread)"
    finally:
        torch.set_num_threads(before)
