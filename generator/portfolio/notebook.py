"""Jupyter notebooks as projects: ``train.ipynb`` runs like ``train.py``.

A notebook is read with nbformat. Its code cells run in order, in one namespace, in the
same child and under the same capture as a script; the IPython syntax a notebook from
Colab or Kaggle carries is translated first, cell by cell:

- display magics that mean nothing without a notebook front end (``%matplotlib inline``,
  ``%config``, ``%load_ext``, ``%autoreload``...) are skipped, each with a note in the log;
- ``%time``/``%timeit`` and ``%%time``/``%%timeit``/``%%capture`` run their code once;
  ``%env NAME=value`` sets the variable; ``%run other.py`` runs it into the namespace;
- ``!pip install x`` (``%pip``, with options like ``-q`` or ``-U``) is skipped, with a
  note, when every package it names already imports; any other shell escape (``%conda``,
  ``%%bash``, ``%system``, an install of what is not there...) is refused before any cell
  runs, naming the cell: nothing is installed or downloaded at run time.

As in Jupyter, a cell's last bare expression is shown (its ``repr`` printed), and
``display()`` prints; the figures a cell leaves open are captured and closed when it ends,
as the inline backend does. The notebook's saved outputs are never read: the run makes
its own. Its Markdown cells are the case study's narrative (:func:`prose`): a licence or
copyright cell goes to the end of the page, badges and images from other hosts become
plain links. Its inputs hash covers the code cells only (:func:`code_digest`): saving a
notebook with new outputs, or editing its prose, does not make the project stale.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.util
import linecache
import re
import shlex
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
# IPython's help: `obj?`, `obj??`, `?obj`, `np.*load*?` (a search).
_HELP = re.compile(r"^(\s*)(?:\?{1,2}[\w.*]+|[\w.*]+\?{1,2})\s*$")


class NotebookError(PortfolioError):
    """A notebook that cannot run as it is: not a notebook, or a cell that needs a shell."""


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based, counting every cell, as a reader of the notebook counts them
    source: str  # Python, once the IPython syntax is translated
    notes: tuple[str, ...] = ()
    runs: tuple[str, ...] = ()  # the files its %run lines run, as written


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
            RecursionError, nbformat.ValidationError) as exc:
        # RecursionError: JSON nested deeper than the parser's stack (a crafted file).
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


def run_files(path: Path) -> list[Path]:
    """The files the notebook's ``%run`` lines run (relative to its folder, where it runs):
    inputs of its runs as much as the notebook itself. Never an error."""
    try:
        notebook = read(path)
    except NotebookError:
        return []
    found = []
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type == "code":
            with contextlib.suppress(NotebookError):
                found += [path.parent / name for name in _translate(cell.source, number).runs]
    return found


def without_outputs(path: Path) -> str:
    """The notebook as the site publishes it: its cells, with no saved output or execution
    count (an output may show data, a path or a token the page must not), as JSON Jupyter
    opens. A file that is not a notebook's JSON: '' (nothing to publish)."""
    import json

    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return ""
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        return ""
    for cell in document["cells"]:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    if isinstance(document.get("metadata"), dict):
        document["metadata"].pop("widgets", None)  # widget state: outputs by another name
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Prose:
    narrative: str  # the Markdown cells, in order, licence cells left out
    licence: str  # the licence and copyright notices, as Markdown paragraphs


def prose(path: Path) -> Prose:
    """The notebook's Markdown cells, in order: the case study's narrative. A licence or
    copyright cell (Google's notebooks open with two) is not the story: it is kept, as
    attribution the licence asks for, but apart, for the end of the page. Badges and images
    from other hosts become plain links: the site fetches nothing from another host."""
    try:
        notebook = read(path)
    except NotebookError:
        return Prose("", "")
    story, notices = [], []
    for cell in notebook.cells:
        text = cell.source.strip()
        if cell.cell_type == "markdown" and text:
            if _is_licence_markdown(text):
                notices.append(_plain_headings(text))
            else:
                story.append(_plain_links(text))
        elif cell.cell_type == "code" and (comments := _licence_comments(text)):
            notices.append(comments)
    return Prose("\n\n".join(story), "\n\n".join(notices))


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


