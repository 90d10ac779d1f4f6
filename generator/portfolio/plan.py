"""Stage 2: decide which projects must run, by hashing what their results depend on.

A project is fresh when the hash of its inputs equals the one recorded by its last
successful run. Inputs are content, never timestamps: the project's files, the
metadata fields that change training, the seed, the versions of the libraries that
do the maths, and the results format. Each part is hashed separately and recorded,
so a stale project can say *why* it is stale.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from portfolio import caches, gitignore, notebook, results
from portfolio.domain import Project, ProjectState, RunResult, Workspace
from portfolio.errors import ResultsError, display
from portfolio.record import RESULTS_FORMAT, syntax_error

# The libraries whose versions change numbers; tensorflow may be installed as tensorflow-cpu.
LIBRARIES = {
    "keras": ("keras",),
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "scikit-learn": ("scikit-learn",),
    "numpy": ("numpy",),
}
REPO_PREFIX = "<repo>/"  # marks a repository module, outside the project folder, in Inputs
RUN_PREFIX = "<%run>/"  # a file a notebook's %run runs, outside the project folder


def library_versions() -> dict[str, str]:
    """Versions from package metadata: no import, so no TensorFlow start-up in the parent.
    Read once per process (a copy each call): packages do not change during a build."""
    return dict(_library_versions())


@functools.cache
def _library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name, dists in LIBRARIES.items():
        for dist in dists:
            try:
                versions[name] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
        else:
            versions[name] = "absent"
    return versions


@dataclass(frozen=True)
class Inputs:
    """The parts a run depends on, each hashed on its own, and their combined hash."""

    files: dict[str, str]
    meta: dict[str, Any]
    versions: dict[str, str]
    format: int = RESULTS_FORMAT
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", _sha(json.dumps(self.as_dict(), sort_keys=True)))

    def after_run(self, outputs: list[str], local_modules: dict[str, str],
                  versions: dict[str, str] | None = None) -> Inputs:
        """The inputs as the run turned out to have them: less the files it wrote (outputs,
        not inputs), with the repository modules it imported (known only once it ran), and
        the library ``versions`` of the machine it ran on when that was not this one."""
        files = {k: v for k, v in self.files.items()
                 if k not in outputs and not k.startswith(REPO_PREFIX)}
        return Inputs({**files, **local_modules}, self.meta, versions or self.versions,
                      self.format)

    def as_dict(self) -> dict[str, Any]:
        return {"files": self.files, "meta": self.meta, "versions": self.versions,
                "format": self.format}


def _sha(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


# Folders that are never a project's own work: caches, outputs, virtual environments and
# installed packages (a project's .venv holds PyTorch whether or not its script uses it).
_SKIP_DIRS = {"__pycache__", "results", "site", ".build", "venv", "node_modules",
              "site-packages"}


def _ignored(workspace_root: Path, folder: Path) -> Callable[[str], bool]:
    """A matcher for the repository's and the project's ``.gitignore`` patterns, given a
    path relative to the project folder (a folder's with a trailing ``/``)."""
    import pathspec

    lines: list[str] = []
    for ignore in (workspace_root / ".gitignore", folder / ".gitignore"):
        if ignore.is_file():
            lines += ignore.read_text(encoding="utf-8", errors="replace").splitlines()
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    prefix = folder.resolve().relative_to(workspace_root.resolve()).as_posix() \
        if folder.resolve().is_relative_to(workspace_root.resolve()) else ""
    return lambda rel: spec.match_file(f"{prefix}/{rel}" if prefix else rel)


def source_files(folder: Path, root: Path, declared: list[str] = ()) -> list[Path]:
    """The project's own files, sorted: what its inputs hash covers and what the home page
    reads its libraries from. Hidden files and folders, caches, outputs, virtual
    environments, installed packages and git-ignored paths are left out (``declared`` data
    paths are kept even when git-ignored), and ignored folders are never entered. Only
    regular files: a FIFO, a device or a dangling symlink is skipped, since opening one
    would block or fail. A symlinked folder (``data -> /mnt/datasets/x``) is entered like
    a symlinked file is read: its files are the project's, at their path through the link;
    one that leads back into the folder or above it (a loop) is not."""
    ignored = _ignored(root, folder)
    start = folder.resolve()
    wanted = [os.path.normpath(d).replace(os.sep, "/") for d in declared]

    def is_declared(rel: str) -> bool:
        return any(rel == d or rel.startswith(f"{d}/") for d in wanted)

    def holds_declared(rel: str) -> bool:
        return any(d.startswith(f"{rel}/") for d in wanted) or is_declared(rel)

    found = []
    for top, dirs, files in os.walk(folder, followlinks=True):
        base = Path(top).relative_to(folder).as_posix()
        base = "" if base == "." else f"{base}/"
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS
                   and (not ignored(f"{base}{d}/") or holds_declared(f"{base}{d}"))
                   and not _loops(Path(top) / d, start)]
        for name in files:
            rel = f"{base}{name}"
            if name.startswith(".") or (ignored(rel) and not is_declared(rel)):
                continue
            try:
                regular = stat.S_ISREG((folder / rel).stat().st_mode)
            except OSError:  # a dangling symlink, a symlink loop
                continue
            if regular:
                found.append(folder / rel)
    return sorted(found)


