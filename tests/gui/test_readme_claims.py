"""What the README says about the window is true: its keys are bound, its screenshot is the current window's."""
import re
import struct
from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence

from ctreview.gui.keys import KEYS

ROOT = Path(__file__).resolve().parents[2]
MOUSE = ("mouse", "drag", "click")


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def _readme_keys() -> list[str]:
    section = _readme().split("## Keys", 1)[1].split("\n## ", 1)[0]
    return [m.group(1).strip() for m in re.finditer(r"^\| (.+?) \| .+ \|$", section, re.M)][2:]  # not the header


def _single_keys(entry: str) -> list[str]:
    """``"J  /  Down"`` -> ``["J", "Down"]``; ``"Shift+A Shift+F"`` -> both; ``"Esc"`` -> ``"Escape"``."""
    parts = [p for p in re.split(r"\s*/\s*|\s+", entry.strip()) if p]
    return ["Escape" if p == "Esc" else p for p in parts]


def test_the_readme_lists_every_key_of_the_f1_table_and_no_other():
    readme = [" ".join(_single_keys(k)) for k in _readme_keys()]
    table = [" ".join(_single_keys(k)) for k, _ in KEYS]
    assert readme == table


def test_every_key_the_readme_names_is_bound_in_the_window(window):
    bound = {QKeySequence(k).toString() for k in window.shortcuts}
    bound |= {a.shortcut().toString() for a in window.findChildren(QAction) if not a.shortcut().isEmpty()}
    for entry in _readme_keys():
        if any(word in entry.lower() for word in MOUSE):
            continue
        for key in _single_keys(entry):
            assert QKeySequence(key).toString() in bound, f"{key} ({entry}) is in the README but not bound"


def test_the_screenshot_is_the_demo_commands_at_1366_by_768():
    readme = _readme()
    assert "ctreview demo --screenshot docs/screenshot.png" in readme and "(docs/screenshot.png)" in readme
    head = (ROOT / "docs" / "screenshot.png").read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (1366, 768)  # the size run_gui captures today
