"""``portfolio new``: a runnable project folder from a template shipped in the package.

Each template is a folder under ``project_templates/`` (package data, read with
:mod:`importlib.resources`): a filled-in ``project.yaml`` and a tutorial-style
``train.py`` that imports nothing from portfolio.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml

from portfolio.discover import _SLUG, MAX_SLUG
from portfolio.domain import Workspace
from portfolio.errors import InputError, display

FILES = ("project.yaml", "train.py")
_TITLE = re.compile(r"^title:.*$", re.M)  # a double-quoted YAML string is JSON's


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


def titles_in_use(workspace: Workspace) -> set[str]:
    """The titles of the portfolio's projects (a project.yaml that cannot be read is left
    to ``portfolio check``)."""
    found = set()
    for path in workspace.projects_dir.glob("*/project.yaml"):
        try:
            meta = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(meta, dict) and isinstance(meta.get("title"), str):
            found.add(meta["title"].strip())
    return found


def title_for(workspace: Workspace, template: Template, slug: str,
              title: str | None = None) -> str:
    """The title asked for; else the template's, unless a project already has it: two cards
    with one title on the home page would read as a mistake, so the slug tells them apart."""
    if title is not None:
        if not title.strip():
            raise NewProjectError("--title may not be blank")
        return title.strip()
    if template.title in titles_in_use(workspace):
        return f"{template.title} ({slug})"
    return template.title


def _reads_back(line: str) -> object:
    try:
        return (yaml.safe_load(line) or {}).get("title")
    except yaml.YAMLError:
        return None


def create(workspace: Workspace, slug: str, template: str,
           title: str | None = None) -> tuple[Path, str]:
    """Write ``projects/<slug>/`` from ``template``; return the folder and its title."""
    known = templates()
    if template not in known:
        raise NewProjectError(f"unknown template '{template}' (known: {', '.join(known)})")
    check_slug(workspace, slug)
    source = known[template].folder
    if not workspace.mkdocs_yml.is_file():  # not a portfolio: never scatter projects/
        raise NewProjectError(f"{workspace.root}: no mkdocs.yml here, so this is not a "
                              "portfolio; run `portfolio new` at its top (or `portfolio "
                              "init` to start one)")
    chosen = title_for(workspace, known[template], slug, title)
    texts = {name: source.joinpath(name).read_text(encoding="utf-8") for name in FILES}
    # One line replaced, the template's comments kept. A function, not a template string:
    # re would read the backslashes of a title (C:\temp\new) as escapes and group numbers.
    line = f"title: {json.dumps(chosen, ensure_ascii=False)}"
    if _reads_back(line) != chosen:  # a character YAML will not take as it is: escaped
        line = f"title: {json.dumps(chosen)}"
    texts["project.yaml"], count = _TITLE.subn(lambda _: line, texts["project.yaml"], count=1)
    if count != 1:
        raise RuntimeError(f"template '{template}': project.yaml has no title line")
    projects = workspace.projects_dir
    if projects.exists() and not projects.is_dir():
        raise NewProjectError(f"{display(projects)}: is a file, but portfolio keeps the "
                              "projects in a folder of that name; move or delete the file")
    target = projects / slug
    try:
        target.mkdir(parents=True)
    except FileExistsError:  # made between the check and now
        raise NewProjectError(f"projects/{slug} exists; choose another name") from None
    except OSError as exc:  # read-only, or a full disk
        raise NewProjectError(f"{display(target)}: cannot be made ({exc.strerror})") from None
    try:
        for name, text in texts.items():
            (target / name).write_text(text, encoding="utf-8")
    except OSError as exc:  # never a half-made project left to trip the next build
        shutil.rmtree(target, ignore_errors=True)
        raise NewProjectError(f"{display(target / name)}: cannot be written "
                              f"({exc.strerror}); nothing was added") from None
    return target, chosen