def _loops(path: Path, start: Path) -> bool:
    """Whether entering the folder ``path`` could walk a folder twice (or forever): a
    symlink to ``start`` or inside it (its files are walked where they are), to a folder
    above it, or to a folder on the way down to ``path``; or one that cannot be followed."""
    if not path.is_symlink():
        return False
    try:
        real = path.resolve(strict=True)
        here = path.parent.resolve(strict=True)
    except (OSError, RuntimeError):  # dangling, or a loop of links
        return True
    return real.is_relative_to(start) or start.is_relative_to(real) or here.is_relative_to(real)


def project_files(project: Project, root: Path, outputs: list[str] = ()) -> list[Path]:
    """The files whose content a run depends on: the project's :func:`source_files`, with
    its declared ``data``, less project.yaml (its training fields are hashed separately),
    the README narrative, compiled ``.pyc`` files, and files the last run wrote there itself
    (a script that saves its model beside itself must not go stale)."""
    skip = {"project.yaml", "README.md", *outputs}  # the narrative is presentation only
    return [path for path in source_files(project.folder, root, list(project.meta.data))
            if path.relative_to(project.folder).as_posix() not in skip
            and path.suffix != ".pyc"]


def file_hashes(project: Project, root: Path, outputs: list[str] = ()) -> dict[str, str]:
    """The SHA-256 of each of :func:`project_files`, streamed (a large data file is never
    held in memory) and remembered for large files (:class:`caches.Digests`)."""
    digests = caches.Digests()
    try:  # a notebook by its code cells alone: new outputs or prose leave it fresh
        files = project_files(project, root, outputs)
        hashes = {p.relative_to(project.folder).as_posix():
                  notebook.code_digest(p) if notebook.is_notebook(p) else digests.sha256(p)
                  for p in files}
        for rel, path in run_files(project.folder, root, files).items():
            hashes[f"{RUN_PREFIX}{rel}"] = digests.sha256(path)
        return hashes
    finally:
        digests.save()


def run_files(folder: Path, root: Path, files: list[Path]) -> dict[str, Path]:
    """The repository files outside ``folder`` that its notebooks (among ``files``) run
    with ``%run`` (``%run ../shared/prepare.py``), by their path in the repository: inputs
    of its runs, sent to a Dask worker with it. Those inside are among its files already."""
    folder, inside = folder.resolve(), root.resolve()
    found = {}
    for book in files:
        if not notebook.is_notebook(book):
            continue
        for target in notebook.run_files(book):
            real = target.resolve()
            if real.is_file() and real.is_relative_to(inside) and not real.is_relative_to(folder):
                found[real.relative_to(inside).as_posix()] = real
    return found


def local_module_hashes(root: Path, modules: list[str]) -> dict[str, str]:
    """The repository's own Python modules outside the project that its last run imported
    (``lib/features.py`` shared by several projects): a change there re-runs the project."""
    hashes = {}
    for rel in modules:
        path = root / rel
        hashes[f"{REPO_PREFIX}{rel}"] = _sha(path.read_bytes()) if path.is_file() else "missing"
    return hashes


def inputs_of(project: Project, root: Path, previous: RunResult | None = None,
              libraries: dict[str, str] | None = None) -> Inputs:
    """``libraries``: the versions where the project will run (a cluster's), else here."""
    files = file_hashes(project, root, previous.run.outputs if previous else [])
    files.update(local_module_hashes(root, previous.run.local_modules if previous else []))
    return Inputs(files, project.meta.training_fields(), libraries or library_versions())


def written_by_run(project: Project, root: Path, before: Inputs) -> list[str]:
    """Files the script created in its own folder while it ran. A file that was an input
    when the run started stays one, even if the run changed it: a script that edits
    itself (or its data) must make the project stale, not hide the edit as an output."""
    after = file_hashes(project, root)
    return sorted(name for name in after if name not in before.files)


def outputs_to_handle(root: Path, project: Project, outputs: list[str]) -> list[str]:
    """Files the last run wrote in the project folder that are still there and that git
    neither ignores nor tracks: each is for the owner to add to .gitignore or commit."""
    import subprocess

    ignored = _ignored(root, project.folder)
    present = [o for o in outputs if (project.folder / o).is_file() and not ignored(o)]
    if not present:
        return []
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--", *present], cwd=project.folder,
                                capture_output=True, text=True, check=False)
    except OSError:  # no git installed: nothing is tracked
        return present
    if listed.returncode != 0:  # not a git repository: nothing is tracked
        return present
    tracked = set(listed.stdout.split("\0"))
    return [o for o in present if o not in tracked]


def state_of(workspace: Workspace, project: Project) -> ProjectState:
    """The project's last good run and its failure, as ``results/<slug>/`` holds them; raise
    :class:`ResultsError`, naming the file, when they cannot be read (results are committed,
    so a merge can leave conflict markers in them)."""
    return ProjectState(project, _load(results.good(workspace, project.slug).path),
                        _load(results.failed(workspace, project.slug).path))


