"""``portfolio init``: a new portfolio repository that ``portfolio build`` builds at once.

It writes ``mkdocs.yml`` with the owner's profile to fill in, empty ``projects/`` and
``results/``, a ``.gitignore``, the publish workflow (the file ``portfolio init-ci``
writes) and a short README for the portfolio's visitors, and runs ``git init`` when the
folder is not inside a repository. It never overwrites a file unless told to.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

from portfolio.errors import InputError, display

WORKFLOW = ".github/workflows/publish.yml"
CONSTRAINTS = "constraints.txt"  # the workflow's pins, beside it at the repository's top


# The workflow as shipped installs portfolio from the repository it runs in, which is right
# for portfolio's own repository; a portfolio made by ``init`` has no package to install.
SOURCE_INSTALL = "python -m pip install -c constraints.txt ."
SHIPPED_PYTHON = 'python-version: "3.11"'  # the workflow's Python, as shipped
# Where the tool comes from when nothing says: to be edited, and ``init`` says so.
PLACEHOLDER = "portfolio @ git+https://github.com/OWNER/portfolio"


def workflow_text(root: Path | None = None) -> tuple[str, bool]:
    """The GitHub Actions workflow that renders results/ and deploys the site for the
    repository at ``root``, and whether its install line is a placeholder to edit. In a
    repository that holds portfolio's own sources (``pyproject.toml`` and
    ``constraints.txt``) it installs them; anywhere else it installs the tool from where
    the running one came from (:func:`install_spec`)."""
    text = resources.files("portfolio").joinpath("publish.yml").read_text(encoding="utf-8")
    if SOURCE_INSTALL not in text or SHIPPED_PYTHON not in text:  # it and this code disagree
        raise RuntimeError(f"publish.yml has no '{SOURCE_INSTALL}' or '{SHIPPED_PYTHON}' "
                           "to adapt")
    if root is not None and _holds_portfolio_sources(root):
        return text, False
    spec = install_spec()
    line = f'python -m pip install -c {CONSTRAINTS} "{spec or PLACEHOLDER}"'
    # constraints.txt pins what this Python installed: CI runs the same minor version.
    python = f'python-version: "{sys.version_info.major}.{sys.version_info.minor}"'
    return text.replace(SOURCE_INSTALL, line).replace(SHIPPED_PYTHON, python), spec is None


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


def install_spec(direct_url: dict | None = None) -> str | None:
    """How pip installs the portfolio that is running: its VCS URL and commit when it was
    installed from git (``uv tool install git+URL``, ``pipx install git+URL``: PEP 610's
    ``direct_url.json``), or its source folder's git remote and commit; None when neither
    is known (a wheel file, a folder with no remote)."""
    if direct_url is None:
        from importlib import metadata

        try:
            raw = metadata.distribution("portfolio").read_text("direct_url.json")
        except metadata.PackageNotFoundError:
            raw = None
        direct_url = json.loads(raw) if raw else {}
    url = str(direct_url.get("url", ""))
    vcs = direct_url.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and vcs.get("commit_id"):
        return f"portfolio @ git+{url}@{vcs['commit_id']}"
    if url.startswith("file://"):
        from urllib.parse import urlsplit
        from urllib.request import url2pathname

        return _remote_of(Path(url2pathname(urlsplit(url).path)))
    return None


def _remote_of(folder: Path) -> str | None:
    """``portfolio @ git+<origin>@<commit>`` for a source folder pushed somewhere."""
    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=folder, capture_output=True,
                                  text=True, check=False)
        except (FileNotFoundError, NotADirectoryError):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    origin, commit = git("remote", "get-url", "origin"), git("rev-parse", "HEAD")
    if not origin or not commit or not git("branch", "-r", "--contains", "HEAD"):
        return None  # no remote, or a commit the runner could not fetch (never pushed)
    if origin.startswith("git@github.com:"):  # a runner has no SSH key: https for GitHub
        origin = "https://github.com/" + origin.removeprefix("git@github.com:")
    if not origin.startswith("https://"):
        return None
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(origin)  # never a credential in a committed workflow
    origin = urlunsplit(parts._replace(netloc=parts.hostname or ""))
    return f"portfolio @ git+{origin}@{commit}"


MKDOCS_YML = """\
# The site: fill in your profile under extra.portfolio, then run `portfolio build`.
# Pages are generated from projects/ and results/ into .build/; do not add a nav here.
site_name: {quoted}
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
    name: Your Name
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


def files(name: str, workflow: str) -> dict[str, str]:
    """What ``init`` writes, by path relative to the portfolio's folder."""
    return {
        # site_name quoted: a folder named "yes" or "1.0" is still a string to YAML.
        "mkdocs.yml": MKDOCS_YML.format(name=name, quoted=json.dumps(name)),
        "README.md": README.format(name=name),
        ".gitignore": GITIGNORE,
        WORKFLOW: workflow,
        CONSTRAINTS: core_constraints(),
        "projects/.gitkeep": "",
        "results/.gitkeep": "",
    }


def init(folder: Path, force: bool = False) -> tuple[list[str], bool, bool]:
    """Write a new portfolio into ``folder`` (created if missing). Returns the files
    written, whether ``git init`` ran, and whether the workflow's install line is a
    placeholder to edit. Refuses, naming every file that exists, unless ``force``."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: is a file; give a folder for the new portfolio")
    workflow, placeholder = workflow_text(folder)
    planned = files(folder.name or "portfolio", workflow)
    if _holds_portfolio_sources(folder):  # its own constraints.txt pins every extra
        del planned[CONSTRAINTS]
    existing = [name for name in planned if (folder / name).exists()]
    if existing and not force:
        raise InputError(f"{folder}: would overwrite {', '.join(existing)}; pass --force "
                         "to replace them")
    for name, text in planned.items():
        target = folder / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as exc:  # a file on the way, a read-only folder, a full disk
            where = Path(exc.filename) if exc.filename else target
            raise InputError(f"{display(where)}: cannot write the new portfolio there "
                             f"({exc.strerror or exc}); give a folder you can write") from None
    return list(planned), _git_init(folder), placeholder


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
