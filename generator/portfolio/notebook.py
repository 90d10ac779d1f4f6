"""Jupyter notebooks as projects: ``train.ipynb`` runs like ``train.py``.

A notebook is read with nbformat. Its code cells run in order, in one namespace, in the
same child and under the same capture as a script; the IPython syntax a notebook from
Colab or Kaggle carries is translated first, cell by cell:

- display magics that mean nothing without a notebook front end (``%matplotlib inline``,
  ``%config``, ``%load_ext``, ``%autoreload``...) are skipped, each with a note in the log;
- ``%time``/``%timeit`` and ``%%time``/``%%timeit``/``%%capture`` run their code once;
  ``%env NAME=value`` sets the variable; ``%run other.py`` runs it into the namespace;
- shell escapes (``!pip install ...``, ``%pip``, ``%conda``, ``%%bash``, ``%system``...)
  are refused before any cell runs, naming the cell: nothing is installed or downloaded at
  run time.

As in Jupyter, a cell's last bare expression is shown (its ``repr`` printed), and
``display()`` prints. The notebook's saved outputs are never read: the run makes its own.
Its Markdown cells are the case study's narrative (:func:`markdown`), and its inputs hash
covers the code cells only (:func:`code_digest`): saving a notebook with new outputs, or
editing its prose, does not make the project stale.
"""

from __future__ import annotations

import ast
import hashlib
import linecache
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portfolio.errors import PortfolioError

SUFFIX = ".ipynb"
# Magics with no meaning outside a notebook front end: skipped, with a note.
_IGNORED = {"matplotlib", "config", "load_ext", "reload_ext", "unload_ext", "autoreload",
            "aimport", "precision", "pylab", "pprint", "xmode", "colors", "who", "whos",
            "pwd", "history", "lsmagic", "notebook", "tensorflow_version", "alias_magic",
            "reset", "store", "killbgscripts", "load", "pinfo", "pdoc", "psearch"}
# Magics that run a shell or install packages: refused.
_SHELL = {"pip", "conda", "mamba", "system", "sx", "sc", "bash", "sh", "script", "shell",
          "cd", "mkdir", "rm", "cp", "mv", "ls", "cat", "env_run", "perl", "ruby", "writefile",
          "kaggle", "bookmark"}
# Cell magics that only show something in the notebook: the cell is skipped, with a note.
_DISPLAY = {"html", "javascript", "js", "svg", "latex", "markdown", "md"}
_TIMING = {"time", "timeit", "prun", "capture"}
_MAGIC = re.compile(r"^(\s*)(?:(\w[\w.]*)\s*=\s*)?(%%?|!!?)\s*(\w*)(.*)$")


class NotebookError(PortfolioError):
    """A notebook that cannot run as it is: not a notebook, or a cell that needs a shell."""


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based, counting every cell, as a reader of the notebook counts them
    source: str  # Python, once the IPython syntax is translated
    notes: tuple[str, ...] = ()


def is_notebook(path: Path) -> bool:
    return path.suffix == SUFFIX


def read(path: Path) -> Any:
    """The notebook at ``path`` (nbformat 4, validated); :class:`NotebookError` if it is not
    one."""
    import nbformat

    try:
        with path.open(encoding="utf-8") as fh:
            notebook = nbformat.read(fh, as_version=4)
        nbformat.validate(notebook)
        return notebook
    except (OSError, UnicodeDecodeError, ValueError, KeyError, AttributeError, TypeError,
            nbformat.ValidationError) as exc:
        raise NotebookError(f"{path.name}: not a Jupyter notebook nbformat can read "
                            f"({type(exc).__name__}: {exc})") from None


def code_cells(path: Path) -> list[Cell]:
    """Each code cell, translated to Python; raises :class:`NotebookError` naming the
    first cell that needs a shell."""
    cells = []
    for number, cell in enumerate(read(path).cells, start=1):
        if cell.cell_type == "code" and cell.source.strip():
            cells.append(_translate(cell.source, number))
    return cells


def python_source(path: Path) -> str:
    """The notebook's code as one Python text, for readers of imports (libraries, the
    warm worker's preloads); shell cells and magics left out, never an error."""
    try:
        notebook = read(path)
    except NotebookError:
        return ""
    parts = []
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type == "code":
            try:
                parts.append(_translate(cell.source, number).source)
            except NotebookError:
                continue
    return "\n\n".join(parts)


def markdown(path: Path) -> str:
    """The notebook's Markdown cells, in order: the case study's narrative."""
    try:
        notebook = read(path)
    except NotebookError:
        return ""
    return "\n\n".join(cell.source.strip() for cell in notebook.cells
                       if cell.cell_type == "markdown" and cell.source.strip())


def code_digest(path: Path) -> str:
    """SHA-256 of the code cells alone (their sources, in order): outputs, execution
    counts, metadata and Markdown leave it unchanged. A file nbformat cannot read is
    hashed whole."""
    try:
        notebook = read(path)
    except NotebookError:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    digest = hashlib.sha256(b"notebook code cells\0")
    for cell in notebook.cells:
        if cell.cell_type == "code":
            digest.update(cell.source.encode() + b"\0")
    return digest.hexdigest()


