"""Menu entries declared as records: one line per command, the menus built from them.

After napari's ``Action(id, title, callback, keybindings)``: the window lists
what each menu holds as :class:`Action` records whose callbacks are methods of
the action objects (``open_actions``, ``review_actions``, ...), so who does what
is read in one place.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar

SEPARATOR = None
"""A separator between the entries of a menu."""


@dataclass(frozen=True)
class Action:
    """One menu command.

    Parameters
    ----------
    id : str
        A stable name (``"file.open"``), for readers and tests; not shown.
    title : str
        The menu text, ``&`` before the mnemonic.
    callback : callable
        Called with no argument when the entry is triggered.
    shortcut : str or QKeySequence.StandardKey, optional
        Bound to the entry (a window-wide key is bound once, in the window's shortcuts, not here).
    tip : str
        Tooltip and status tip.
    """

    id: str
    title: str
    callback: Callable[[], object]
    shortcut: str | QKeySequence.StandardKey | None = None
    tip: str = ""


Entry = Action | QAction | QMenu | None
"""A menu line: a record, a ready-made (checkable, shared) QAction, a submenu, or :data:`SEPARATOR`."""


def fill_menu(menu: QMenu, entries: Sequence[Entry]) -> dict[str, QAction]:
    """Add ``entries`` to ``menu``; return the QActions made from the records, by id."""
    made: dict[str, QAction] = {}
    for entry in entries:
        if entry is None:
            menu.addSeparator()
        elif isinstance(entry, QAction):
            menu.addAction(entry)
        elif isinstance(entry, QMenu):
            menu.addMenu(entry)
        else:
            action = menu.addAction(entry.title)
            action.setObjectName(entry.id)
            if entry.shortcut is not None:
                action.setShortcut(QKeySequence(entry.shortcut))
            if entry.tip:
                action.setToolTip(entry.tip)
                action.setStatusTip(entry.tip)
            callback = entry.callback
            action.triggered.connect(lambda _checked=False, c=callback: c())
            made[entry.id] = action
    return made


def add_menu(bar: QMenuBar, title: str, entries: Sequence[Entry]) -> QMenu:
    """Add a menu titled ``title`` holding ``entries`` to the menu bar."""
    menu = bar.addMenu(title)
    fill_menu(menu, entries)
    return menu


class Delegate:
    """A window attribute that is one of its parts' (``Delegate("scorer", "start_scoring")``).

    Keeps the names that tests and scripts use on the window while the work lives
    in the action objects; setting it sets the part's attribute.
    """

    def __init__(self, part: str, name: str) -> None:
        self.part, self.name = part, name

    def __get__(self, window: object, owner: type | None = None) -> Any:
        if window is None:
            return self
        return getattr(getattr(window, self.part), self.name)

    def __set__(self, window: object, value: Any) -> None:
        setattr(getattr(window, self.part), self.name, value)
