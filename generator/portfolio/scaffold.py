"""``portfolio init``: a new portfolio repository that ``portfolio build`` builds at once.

It writes ``mkdocs.yml`` with the owner's profile to fill in, empty ``projects/`` and
``results/``, a ``.gitignore``, the publish workflow (the file ``portfolio init-ci``
writes) with what it installs (``constraints.txt``, and a wheel of the tool in
``.portfolio/`` when the tool came from no index or public git URL) and a short README
for the portfolio's visitors, and runs ``git init`` when the folder is not inside a
repository. It never overwrites a file unless told to.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from portfolio import toolsource
from portfolio.errors import InputError, display

WORKFLOW = ".github/workflows/publish.yml"
CONSTRAINTS = "constraints.txt"  # the workflow's pins, beside it at the repository's top


# The workflow as shipped installs portfolio from the repository it runs in, which is right
# for portfolio's own repository; a portfolio made by ``init`` has no package to install.
SOURCE_INSTALL = "python -m pip install -c constraints.txt ."
SHIPPED_PYTHON = 'python-version: "3.11"'  # the workflow's Python, as shipped


@dataclass(frozen=True)
class ToolInstall:
    """Where a portfolio's workflow installs the tool from."""

    requirement: str  # what its pip line installs: portfolio==V, a git URL, or a wheel's path
    wheel: Path | None = None  # the wheel to put at that path in the portfolio, if any

    def describe(self) -> str:
        if self.wheel is None:
            return self.requirement
        return f"{self.requirement}, a wheel of the portfolio you ran: commit it"


def tool_install(root: Path, scratch: Path) -> ToolInstall | None:
    """Where the workflow for the repository at ``root`` installs portfolio from: None in
    portfolio's own sources (it installs them); else where the running tool came from
    (the package index, a git URL: :func:`toolsource.install_spec`), or, when only this
    machine has it, a wheel of it written into ``scratch``, to go into
    :data:`toolsource.TOOL_DIR`."""
    if _holds_portfolio_sources(root):
        return None
    tool = toolsource.installed()
    spec = toolsource.install_spec(tool.direct_url, tool.version)
    if spec:
        return ToolInstall(spec)
    wheel = toolsource.write_wheel(scratch, tool)
    return ToolInstall(f"{toolsource.TOOL_DIR}/{wheel.name}", wheel)


def workflow_text(install: ToolInstall | None) -> str:
    """The GitHub Actions workflow that renders results/ and deploys the site, installing
    portfolio as ``install`` says (None: from the sources of the repository it runs in)."""
    text = resources.files("portfolio").joinpath("publish.yml").read_text(encoding="utf-8")
    if SOURCE_INSTALL not in text or SHIPPED_PYTHON not in text:  # it and this code disagree
        raise RuntimeError(f"publish.yml has no '{SOURCE_INSTALL}' or '{SHIPPED_PYTHON}' "
                           "to adapt")
    if install is None:
        return text
    line = f'python -m pip install -c {CONSTRAINTS} "{install.requirement}"'
    # constraints.txt pins what this Python installed: CI runs the same minor version.
    python = f'python-version: "{sys.version_info.major}.{sys.version_info.minor}"'
    return text.replace(SOURCE_INSTALL, line).replace(SHIPPED_PYTHON, python)


def place_tool(root: Path, install: ToolInstall | None) -> list[str]:
    """Copy the workflow's wheel (if it installs one) into ``root``, and remove the other
    wheels of portfolio there (an earlier version's). Returns the paths written."""
    if install is None or install.wheel is None:
        return []
    folder = root / toolsource.TOOL_DIR
    for old in folder.glob(f"{toolsource.NAME}-*.whl"):
        try:
            if old.name != install.wheel.name:
                old.unlink()
        except OSError as exc:
            raise InputError(f"{display(old)}: cannot remove this earlier wheel of portfolio "
                             f"({exc.strerror or exc}); remove it, then run this command "
                             "again") from None
    _write(root, install.requirement, install.wheel.read_bytes())
    return [install.requirement]


def init_ci(root: Path, force: bool) -> tuple[list[str], ToolInstall | None]:
    """``portfolio init-ci``: the workflow, the wheel it installs (if any) and, unless one
    exists (``force``: replace it), its ``constraints.txt``. Returns the paths written and
    where the workflow installs portfolio from."""
    if (root / WORKFLOW).exists() and not force:
        raise InputError(f"{display(root / WORKFLOW)}: exists; pass --force to overwrite it")
    with tempfile.TemporaryDirectory(prefix="portfolio-wheel-") as scratch:
        install = tool_install(root, Path(scratch))
        _write(root, WORKFLOW, workflow_text(install))
        written = [WORKFLOW, *place_tool(root, install)]
    if write_constraints(root, force):
        written.append(CONSTRAINTS)
    return written, install


