"""``portfolio new``: a runnable project folder from a template shipped in the package.

Each template is a folder under ``project_templates/`` (package data, read with
:mod:`importlib.resources`): a filled-in ``project.yaml`` and a tutorial-style
``train.py`` that imports nothing from portfolio.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml

from portfolio.discover import _SLUG, MAX_SLUG
from portfolio.domain import Workspace
from portfolio.errors import InputError, display

FILES = ("project.yaml", "train.py")


class NewProjectError(InputError):
    """``portfolio new`` was given a slug or a template it cannot use: exit code 2."""


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    summary: str
    folder: Traversable


def templates() -> dict[str, Template]:
    """The templates the package ships, by name, sorted."""
    root = resources.files("portfolio").joinpath("project_templates")
    found = {}
    for folder in sorted(root.iterdir(), key=lambda f: f.name):
        if not folder.is_dir() or not folder.joinpath("project.yaml").is_file():
            continue
        meta = yaml.safe_load(folder.joinpath("project.yaml").read_text(encoding="utf-8"))
        found[folder.name] = Template(folder.name, meta["title"], meta.get("summary") or "",
                                      folder)
    return found


def check_slug(workspace: Workspace, slug: str) -> None:
    """Refuse a slug ``discover`` would refuse, or one that names an existing project
    (also as its ``-``/``_`` twin, which ``discover`` reports as a duplicate)."""
    if not _SLUG.fullmatch(slug) or len(slug) > MAX_SLUG:
        raise NewProjectError(
            f"'{slug}' is not a valid project name: use lower-case letters, digits, '-' and "
            f"'_', starting with a letter or digit, at most {MAX_SLUG} characters")
    projects = workspace.projects_dir
    target = projects / slug
    if target.exists() or target.is_symlink():
        raise NewProjectError(f"{display(target)} already exists: choose another name")
    twin = slug.replace("_", "-")
    if projects.is_dir():
        for other in projects.iterdir():
            if other.name.replace("_", "-") == twin:
                raise NewProjectError(
                    f"{display(other)} already exists and '{slug}' would name the same "
                    "project: choose another name")


def create(workspace: Workspace, slug: str, template: str) -> Path:
    """Write ``projects/<slug>/`` from ``template``; return the folder."""
    known = templates()
    if template not in known:
        raise NewProjectError(f"unknown template '{template}' (known: {', '.join(known)})")
    check_slug(workspace, slug)
    source = known[template].folder
    if not workspace.mkdocs_yml.is_file():  # not a portfolio: never scatter projects/
        raise NewProjectError(f"{workspace.root}: no mkdocs.yml here, so this is not a "
                              "portfolio; run `portfolio new` at its top (or `portfolio "
                              "init` to start one)")
    target = workspace.projects_dir / slug
    try:
        target.mkdir(parents=True)
    except FileExistsError:  # made between the check and now
        raise NewProjectError(f"projects/{slug} exists; choose another name") from None
    for name in FILES:
        (target / name).write_text(source.joinpath(name).read_text(encoding="utf-8"),
                                   encoding="utf-8")
    return target