def _translate(source: str, number: int) -> Cell:
    """IPython syntax to Python. A cell that parses as Python is left as it is; otherwise
    a line is IPython's only where a statement may start there (not inside brackets or a
    string: ``!= b)`` continuing a comparison, a ``%(name)s`` line of a template)."""
    if _parses(source):
        return Cell(number, source)
    lines = source.splitlines()
    notes: list[str] = []
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        name = first[2:].split()[0] if len(first) > 2 else ""
        if name in _TIMING:
            notes.append(f"%%{name} ran its code once, untimed")
            lines = lines[1:]
        elif name in _DISPLAY:
            return Cell(number, "pass", (f"%%{name} cell skipped (it only shows something "
                                         "in the notebook)",))
        else:
            raise _refused(number, first, shell=name in _SHELL)
    out: list[str] = []
    for line in lines:
        match = _MAGIC.match(line)
        if match is None or not _statement_starts(out, match[1]):
            out.append(line)
            continue
        indent, target, sigil, name, rest = match.groups()
        if sigil.startswith("!") or name in _SHELL:
            raise _refused(number, line.strip(), shell=True)
        if target:  # `t = %timeit -o f()`: a magic's value, which only IPython has
            raise _refused(number, line.strip(), shell=False)
        if name in _TIMING:
            notes.append(f"%{name} ran its statement once, untimed")
            out.append(f"{indent}{_without_options(rest) or 'pass'}")
        elif name == "env" and len(pair := re.split(r"\s*=\s*|\s+", rest.strip(),
                                                    maxsplit=1)) == 2:
            key, value = pair
            out.append(f"{indent}__import__('os').environ[{key!r}] = {value!r}")
        elif name == "run" and _without_options(rest):
            target = _without_options(rest).split()[0]
            out.append(f"{indent}globals().update(__import__('runpy').run_path({target!r}, "
                       "run_name='__main__'))")
        elif name == "pylab":
            notes.append("%pylab: numpy imported as np and matplotlib.pyplot as plt")
            out.append(f"{indent}import numpy as np; import matplotlib.pyplot as plt")
        elif name in _IGNORED or name == "env":
            notes.append(f"%{name}{rest.rstrip()} skipped (it means nothing outside a "
                         "notebook; figures are captured as they are)")
            out.append(f"{indent}pass")
        else:
            notes.append(f"%{name} is not known to portfolio and was skipped")
            out.append(f"{indent}pass")
    return Cell(number, "\n".join(out), tuple(notes))


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def _statement_starts(before: list[str], indent: str) -> bool:
    """Whether a statement may start after the lines ``before`` (they are complete: not
    inside brackets or a string), at ``indent``."""
    return any(_parses("\n".join([*before, f"{margin}pass"])) for margin in (indent, ""))


def _without_options(rest: str) -> str:
    """``-n 10 -r 3 f()`` → ``f()``: the options of %timeit, %time, %run."""
    words = rest.strip().split()
    while words and words[0].startswith("-"):
        if words.pop(0) in ("-n", "-r", "-p") and words:  # these take a value
            words.pop(0)
    return " ".join(words)


def _refused(number: int, line: str, shell: bool) -> NotebookError:
    why = ("runs a shell command or installs packages; a run downloads and installs "
           "nothing: install what the notebook needs beforehand (pyproject.toml, "
           "requirements.txt) and delete the line") if shell else \
        "is IPython syntax portfolio cannot run outside Jupyter; rewrite it in Python"
    return NotebookError(f"cell {number}: `{line}` {why}")


# -- running it (in the child) ------------------------------------------------------------
def run(path: Path) -> dict[str, Any]:
    """Run the notebook's code cells in order as ``__main__`` (the way the child runs a
    script with runpy); returns the namespace. Raises :class:`NotebookError` before any
    cell runs when one needs a shell."""
    cells = code_cells(path)
    # A module of its own as __main__, as runpy gives a script: pickle and joblib find the
    # classes and functions the notebook defines.
    main = types.ModuleType("__main__")
    main.__dict__.update({"__file__": str(path), "__builtins__": __builtins__,
                          "display": _display, "get_ipython": lambda: None})
    namespace = main.__dict__
    previous = sys.modules.get("__main__")
    sys.modules["__main__"] = main
    try:
        for cell in cells:
            for note in cell.notes:
                print(f"[portfolio: cell {cell.number}: {note}]", file=sys.stderr, flush=True)
            _run_cell(cell, path, namespace)
    finally:
        if previous is not None:
            sys.modules["__main__"] = previous
    return namespace


def _run_cell(cell: Cell, path: Path, namespace: dict[str, Any]) -> None:
    """One cell, its last bare expression shown as Jupyter shows it. Tracebacks name the
    notebook and the cell (its lines are registered with linecache)."""
    filename = f"{path.name}, cell {cell.number}"
    linecache.cache[filename] = (len(cell.source), None, cell.source.splitlines(True),
                                 filename)
    tree = ast.parse(cell.source, filename=filename)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body = tree.body[:-1]
    exec(compile(tree, filename, "exec", dont_inherit=True), namespace)  # as runpy would
    if last is not None and not cell.source.rstrip().endswith(";"):  # `;` hides it
        shown = ast.Interactive(body=[last])
        exec(compile(shown, filename, "single", dont_inherit=True), namespace)
    elif last is not None:
        exec(compile(ast.Module([last], []), filename, "exec", dont_inherit=True), namespace)


def _display(*objects: Any, **_: Any) -> None:
    """IPython's ``display``, as text: what a reader of the log would see."""
    for obj in objects:
        print(repr(obj) if not isinstance(obj, str) else obj)