def _load(folder: Path) -> RunResult | None:
    if folder.exists() and not folder.is_dir():
        raise ResultsError(f"{display(folder)}: is a file, but portfolio keeps a project's "
                           "results in a folder of that name; move or delete the file")
    try:
        return RunResult.load(folder)  # a run.json it cannot read: CorruptRecord says why
    except (OSError, ValueError) as exc:
        raise ResultsError(_unreadable(folder, exc)) from None


def _unreadable(folder: Path, error: Exception) -> str:
    """Which file of a results folder is unreadable (``metrics.json``: ``run.json`` says
    so itself), where, and what to do about it."""
    remedy = (f"fix it, or delete {display(folder)}/ to run the project again "
              "(its other results are kept until then)")
    for path in (folder / results.METRICS,):
        try:
            text = path.read_text(encoding="utf-8")
            json.loads(text)
        except FileNotFoundError:
            continue
        except UnicodeDecodeError:
            return f"{display(path)}: not UTF-8 text; {remedy}"
        except OSError as exc:
            return f"{display(path)}: cannot be read ({exc.strerror}); {remedy}"
        except json.JSONDecodeError as exc:  # run.json's reader says it the same way
            return syntax_error(path, text, exc)
    return f"{display(folder)}: cannot be read ({error}); {remedy}"


@dataclass(frozen=True)
class Decision:
    state: ProjectState
    inputs: Inputs
    staleness: str  # fresh, stale, failed, never run
    reasons: list[str]

    @property
    def must_run(self) -> bool:
        return self.staleness != "fresh"


Libraries = Callable[[dict[str, str] | None], dict[str, str]]


def decide(workspace: Workspace, project: Project, versions: bool = True,
           libraries: Libraries | None = None) -> Decision:
    """Fresh, stale (and why), failed or never run. ``versions=False`` judges the results
    by the repository alone (the project's files, its training fields, the results format):
    the Python and library versions of the machine that trained are taken as recorded, for
    an environment that renders but cannot train (CI: ``build --no-run --require-fresh``).
    ``libraries``: given the versions its last good run recorded, the versions of the
    machines that will run it (a Dask cluster's). Without it, a project whose last run was
    on a cluster is judged by the versions it recorded there, not by this machine's."""
    state = state_of(workspace, project)
    recorded = dict(state.good.run.inputs.versions) if state.good is not None \
        and state.good.run.inputs is not None else None
    if libraries is not None:
        wanted = libraries(recorded)
    elif recorded and state.good.run.placement and state.good.run.placement.executor != "local":
        wanted = recorded
    else:
        wanted = None
    inputs = inputs_of(project, workspace.root, state.good, wanted)
    if not versions and state.good is not None and state.good.run.inputs is not None:
        recorded = state.good.run.inputs
        inputs = Inputs(_as_git_holds_them(workspace.root, project, inputs.files,
                                           dict(recorded.files)),
                        inputs.meta, dict(recorded.versions), inputs.format)
    if state.failure is not None:
        return Decision(state, inputs, "failed", [f"last run {state.failure.status}"])
    if state.good is None:
        return Decision(state, inputs, "never run", ["never run"])
    recorded = state.good.run.inputs.model_dump() if state.good.run.inputs else {}
    if state.good.run.input_hash == inputs.digest:
        return Decision(state, inputs, "fresh", [])
    return Decision(state, inputs, "stale", why_changed(recorded, inputs.as_dict()))


def _as_git_holds_them(root: Path, project: Project, now: dict[str, str],
                       recorded: dict[str, str]) -> dict[str, str]:
    """The files as the repository alone can judge them: a declared data file that git
    ignores is not in a checkout (CI's), so its recorded hash stands, present or not. The
    machine that trained saw it; a change to it shows on that machine's next build."""
    try:
        base = project.folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return now
    names = [n for n in {*now, *recorded} if not n.startswith((REPO_PREFIX, RUN_PREFIX))]
    hidden = {path.removeprefix(f"{base}/") for path in
              gitignore.ignored(root, [f"{base}/{name}" for name in names])}
    files = {name: digest for name, digest in now.items() if name not in hidden}
    files.update({name: digest for name, digest in recorded.items() if name in hidden})
    return files


def why_changed(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Human reasons, cheapest-to-read first: 'train.py changed', 'keras 3.5 → 3.6'."""
    reasons = []
    old_files, new_files = before.get("files", {}), now["files"]
    for name in sorted(set(old_files) | set(new_files)):
        if name not in old_files:
            reasons.append(f"{name} added")
        elif name not in new_files:
            reasons.append(f"{name} removed")
        elif old_files[name] != new_files[name]:
            reasons.append(f"{name} changed")
    for key, value in now["meta"].items():
        if before.get("meta", {}).get(key) != value:
            reasons.append(f"project.yaml {key} changed")
    for lib, version in now["versions"].items():
        old = before.get("versions", {}).get(lib)
        if old != version:
            reasons.append(f"{lib} {old or 'absent'} → {version}")
    if before.get("format") != now["format"]:
        reasons.append("results format changed")
    return reasons or ["inputs changed"]