# -- its prose ---------------------------------------------------------------------------
# The first line of a licence or copyright notice, its Markdown marks (#, **, >) removed.
_LICENCE = re.compile(r"copyright\b|©|\(c\)\s*\d|licen[cs]ed\s+under\b|permission is hereby "
                      r"granted\b|licen[cs]e\s*:?\s*$|(mit|apache|bsd)\b.*\blicen[cs]e\s*$",
                      re.IGNORECASE)
_MARKS = re.compile(r"^[\s#>*_]+")
_FORM_FIELD = re.compile(r"^#\s*@title\s*|\s*\{\s*display-mode:[^}]*\}\s*$")  # Colab's forms
_HEADING = re.compile(r"^ {0,3}#{1,6}(\s+|$)", re.MULTILINE)


def _is_licence_markdown(text: str) -> bool:
    """A Markdown cell that is a licence or copyright notice and nothing else: it starts
    with one ("##### Copyright 2018 The TensorFlow Authors.", "Licensed under...") and
    holds no other heading (a cell that goes on with the notebook's title is prose)."""
    first, _, rest = text.partition("\n")
    return bool(_LICENCE.match(_MARKS.sub("", first))) and not _HEADING.search(rest)


def _plain_headings(text: str) -> str:
    """A notice's headings as plain text: under the page's Licence heading an h5 reads
    as a paragraph would."""
    return _HEADING.sub("", text)


def _licence_comments(source: str) -> str:
    """The text of a code cell of licence comments alone (``#@title Licensed under the
    Apache License...``), one paragraph per block of comments; '' for any other cell."""
    lines = source.splitlines()
    if not lines or not all(line.lstrip().startswith("#") for line in lines if line.strip()):
        return ""
    text = [re.sub(r"^#+ ?", "", _FORM_FIELD.sub("", line.strip())).rstrip()
            for line in lines]
    body = "\n".join(text).strip()
    return body if re.search(_LICENCE.pattern, body, re.IGNORECASE | re.MULTILINE) else ""


