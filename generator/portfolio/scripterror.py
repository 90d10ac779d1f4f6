"""A script's error in the child: its traceback as ``python SCRIPT`` prints it, the
one-line error with Python's own hint, and the line of the script it came from.

Python's hints ("Did you mean: 'evaluate'?") are not part of the exception: the
interpreter's printer adds them when it shows the traceback, and on Python 3.11 only
that printer does (``traceback.TracebackException`` learned them in 3.12). So the
traceback is printed by the interpreter's own hook, from a traceback without the frames
of portfolio and runpy, and the hint is read back from what it printed.
"""

from __future__ import annotations

import io
import re
import sys
import types
from pathlib import Path

__all__ = ["Report", "located", "report"]

# What the interpreter appends to an error's message: "Did you mean: 'evaluate'?",
# "Did you forget to import 'sys'?" (3.12).
_HINT = re.compile(r"\. (Did you [^\n]*\?)$")


class Report:
    """What the child records of the script's error: ``error``, ``run.json``'s error
    ('AttributeError: ... Did you mean: 'evaluate'?'), and ``at``, its ``error_at``
    ('train.py:35'; None when no frame of the script raised it)."""

    __slots__ = ("at", "error")

    def __init__(self, error: str, at: str | None) -> None:
        self.error, self.at = error, at


def report(exc: BaseException, script: Path, hidden: tuple[str, ...],
           shown: str | None = None) -> Report:
    """Print ``exc``'s traceback to stderr as Python would, without the frames of files
    under ``hidden`` (portfolio's, runpy's), and describe it. ``script`` is the resolved
    path the script (or notebook) ran from, ``shown`` how the line names it (its path in
    the project folder; default: its name)."""
    at = located(exc, script, shown or script.name)  # first: the script's frames may go
    _hide_frames(exc, hidden)
    printed = _printed(exc)
    sys.stderr.write(printed)
    return Report(_one_line(exc, printed), at)


def _one_line(exc: BaseException, printed: str) -> str:
    """'Type: message', and the interpreter's hint when it gave one for this message."""
    try:
        message = str(exc)
    except Exception:  # a __str__ that raises: the class is still worth saying
        return type(exc).__name__
    line = f"{type(exc).__name__}: {message}"
    if not isinstance(exc, AttributeError | NameError | ImportError) or not message:
        return line  # the only errors Python gives hints for
    end = printed.rfind(message)
    if end < 0:
        return line
    rest = printed[end + len(message):].split("\n", 1)[0]
    hint = _HINT.match(rest)  # right after this message, not a hint of a chained error
    return f"{line}. {hint[1]}" if hint else line


def located(exc: BaseException, script: Path, shown: str) -> str | None:
    """'train.py:35': the last frame of the traceback in the script (a notebook: 'train.ipynb
    cell 3, line 4'), or where a syntax error in it is; None when it was raised elsewhere."""
    name = str(script)
    cell = f"{script.name}, cell "  # how portfolio.notebook names a cell's code
    found = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename == name or filename.startswith(cell):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    if (found is None and isinstance(exc, SyntaxError) and exc.filename and exc.lineno
            and (exc.filename == name or exc.filename.startswith(cell))):
        found = (exc.filename, exc.lineno)  # the script itself does not parse
    if found is None:
        return None
    filename, line = found
    if filename.startswith(cell):
        return f"{shown} cell {filename[len(cell):]}, line {line}"
    return f"{shown}:{line}"


def _hide_frames(exc: BaseException, hidden: tuple[str, ...]) -> None:
    """Drop the hidden frames from the traceback of ``exc`` and of the errors chained to
    it (the script has ended: its exceptions are ours to trim)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        part = stack.pop()
        if id(part) in seen:
            continue
        seen.add(id(part))
        kept = []
        tb = part.__traceback__
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if not (filename.startswith("<frozen runpy>")
                    or str(Path(filename).resolve()).startswith(hidden)):
                kept.append(tb)
            tb = tb.tb_next
        trimmed = None
        for tb in reversed(kept):
            trimmed = types.TracebackType(trimmed, tb.tb_frame, tb.tb_lasti, tb.tb_lineno)
        part.__traceback__ = trimmed
        stack += [p for p in (part.__cause__, part.__context__) if p is not None]


def _printed(exc: BaseException) -> str:
    """The traceback as the interpreter prints an uncaught error, hints included."""
    buffer = io.StringIO()
    stderr, sys.stderr = sys.stderr, buffer
    try:
        sys.__excepthook__(type(exc), exc, exc.__traceback__)
    finally:
        sys.stderr = stderr
    return buffer.getvalue()