def core_constraints() -> str:
    """``constraints.txt`` for a portfolio's workflow: the version of every distribution the
    core of the running portfolio needs (its requirements without extras, and theirs, for
    this platform), as installed here. CI then renders with the libraries the owner
    rendered with, not whatever was released since (a new MkDocs or Material can change
    every page). Versions come from package metadata; nothing is imported."""
    from importlib import metadata

    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    def needs(dist: str, extras: set[str]) -> list[Requirement]:
        found = []
        for line in metadata.requires(dist) or []:
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            if req.marker is None or any(req.marker.evaluate({"extra": e})
                                         for e in extras or {""}):
                found.append(req)
        return found

    pins: dict[str, str] = {}
    try:
        todo = needs("portfolio", set())
    except metadata.PackageNotFoundError:  # running from sources that were never installed
        todo = []
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in pins or name == "portfolio":
            continue
        try:
            pins[name] = metadata.version(req.name)
        except metadata.PackageNotFoundError:  # not needed on this platform
            continue
        todo += needs(req.name, set(req.extras))
    lines = [f"{name}=={version}" for name, version in sorted(pins.items())]
    return ("# The versions `portfolio init` found installed beside portfolio: the workflow\n"
            "# installs the site's renderer with them (pip install -c constraints.txt).\n"
            "# Regenerate after upgrading portfolio: `portfolio init-ci --force`.\n"
            + "".join(f"{line}\n" for line in lines))


def write_constraints(root: Path, force: bool = False) -> bool:
    """Write the workflow's ``constraints.txt`` (:func:`core_constraints`) unless one exists
    (``force``: replace it) or ``root`` holds portfolio's own sources, whose file pins more.
    Returns whether it was written."""
    path = root / CONSTRAINTS
    if _holds_portfolio_sources(root) or (path.exists() and not force):
        return False
    path.write_text(core_constraints(), encoding="utf-8")
    return True


def _holds_portfolio_sources(root: Path) -> bool:
    """A checkout of portfolio itself: its pyproject.toml names the project portfolio."""
    import tomllib

    try:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return project.get("project", {}).get("name") == "portfolio" \
        and (root / "constraints.txt").is_file()


MKDOCS_YML = """\
# The site: fill in your profile under extra.portfolio, then run `portfolio build`.
# Pages are generated from projects/ and results/ into .build/; do not add a nav here.
site_name: {site_name}
site_description: Completed deep-learning projects, each with held-out scores against \
published baselines.
# Where the site is served (GitHub Pages: https://<your-user>.github.io/{name}/): link
# previews and the sitemap need it.
# site_url: https://your-user.github.io/{name}/

theme:
  name: material
  font: false            # no Google Fonts: the site works offline and loads faster
  features:
    - navigation.sections
    - navigation.top
    - search.suggest
    - content.code.copy
  palette:
    - media: "(prefers-color-scheme: light)"
      scheme: default
      primary: indigo
      accent: indigo
      toggle:
        icon: material/weather-night
        name: Switch to dark mode
    - media: "(prefers-color-scheme: dark)"
      scheme: slate
      primary: indigo
      accent: indigo
      toggle:
        icon: material/weather-sunny
        name: Switch to light mode

plugins:
  - search
  - tags

markdown_extensions:
  - admonition
  - attr_list
  - md_in_html
  - tables
  - toc:
      permalink: true

# You, at the top of the home page.
extra:
  portfolio:
    name: {owner}
    headline: Machine-learning engineer · Keras, scikit-learn
    bio: >-
      One or two sentences about the problems you solve and how you work.
    # avatar: me.jpg       # an image in this repository, or a URL
    links:
      github: https://github.com/your-user
      # linkedin: https://www.linkedin.com/in/your-name
      # email: you@example.com
      # website: https://example.com
      # cv: cv.pdf         # a file in this repository, or a URL
"""

GITIGNORE = """\
# Generated by `portfolio build`: never committed.
.build/
site/
# Runs that are never published (smoke runs), and moves left half-done.
results/.scratch/
results/.run-*/
results/.old-*/
# MLflow's local stores (`portfolio export mlflow`, `mlflow ui`): your runs, not the site's.
mlflow.db
mlruns/
mlartifacts/
.venv/
__pycache__/
*.pyc
# The wheel of portfolio the workflow installs (`portfolio init` put it there): committed,
# even where a global ignore file leaves wheels out.
!.portfolio/
!.portfolio/*.whl
"""

