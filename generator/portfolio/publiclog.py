"""The run's log as the site publishes it.

``results/<slug>/log.txt`` is everything the script wrote, as it wrote it: with Keras'
progress bar (``verbose=1``, the tutorials' default) that is thousands of carriage
returns, backspaces and colour codes, and tracebacks and library warnings name the
machine's absolute paths (the user's home folder, where Python is installed). The page
links the clean log instead (``log-clean.txt``: the log as a terminal showed it) with those
paths replaced: the portfolio's folder by ``<portfolio>``, the Python environment by
``<python>``, the home folder by ``~``. The raw log stays in ``results/``.

The paths are this machine's, and, for results committed from another machine (a laptop's
results rendered by CI), the shapes such paths have there: a home folder
(``/home/<name>``, ``/Users/<name>``), a Python installation (``…/lib/python3.X``), the
portfolio's own ``projects/<slug>`` and ``results/`` folders.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from portfolio import results
from portfolio.domain import Project, RunResult
from portfolio.printed import clean

PORTFOLIO, PYTHON, HOME = "<portfolio>", "<python>", "~"
_CAP = 8_000_000  # bytes of a raw log read when no clean one was written: head and tail
# A path starts where no name goes on before it (a quote, a space, "=", the line's start;
# not "/": https://github.com/... is no path) and a prefix ends where no name goes on after
# it: /home/al is no prefix of /home/alice. Not after "<", ">" or "~" either: a
# replacement is never replaced again.
_START = r"(?:(?<=file://)|(?<![\w.~<>/-]))"
_END = r"(?![\w.-])"
_PART = r"[^\s/\\\"'<>:]+"  # a folder's name


def published(run: RunResult, project: Project) -> str | None:
    """The text the site publishes as ``run``'s log: its clean log (or, for results older
    than the clean log, its raw log cleaned) with the machine's paths replaced; ``None``
    when the run left no log. A log is read only when it is a file inside the run's folder
    (never through a symlink the script left to a file outside)."""
    clean_log = run.file(results.CLEAN_LOG)
    if clean_log is not None:
        text = clean_log.read_text(encoding="utf-8", errors="replace")
    elif (raw := run.file(results.LOG)) is not None:
        text = clean(_read_capped(raw))
    else:
        return None
    return redact(text, project.folder.parent.parent, project.slug)


def redact(text: str, root: Path, slug: str | None = None) -> str:
    """``text`` with every absolute path of the machine replaced: under ``root`` (the
    portfolio) by ``<portfolio>/…``, under the Python environment (``sys.prefix``, its base
    installation) by ``<python>/…``, under the home folder by ``~/…``; the longest prefix
    wins (a venv inside the portfolio is ``<python>``). Then the same for another machine's
    paths, by their shapes (``slug``: the project's, for its folders there)."""
    # Each pass only where its text can match: a log of megabytes with no path (the
    # common case) costs a few substring searches, not regex scans.
    prefixes = [(path, label) for path, label in _prefixes(root) if path in text]
    if prefixes:
        here = re.compile(_START + "(" + "|".join(re.escape(p) for p, _ in prefixes) + ")"
                          + _END)
        label = dict(prefixes)
        text = here.sub(lambda m: label[m[1]], text)
    for needles, pattern, replacement in _elsewhere(slug):
        if any(needle in text for needle in needles):
            text = pattern.sub(replacement, text)
    return text


def _prefixes(root: Path) -> list[tuple[str, str]]:
    """(path, its replacement), longest first (a regex alternation takes the first that
    matches), each path also as the file system resolves it (a symlinked home, /tmp)."""
    import pwd

    try:
        account = pwd.getpwuid(os.getuid()).pw_dir  # the home when HOME points elsewhere
    except KeyError:
        account = None
    found: dict[str, str] = {}
    for path, label in [(root, PORTFOLIO), (sys.prefix, PYTHON), (sys.exec_prefix, PYTHON),
                        (sys.base_prefix, PYTHON), (sys.base_exec_prefix, PYTHON),
                        (Path.home(), HOME), (account, HOME)]:
        if path is None:
            continue
        for form in (str(Path(path).absolute()), str(Path(path).resolve())):
            form = form.rstrip("/\\")
            if form and form not in found:  # "/" as a home folder: nothing to hide
                found[form] = label
    return sorted(found.items(), key=lambda item: -len(item[0]))


def _elsewhere(slug: str | None) -> list[tuple[tuple[str, ...], re.Pattern[str], str]]:
    """Another machine's paths, by their shapes, in order: the portfolio's folders (they
    may be under the home folder), the Python environment (it may be too), the home. Each
    with the texts one of which a match holds."""
    patterns = []
    if slug:
        patterns += [
            ((f"/projects/{slug}",),
             re.compile(rf"{_START}/(?:{_PART}/)*?projects/{re.escape(slug)}{_END}"),
             f"{PORTFOLIO}/projects/{slug}"),
            (("/results/",),
             re.compile(rf"{_START}/(?:{_PART}/)*?results/(?=(?:{re.escape(slug)}|"
                        rf"{re.escape(results.SCRATCH)}){_END}|{re.escape(results.RUNNING)})"),
             f"{PORTFOLIO}/results/"),
        ]
    return [
        *patterns,
        (("/lib/python", "/lib64/python"),
         re.compile(rf"{_START}/(?:{_PART}/)*?(lib(?:64)?/python\d+(?:\.\d+)?){_END}"),
         rf"{PYTHON}/\1"),
        (("/home/", "/Users/", "/root"),
         re.compile(rf"{_START}(?:/home/{_PART}|/Users/{_PART}|/root){_END}"), HOME),
        ((":\\Users\\",), re.compile(rf"{_START}[A-Za-z]:\\Users\\{_PART}{_END}"), HOME),
    ]


def _read_capped(path: Path) -> str:
    """A raw log's head and tail: bounded for a script that printed gigabytes."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size <= _CAP:
            return fh.read().decode("utf-8", errors="replace")
        head = fh.read(_CAP // 2)
        fh.seek(size - _CAP // 2)
        return (head + b"\n[...]\n" + fh.read()).decode("utf-8", errors="replace")
