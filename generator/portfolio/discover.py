"""Stage 1: find ``projects/<slug>/project.yaml`` folders and validate them.

Every problem in every project is collected before anything is reported, so a
user fixes all their typos in one pass, the way ``mkdocs build`` reports config.
"""

from __future__ import annotations

import re
from pathlib import Path

from portfolio import schema
from portfolio.errors import MetadataError, Problem, ProjectNotFound
from portfolio.model import Project, Workspace

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


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
        if not _SLUG.match(folder.name):
            problems.append(Problem(meta_file, 1, 1, "", (
                f"folder name '{folder.name}' is not a valid slug: use lower-case letters, "
                "digits, '-' and '_'")))
            continue
        meta, found = schema.parse(meta_file)
        problems.extend(found)
        if meta is None:
            continue
        project = Project(folder.name, folder, meta)
        problems.extend(_check_paths(project))
        projects.append(project)
    problems.extend(_duplicates(projects))
    if problems:
        raise MetadataError(problems)
    if only:
        known = {p.slug: p for p in projects}
        missing = [slug for slug in only if slug not in known]
        if missing:
            raise ProjectNotFound(
                f"no project named {', '.join(missing)} in {workspace.projects_dir} "
                f"(known: {', '.join(known) or 'none'})")
        projects = [known[slug] for slug in only]
    return projects


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


def _check_paths(project: Project) -> list[Problem]:
    """``script`` and ``data`` must stay inside the project folder (no ../, no absolute path,
    no symlink out) and exist."""
    problems = []
    folder = project.folder.resolve()
    for key, value in [("script", project.meta.script), *(("data", d) for d in project.meta.data)]:
        line = _line_of(project.metadata_file, key)
        target = (project.folder / value).resolve()
        if Path(value).is_absolute() or not target.is_relative_to(folder):
            problems.append(Problem(project.metadata_file, line, 1, key,
                                    f"'{value}' points outside the project folder"))
        elif not target.exists() or (key == "script" and not target.is_file()):
            problems.append(Problem(project.metadata_file, line, 1, key,
                                    f"'{value}' does not exist in {project.folder.name}/"))
    return problems


def _line_of(meta_file: Path, key: str) -> int:
    for number, text in enumerate(meta_file.read_text(encoding="utf-8").splitlines(), 1):
        if text.startswith(f"{key}:"):
            return number
    return 1