README = """\
# {name}

A deep-learning portfolio. Each folder under `projects/` is one project: a plain training
script (`train.py`), its description (`project.yaml`) and its write-up (`README.md`).
`results/` holds what each project's last run measured: held-out scores next to
trivial and published baselines, learning curves, figures and the trained model.

The website is built from these folders with `portfolio`, a static-site generator for
deep-learning portfolios (MkDocs + Material). To rebuild it yourself:

```bash
portfolio build       # runs the projects that changed, then builds site/
portfolio serve       # a live preview at http://127.0.0.1:8000
```
"""


def owner_name(raw: str | None) -> str | None:
    """The owner's name as ``--name`` or the prompt gave it: None when blank; one line of
    printable text, or an error naming what is wrong."""
    name = (raw or "").strip()
    if not name:
        return None
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise InputError(f"--name: {name!r} holds a line break or a control character; "
                         "give your name on one line")
    return name


def _yaml_string(text: str) -> str:
    """``text`` as a double-quoted YAML string: a folder named "yes" or "1.0", or a name
    with a colon, is still a string to YAML."""
    return json.dumps(text, ensure_ascii=False)


def files(name: str, workflow: str, owner: str | None = None) -> dict[str, str]:
    """What ``init`` writes, by path relative to the portfolio's folder: ``name`` is the
    folder's, ``owner`` the owner's name (None: a line to fill in)."""
    mkdocs = MKDOCS_YML.format(name=name, site_name=_yaml_string(owner or name),
                               owner=_yaml_string(owner) if owner else "Your Name")
    return {
        "mkdocs.yml": mkdocs,
        "README.md": README.format(name=name),
        ".gitignore": GITIGNORE,
        WORKFLOW: workflow,
        CONSTRAINTS: core_constraints(),
        "projects/.gitkeep": "",
        "results/.gitkeep": "",
    }


def init(folder: Path, force: bool = False,
         owner: str | None = None) -> tuple[list[str], bool, ToolInstall | None]:
    """Write a new portfolio into ``folder`` (created if missing), with ``owner``'s name
    when given. Returns the files written, whether ``git init`` ran, and where its
    workflow installs portfolio from. Refuses, naming every file that exists, unless
    ``force``; checked before the tool's wheel is made, which takes seconds."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: is a file; give a folder for the new portfolio")
    planned = files(folder.name or "portfolio", "", owner)  # the workflow comes below
    if _holds_portfolio_sources(folder):  # its own constraints.txt pins every extra
        del planned[CONSTRAINTS]
    existing = [name for name in planned if (folder / name).exists()]
    existing += sorted(p.relative_to(folder).as_posix()  # init replaces a tool's wheel too
                       for p in (folder / toolsource.TOOL_DIR).glob(f"{toolsource.NAME}-*.whl"))
    if existing and not force:
        raise InputError(f"{folder}: would overwrite {', '.join(existing)}; pass --force "
                         "to replace them")
    with tempfile.TemporaryDirectory(prefix="portfolio-wheel-") as scratch:
        install = tool_install(folder, Path(scratch))
        planned[WORKFLOW] = workflow_text(install)
        for name, text in planned.items():
            _write(folder, name, text)
        written = [*planned, *place_tool(folder, install)]
    return written, _git_init(folder), install


def _write(root: Path, name: str, data: str | bytes) -> None:
    """Write ``root/name``, its folders first; a failure is one line naming where."""
    target = root / name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            target.write_bytes(data)
        else:
            target.write_text(data, encoding="utf-8")
    except OSError as exc:  # a file on the way, a read-only folder, a full disk
        where = Path(exc.filename) if exc.filename else target
        raise InputError(f"{display(where)}: cannot write the new portfolio there "
                         f"({exc.strerror or exc}); give a folder you can write") from None


def _git_init(folder: Path) -> bool:
    """``git init`` (branch main: the workflow publishes from it) unless ``folder`` is
    already inside a repository (or git is not installed)."""
    try:
        inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=folder,
                                capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return False
    if inside.returncode == 0 and inside.stdout.strip() == "true":
        return False
    done = subprocess.run(["git", "init", "-q", "-b", "main"], cwd=folder,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:  # a git older than 2.28 has no -b
        subprocess.run(["git", "init", "-q"], cwd=folder, capture_output=True, check=True)
    return True
