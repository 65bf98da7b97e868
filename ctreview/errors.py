"""The one error type users see.

Every failure caused by what a user handed us (a file, a folder, a model, a
workspace) is raised as :class:`CtreviewError`, which names the thing and
what is wrong. The CLI prints it as one line ``error: <file>: <what>``, the
GUI shows it in a message box; neither shows a traceback.
"""
from __future__ import annotations

from os import PathLike


class CtreviewError(Exception):
    """A user-facing error about one file or input.

    Parameters
    ----------
    path : str or PathLike or None
        The file, folder or input the error is about.
    message : str
        What is wrong, in one line, without the path.
    """

    def __init__(self, path: str | PathLike | None, message: str) -> None:
        self.path = None if path is None else str(path)
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class Cancelled(Exception):
    """Raised inside a long task when the user asked it to stop."""
