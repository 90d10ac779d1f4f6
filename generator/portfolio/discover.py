"""Stage 1: find ``projects/<slug>/project.yaml`` folders and validate them.

Every problem in every project is collected before anything is reported, so a
user fixes all their typos in one pass, the way ``mkdocs build`` reports config.
"""

from __future__ import annotations

import posixpath
import re
import tempfile
from pathlib import Path

from portfolio import gitignore, schema, yamlpos
from portfolio.domain import Project, Workspace
from portfolio.errors import MetadataError, Problem, ProjectNotFound, ResultsError, display

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")  # fullmatch: the whole name
# A slug names folders and files (``results/.run-<slug>-xxxxxxxx``, ``site/projects/<slug>/``)
# and URLs; 100 characters keeps every derived name far below the 255 bytes a file name has.
MAX_SLUG = 100


def discover(workspace: Workspace, only: list[str] | None = None) -> list[Project]:
    """All valid projects, sorted by slug; raise :class:`MetadataError` on any problem."""
    projects: list[Project] = []
    problems: list[Problem] = []
    if not workspace.projects_dir.is_dir():
        return []
    for folder in sorted(workspace.projects_dir.iterdir()):
        meta_file = folder / "project.yaml"
        if folder.name.startswith((".", "_")) or not meta_file.is_file():
            continue
        if not _SLUG.fullmatch(folder.name):
            problems.append(Problem(meta_file, 1, 1, "", (
                f"folder name '{folder.name}' is not a valid slug: use lower-case letters, "
                "digits, '-' and '_'")))
            continue
        if len(folder.name) > MAX_SLUG:
            problems.append(Problem(meta_file, 1, 1, "", (
                f"folder name is {len(folder.name)} characters long; a slug names folders, "
                f"files and URLs and may have at most {MAX_SLUG}: rename the folder")))
            continue
        outside = _outside(folder, workspace.root)
        if outside is not None:
            problems.append(Problem(meta_file, 1, 1, "", outside))
            continue
        meta, found = schema.parse(meta_file)
        problems.extend(found)
        if meta is None:
            continue
        if "script" not in meta.model_fields_set and not (folder / meta.script).exists() \
                and (folder / "train.ipynb").is_file():  # a notebook is the script
            meta = meta.model_copy(update={"script": "train.ipynb"})
        project = Project(folder.name, folder, meta)
        problems.extend(_check_paths(project, workspace.root))
        projects.append(project)
    problems.extend(_duplicates(projects))
    if problems:
        raise MetadataError(problems)
    return select(workspace, projects, only) if only else projects


def _outside(folder: Path, root: Path) -> str | None:
    """Why a project folder that a symlink leads out of the repository cannot be built: the
    site publishes nothing from outside it (its script link would be dead), and git keeps
    only the link (a clone, CI's, has no project). None for a folder inside."""
    try:
        target = folder.resolve(strict=True)
    except (OSError, RuntimeError):  # a symlink loop
        return "the project folder cannot be followed (a symlink loop?): replace the link " \
               "with the folder itself"
    if target.is_relative_to(root.resolve()):
        return None
    return (f"the project folder is a symlink to {target}, outside the repository: the site "
            "publishes nothing from outside it and git keeps only the link; move the folder "
            f"into {display(folder.parent)}/")


def select(workspace: Workspace, projects: list[Project], slugs: list[str]) -> list[Project]:
    """The projects named ``slugs``, in that order; raise :class:`ProjectNotFound` for a
    name that is not one of them."""
    known = {p.slug: p for p in projects}
    missing = [slug for slug in slugs if slug not in known]
    if missing:
        raise ProjectNotFound(
            f"no project named {', '.join(missing)} in {workspace.projects_dir} "
            f"(known: {', '.join(known) or 'none'})")
    return [known[slug] for slug in slugs]


def _duplicates(projects: list[Project]) -> list[Problem]:
    """``digits_cnn`` and ``digits-cnn`` read as the same project to a person and to URL
    slugifiers: two such folders are an error, named in both files."""
    seen: dict[str, Project] = {}
    problems = []
    for project in projects:
        key = project.slug.replace("_", "-")
        if key in seen:
            other = seen[key]
            for one, two in ((project, other), (other, project)):
                problems.append(Problem(one.metadata_file, 1, 1, "", (
                    f"duplicate slug: '{one.slug}' and '{two.slug}' name the same project; "
                    "rename one folder")))
        seen[key] = project
    return problems


def _check_paths(project: Project, root: Path) -> list[Problem]:
    """``script`` and ``data`` must stay inside the project folder (no ../, no absolute path;
    the script no symlink out) and exist; a data path git ignores may be missing, since a
    checkout (CI's) never has it: a run without it fails in the script, its log kept. A
    data path may be a symlink to a folder elsewhere (a data set on another disk): it is
    hashed and travels to a Dask worker as the files it leads to."""
    problems = []
    hidden = _ignored_data(project, root)
    folder = project.folder.resolve()
    entries: list[tuple[tuple[str | int, ...], str]] = [
        (("script",), project.meta.script),
        *((("data", index), value) for index, value in enumerate(project.meta.data))]
    for keys, value in entries:
        pos = yamlpos.position_of(project.metadata_file, keys)
        key = schema.dotted(keys)
        target = (project.folder / value).resolve()
        # The data path as written, not where its links lead.
        written = posixpath.normpath(value)
        inside = (not written.startswith("../") and written != "..") if keys[0] == "data" \
            else target.is_relative_to(folder)
        if Path(value).is_absolute() or not inside:
            problems.append(Problem(project.metadata_file, pos.line, pos.column, key,
                                    f"'{value}' points outside the project folder"))
        elif (not target.exists() and value not in hidden) or (
                keys == ("script",) and not target.is_file()):
            problems.append(Problem(project.metadata_file, pos.line, pos.column, key,
                                    f"'{value}' does not exist in {project.folder.name}/"))
    return problems


def _ignored_data(project: Project, root: Path) -> set[str]:
    """The declared ``data`` paths (as written) that git ignores."""
    try:
        base = project.folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return set()
    asked: dict[str, str] = {}
    for value in project.meta.data:
        path = posixpath.normpath(f"{base}/{value}")
        # A missing folder matches a `data/` rule only when asked about as a folder.
        asked.update({path: value, f"{path}/": value})
    return {asked[path] for path in gitignore.ignored(root, list(asked))}


def check_layout(workspace: Workspace) -> None:
    """The folders portfolio writes must be folders: a file named ``results``, ``.build``
    or ``site`` is reported by name before anything is read, run or written."""
    purposes = {workspace.results_dir: "each project's last results",
                workspace.build_dir: "the generated pages", workspace.site_dir: "the built site"}
    wrong = [f"{display(folder)}: is a file, but portfolio keeps {purpose} in a folder of "
             "that name; move or delete the file" for folder, purpose in purposes.items()
             if folder.exists() and not folder.is_dir()]
    if wrong:
        raise ResultsError("\n".join(wrong))


def check_writable(folders: list[Path]) -> None:
    """Each existing folder can take a new entry (a read-only ``results/``, a read-only
    file system): checked before any run starts, so nothing is half-written."""
    for folder in folders:
        if not folder.is_dir():
            continue
        try:
            Path(tempfile.mkdtemp(prefix=".portfolio-write-test-", dir=folder)).rmdir()
        except OSError as exc:
            raise ResultsError(
                f"{display(folder)}/: cannot write there ({exc.strerror}); portfolio writes "
                "each run's results in it: make it writable and build again") from None
