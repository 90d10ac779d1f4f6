"""What travels to a Dask worker and back: a project as an archive, its run as another.

Out goes the project folder as its inputs hash sees it (:func:`plan.source_files`: hidden
and git-ignored files left out, declared ``data:`` kept even when ignored) and the
repository's own Python modules that it imports, each at its path in the repository, so
that ``sys.path`` tricks relative to ``__file__`` work there as here. Back comes the run's
folder. Both are gzip'd tar archives (the fastest level: a model file does not compress
much, and the network is rarely the slow part of a training run). The project's is
written to a temporary file and sent in chunks of :data:`CHUNK_BYTES`: its data may be
hundreds of megabytes, which the client never holds whole in memory.

Which modules: those its last run imported (the child records them), and those its Python
files import by name that the repository holds outside the project (``lib/features.py``
for ``import features``, a ``shared/`` package for ``from shared import x``), followed
through the modules found. A module reached only by a computed name is found once a run
has recorded it.
"""

from __future__ import annotations

import ast
import io
import os
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from portfolio import notebook, plan

_LEVEL = 1  # gzip's fastest
CHUNK_BYTES = 8 << 20  # of a project's archive, sent one at a time
_NOT_LOCAL = {"portfolio", *sys.stdlib_module_names}  # never the repository's own


def pack_project(root: Path, project: Path, data: Iterable[str], modules: Iterable[str]
                 ) -> bytes:
    """The archive a worker unpacks as its copy of the repository: the project folder's
    files (``data``: declared data, relative to it) and ``modules`` (relative to
    ``root``)."""
    buffer = io.BytesIO()
    write_project(buffer, root, project, data, modules)
    return buffer.getvalue()


def write_project(target: BinaryIO, root: Path, project: Path, data: Iterable[str],
                  modules: Iterable[str]) -> None:
    """:func:`pack_project`'s archive, written into the open file ``target`` as it is
    made (a file at a time, in tarfile's small blocks)."""
    files = [p.relative_to(root).as_posix() for p in plan.source_files(project, root, list(data))]
    _write(target, root, sorted({*files, *modules}))


def chunks(source: BinaryIO, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The rest of ``source``, ``size`` bytes at a time: one chunk in memory at once, when
    the caller drops each before asking for the next."""
    while True:
        chunk = source.read(size)
        if not chunk:
            return
        yield chunk
        del chunk  # before the next read


def pack_folder(folder: Path) -> bytes:
    """A run's folder, every file in it, as an archive."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and not p.is_symlink())
    return _pack(folder, files)


def unpack(archive: bytes | list[bytes], target: Path) -> None:
    """Unpack an archive made by this module (whole, or as its :func:`chunks`) into
    ``target``; members that would land outside it, links and device files are refused
    (tarfile's ``data`` filter)."""
    target.mkdir(parents=True, exist_ok=True)
    if isinstance(archive, bytes):
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            tar.extractall(target, filter="data")
        return
    with tempfile.TemporaryFile() as spool:  # not joined in memory: a second copy
        for chunk in archive:
            spool.write(chunk)
        spool.seek(0)
        with tarfile.open(fileobj=spool, mode="r:gz") as tar:
            tar.extractall(target, filter="data")


def _pack(base: Path, names: list[str]) -> bytes:
    buffer = io.BytesIO()
    _write(buffer, base, names)
    return buffer.getvalue()


def _write(target: BinaryIO, base: Path, names: list[str]) -> None:
    with tarfile.open(fileobj=target, mode="w:gz", compresslevel=_LEVEL,
                      dereference=True) as tar:
        for name in names:
            path = base / name
            if path.is_file():
                tar.add(path, arcname=name, recursive=False)


# -- the repository modules a project imports ---------------------------------------------
def local_modules(root: Path, project: Path, recorded: Iterable[str] = (),
                  pythonpath: Iterable[str] = ()) -> list[str]:
    """The repository's Python files outside ``project`` that its scripts import (by
    name, followed through what those import), with ``recorded`` (its last run's); paths
    relative to ``root``. ``pythonpath``: folders of the repository (relative to it) that
    are on the import path, searched first."""
    index = _ModuleIndex(root, project, list(pythonpath))
    inside = root.resolve()
    found = {rel for rel in recorded  # a run.json is a file anyone may edit: in the repository
             if (root / rel).is_file() and (root / rel).resolve().is_relative_to(inside)}
    own = plan.source_files(project, root)
    todo = [p for p in own if p.suffix in (".py", ".ipynb")]
    for path in plan.run_files(project, root, own).values():  # `%run ../x.py`
        rel = path.relative_to(inside).as_posix()
        if rel not in found:
            found.add(rel)
            todo.append(path)
    seen: set[str] = set()
    while todo:
        for name in _imported_names(todo.pop()) - seen - _NOT_LOCAL:
            seen.add(name)
            if (project / f"{name}.py").is_file() or (project / name / "__init__.py").is_file():
                continue  # the project's own: it travels with the folder
            for rel in index.files_of(name):
                if rel not in found:
                    found.add(rel)
                    todo.append(root / rel)
    return sorted(found)


def _imported_names(path: Path) -> set[str]:
    """The top-level names a Python file (or a notebook's code) imports absolutely (``a``
    for ``import a.b``)."""
    try:
        source = notebook.python_source(path) if notebook.is_notebook(path) \
            else path.read_bytes()
        tree = ast.parse(source, filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


class _ModuleIndex:
    """Where the repository holds a module of each name: ``name.py`` or a package folder
    ``name/`` (every Python file in it travels), found once by walking the repository as
    :func:`plan.source_files` would, outside ``project``."""

    def __init__(self, root: Path, project: Path, pythonpath: list[str]) -> None:
        self._root, self._first = root, pythonpath
        self._by_name: dict[str, list[str]] | None = None
        self._project = project.resolve()

    def files_of(self, name: str) -> list[str]:
        for folder in self._first:  # on the import path: that one, as Python would pick
            base = self._root / folder
            if (base / f"{name}.py").is_file():
                return [(Path(folder) / f"{name}.py").as_posix()]
            if (base / name / "__init__.py").is_file():
                return self._package(Path(folder) / name)
        return self._index().get(name, [])

    def _package(self, rel: Path) -> list[str]:
        return sorted(p.relative_to(self._root).as_posix()
                      for p in plan.source_files(self._root / rel, self._root)
                      if p.suffix == ".py")

    def _index(self) -> dict[str, list[str]]:
        if self._by_name is None:
            self._by_name = {}
            for path in plan.source_files(self._root, self._root):
                if path.suffix != ".py" or path.resolve().is_relative_to(self._project):
                    continue
                rel = path.relative_to(self._root)
                if path.name == "__init__.py" and len(rel.parts) >= 2:
                    package = rel.parent
                    if not (self._root / package.parent / "__init__.py").is_file():
                        self._by_name.setdefault(package.name, []).extend(
                            self._package(package))
                elif path.name != "__init__.py":
                    self._by_name.setdefault(path.stem, []).append(rel.as_posix())
        return self._by_name


def repository_pythonpath(root: Path, value: str | None = None) -> list[str]:
    """The entries of PYTHONPATH (``value``, else this process's) inside the repository,
    relative to it: on a worker they point into its copy."""
    entries = (os.environ.get("PYTHONPATH", "") if value is None else value).split(os.pathsep)
    inside = []
    for entry in filter(None, entries):
        path = Path(entry).resolve()
        if path.is_relative_to(root.resolve()):
            inside.append(path.relative_to(root.resolve()).as_posix() or ".")
    return inside