_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
_MD_IMAGE = r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^)]*[\"'])?\s*\)"
_MD_LINKED_IMAGE = re.compile(r"\[\s*" + _MD_IMAGE + r"\s*\]\(\s*<?([^)\s>]+)>?"
                              r"(?:\s+[\"'][^)]*[\"'])?\s*\)")
_HTML_TABLE = re.compile(r"<table\b[^>]*>(.*?)</table\s*>", re.IGNORECASE | re.DOTALL)
_HTML_LINK = re.compile(r"<a\b([^>]*)>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_HTML_IMAGE = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def _attribute(tag: str, name: str) -> str:
    found = re.search(rf"\b{name}\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", tag,
                      re.IGNORECASE)
    return next((group for group in found.groups() if group is not None), "") if found else ""


def _label(text: str, url: str) -> str:
    """What a link that was an image reads: its alt text, else the file it pointed at."""
    return text.strip() or url.rstrip("/").rsplit("/", 1)[-1] or url


def _plain_links(text: str) -> str:
    """Badges and images from other hosts as plain links: the Colab / "View on
    TensorFlow.org" buttons keep their words and lose their pictures, a table that holds
    nothing but such buttons becomes one line of links, and a remote image becomes a link
    to it. The page then requests nothing from another host."""
    text = _HTML_TABLE.sub(_links_only_table, text)
    text = _HTML_LINK.sub(_link_without_images, text)
    text = _HTML_IMAGE.sub(_image_as_link, text)
    text = _MD_LINKED_IMAGE.sub(lambda m: f"[{_label(m[1], m[2])}]({m[3]})"
                                if _REMOTE.match(m[2]) else m[0], text)
    return re.sub(_MD_IMAGE, lambda m: f"[{_label(m[1], m[2])}]({m[2]})"
                  if _REMOTE.match(m[2]) else m[0], text)


def _link_without_images(match: re.Match[str]) -> str:
    """``<a href=...><img src="remote" alt="Run in Colab"></a>``: the link, its picture
    replaced by the picture's words when it has no others."""
    inner = match[2]
    images = [image for image in _HTML_IMAGE.findall(inner) if _REMOTE.match(
        _attribute(image, "src"))]
    if not images:
        return match[0]
    words = _TAG.sub("", inner).strip() or _label(_attribute(images[0], "alt"),
                                                   _attribute(images[0], "src"))
    return f'<a href="{_attribute(match[1], "href")}">{words}</a>'


def _image_as_link(match: re.Match[str]) -> str:
    src = _attribute(match[0], "src")
    if not _REMOTE.match(src):
        return match[0]
    return f'<a href="{src}">{_label(_attribute(match[0], "alt"), src)}</a>'


def _links_only_table(match: re.Match[str]) -> str:
    """A table of buttons (Google's ``tfo-notebook-buttons``): one line of plain links.
    A table with anything but links in it is left a table."""
    links = _HTML_LINK.findall(match[1])
    if not links or _TAG.sub("", _HTML_LINK.sub("", match[1])).replace("&nbsp;", "").strip():
        return match[0]
    plain = [_link_without_images(link) for link in _HTML_LINK.finditer(match[1])]
    return "<p>" + " · ".join(plain) + "</p>"


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
    runs: list[str] = []
    for line in lines:
        match = _MAGIC.match(line)
        if match is not None and _statement_starts(out, match[1]):
            out.append(_magic_line(match, number, notes, runs))
        elif _HELP.match(line) and _statement_starts(out, _HELP.match(line)[1]):
            notes.append(f"`{line.strip()}` skipped (help on an object means nothing "
                         "outside a notebook)")
            out.append(f"{_HELP.match(line)[1]}pass")
        else:
            out.append(line)
    translated = "\n".join(out)
    # What no rule above made Python would fail only when its cell's turn came, after the
    # cells before it ran: refused now, before any runs.
    try:
        ast.parse(translated)
    except (SyntaxError, ValueError) as exc:
        # The line in the cell as written (a %%time header above it was dropped).
        at = (getattr(exc, "lineno", None) or 1) + len(source.splitlines()) - len(lines)
        shown = (source.splitlines() or [""])[min(at, len(source.splitlines())) - 1].strip()
        raise NotebookError(f"cell {number}, line {at}: `{shown}` is neither Python nor "
                            "IPython syntax portfolio can run outside Jupyter "
                            f"({getattr(exc, 'msg', exc)}); rewrite it in Python") from None
    return Cell(number, translated, tuple(notes), tuple(runs))


def _magic_line(match: re.Match[str], number: int, notes: list[str], runs: list[str]) -> str:
    """The Python for one line of IPython syntax (``%name ...``, ``!command``)."""
    line = match[0]
    indent, target, sigil, name, rest = match.groups()
    if sigil.startswith("!") or name in _SHELL:
        if target or (installed := _already_installed(name, rest)) is None:
            raise _refused(number, line.strip(), shell=True)
        notes.append(f"`{line.strip()}` skipped: what it installs already imports "
                     f"here ({installed}); nothing is installed at run time")
        return f"{indent}pass"
    if target:  # `t = %timeit -o f()`: a magic's value, which only IPython has
        raise _refused(number, line.strip(), shell=False)
    if name in _TIMING:
        notes.append(f"%{name} ran its statement once, untimed")
        inner = _without_options(rest)
        nested = _MAGIC.match(inner)  # `%time !ls`, `%timeit %sx ls`: the magic it times
        if nested is not None:
            return _magic_line(_MAGIC.match(f"{indent}{inner}"), number, notes, runs)
        return f"{indent}{inner or 'pass'}"
    if name == "env" and len(pair := re.split(r"\s*=\s*|\s+", rest.strip(), maxsplit=1)) == 2:
        key, value = pair
        return f"{indent}__import__('os').environ[{key!r}] = {value!r}"
    if name == "run" and _without_options(rest):
        file = _without_options(rest).split()[0]
        runs.append(file)
        return (f"{indent}globals().update(__import__('runpy').run_path({file!r}, "
                "run_name='__main__'))")
    if name == "pylab":
        notes.append("%pylab: numpy imported as np and matplotlib.pyplot as plt")
        return f"{indent}import numpy as np; import matplotlib.pyplot as plt"
    if name in _IGNORED or name == "env":
        notes.append(f"%{name}{rest.rstrip()} skipped (it means nothing outside a "
                     "notebook; figures are captured as they are)")
        return f"{indent}pass"
    notes.append(f"%{name} is not known to portfolio and was skipped")
    return f"{indent}pass"


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


# -- `!pip install x` for an x that is there -----------------------------------------------
# Options of pip install that change nothing about what is installed once it is there.
_PIP_FLAGS = re.compile(r"-[qUI]+|--(quiet|upgrade|user|no-cache-dir|pre|no-deps|"
                        r"force-reinstall|ignore-installed|disable-pip-version-check|"
                        r"no-warn-script-location|no-warn-conflicts|progress-bar=off)")
# A requirement by name (an extra, a version or a marker may follow), not a path or a URL.
_REQUIREMENT = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([=<>!~;].*)?")
# Distributions whose module is not their name.
_MODULES = {"scikit-learn": "sklearn", "tensorflow-cpu": "tensorflow",
            "tensorflow-gpu": "tensorflow", "tf-nightly": "tensorflow", "pyyaml": "yaml",
            "opencv-python": "cv2", "opencv-python-headless": "cv2",
            "opencv-contrib-python": "cv2", "opencv-contrib-python-headless": "cv2",
            "pillow": "PIL", "beautifulsoup4": "bs4", "python-dateutil": "dateutil",
            "scikit-image": "skimage", "imbalanced-learn": "imblearn", "umap-learn": "umap",
            "protobuf": "google.protobuf", "python-dotenv": "dotenv", "faiss-cpu": "faiss"}


def _already_installed(name: str, rest: str) -> str | None:
    """``pip install a b`` (``!pip``, ``%pip``, ``!{sys.executable} -m pip``) whose packages all
    import here: their names, for the note; None for any other command, an option that
    is not a harmless flag, or a package that does not import (the line is refused)."""
    try:
        words = shlex.split(f"{name} {rest}")
    except ValueError:
        return None
    if words[1:2] == ["-m"] and words[0] in ("python", "python3", "{sys.executable}"):
        words = words[2:]
    if len(words) < 3 or words[0] not in ("pip", "pip3") or words[1] != "install":
        return None
    packages = [word for word in words[2:] if not _PIP_FLAGS.fullmatch(word)]
    if not packages or any(word.startswith("-") or "{" in word or "$" in word
                           for word in packages):
        return None  # -r file, --index-url..., or IPython's {var} / $var expansion
    names = []
    for package in packages:
        requirement = _REQUIREMENT.fullmatch(package)
        if requirement is None or not _imports(requirement[1]):
            return None
        names.append(_with_version(requirement[1]))
    return ", ".join(names)


def _imports(distribution: str) -> bool:
    """Whether the distribution's module can be imported here (found, not imported)."""
    key = re.sub(r"[-_.]+", "-", distribution).lower()
    if _found(_MODULES.get(key, key.replace("-", "_"))):
        return True
    return any(_found(module) for module in _installed_modules().get(key, []))


@functools.cache
def _installed_modules() -> dict[str, list[str]]:
    """Installed distributions (normalised names) to their top-level modules."""
    table: dict[str, list[str]] = {}
    for module, distributions in importlib.metadata.packages_distributions().items():
        for distribution in distributions:
            table.setdefault(re.sub(r"[-_.]+", "-", distribution).lower(), []).append(module)
    return table


def _found(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _with_version(distribution: str) -> str:
    try:
        return f"{distribution} {importlib.metadata.version(distribution)}"
    except importlib.metadata.PackageNotFoundError:
        return distribution


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
            _close_figures(cell)
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


def _close_figures(cell: Cell) -> None:
    """What Jupyter's inline backend does when a cell ends: the figures it left open are
    shown (here, captured) and closed, so the next cell's ``plt.plot`` draws a figure of
    its own instead of adding to this one."""
    if "matplotlib.pyplot" not in sys.modules:
        return  # nothing drawn yet; matplotlib is not imported for nothing
    from portfolio import recorder
    from portfolio.capture import figures, guarded

    rec = recorder.active()
    if rec is None:  # run outside the child: nothing records figures, they only close
        figures.close_open(None, "end of cell")
    else:
        guarded(rec, f"figures at the end of cell {cell.number}",
                lambda: figures.close_open(rec, "end of cell"))


def _display(*objects: Any, **_: Any) -> None:
    """IPython's ``display``, as text: what a reader of the log would see."""
    for obj in objects:
        print(repr(obj) if not isinstance(obj, str) else obj)
