"""Stage 7: publish ``site/`` to a ``gh-pages`` branch and say where it will be served.

The site is committed with a temporary index straight from ``site/`` (the way ghp-import
does it), so the working tree and the user's index are never touched, then pushed. The
commit's tree is exactly the built site plus ``.nojekyll`` (GitHub Pages must not run
Jekyll over it) and ``CNAME`` when the repository has one.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from portfolio.errors import PortfolioError, display

# What the site is built from, relative to the repository: publish refuses to push a site
# while any of them differs from the commit (uncommitted or untracked, not git-ignored).
SITE_INPUTS = ("projects", "results", "mkdocs.yml", "site_templates", ".gitignore", "CNAME")
FILE_LIMIT = 100 * 1024**2  # GitHub refuses files over 100 MB
SITE_LIMIT = 1024**3  # GitHub Pages sites should stay under 1 GB


def site_inputs(root: Path, mkdocs_yml: Path) -> list[str]:
    """:data:`SITE_INPUTS` and the owner's local avatar and CV files, which the site copies."""
    from portfolio.config import load_mkdocs_yml, profile_of

    profile = profile_of(load_mkdocs_yml(mkdocs_yml), mkdocs_yml)
    return [*SITE_INPUTS, *(p.relative_to(root).as_posix() for p in profile.local_files(root)
                            if p.resolve().is_relative_to(root.resolve()))]


class PublishError(PortfolioError):
    """Publishing was refused or failed: exit code 2, with the reason."""


# The user (and password, or token) part of a URL: ``https://user:token@host/...``.
_USERINFO = re.compile(r"(?<=://)[^/?#\s]*@")


def redact(text: str) -> str:
    """``text`` with the credentials of every URL in it masked: a remote's URL may carry a
    token, whatever the host, and what ``publish`` prints ends up in terminals and CI logs."""
    return _USERINFO.sub("***@", text)


def git(root: Path, *args: str, env: dict[str, str] | None = None, check: bool = True,
        strip: bool = True) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, check=False)
    if check and result.returncode != 0:
        raise PublishError(redact(f"git {' '.join(args)} failed: {result.stderr.strip()}"))
    return result.stdout.strip() if strip else result.stdout


def remote_url(root: Path, remote: str) -> str:
    """The URL of the git remote named ``remote``, or ``remote`` itself when it is a URL
    (``git push`` takes either)."""
    if git(root, "rev-parse", "--is-inside-work-tree", check=False) != "true":
        raise PublishError(f"{root} is not a git repository: run `git init` and commit first")
    url = git(root, "remote", "get-url", remote, check=False)
    if url:
        return url
    if _URL.match(remote):
        return remote
    raise PublishError(redact(f"there is no git remote named '{remote}': add one with "
                              f"`git remote add {remote} <url>`, or pass --remote"))


# What git takes as a URL: scheme://..., or scp-like user@host:path.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://|[^/:@\s]+@[^/:\s]+:")
# A domain for GitHub Pages' CNAME: dot-separated labels of letters, digits and '-'.
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+"
                     r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", re.I)


def custom_domain(root: Path) -> str | None:
    """The domain in the repository's ``CNAME`` file (GitHub Pages serves the site there),
    None without one. GitHub reads one domain and nothing else: a second line, a URL or a
    blank file is refused here, located, before anything is pushed."""
    path = root / "CNAME"
    if not path.is_file():
        return None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PublishError(f"{display(path)}: cannot be read as text ({exc})") from None
    written = [(number, line.strip()) for number, line in enumerate(lines, 1) if line.strip()]
    if not written:
        raise PublishError(f"{display(path)}:1: empty: write the site's domain in it (for "
                           "example portfolio.example.com), or delete the file")
    if len(written) > 1:
        number, line = written[1]
        raise PublishError(f"{display(path)}:{number}: a second domain ('{line}'): GitHub "
                           "Pages serves a site at one domain; keep one line")
    number, domain = written[0]
    if not _DOMAIN.fullmatch(domain):
        raise PublishError(f"{display(path)}:{number}: '{domain}' is not a domain name: write "
                           "the domain alone (portfolio.example.com), without https:// or a "
                           "path")
    return domain.lower()


def uncommitted(root: Path, paths: list[str]) -> list[str]:
    """Changed or untracked files under ``paths``: the site would not match the repository."""
    out = git(root, "status", "--porcelain", "--untracked-files=all", "--", *paths,
              strip=False)  # " M file": the status's leading space is part of the line
    return [line[3:] for line in out.splitlines() if line.strip()]


def public_url(remote: str, root: Path) -> str | None:
    """``https://<owner>.github.io/<repo>/`` for a GitHub remote, or the custom domain in a
    ``CNAME`` file; ``None`` when neither says where the site will be served."""
    domain = custom_domain(root)
    if domain:
        return f"https://{domain}/"
    return _github_pages_url(remote)


def _github_pages_url(remote: str) -> str | None:
    """Where GitHub Pages serves the repository at ``remote``; None when not on GitHub."""
    match = re.search(r"github\.com[:/]+([^/]+)/([^/]+?)(?:\.git)?/?$", redact(remote))
    if not match:
        return None
    owner, repo = match[1], match[2]
    if repo.lower() == f"{owner.lower()}.github.io":
        return f"https://{owner.lower()}.github.io/"
    return f"https://{owner.lower()}.github.io/{repo}/"


def size_warnings(site_dir: Path, file_limit: int = FILE_LIMIT,
                  site_limit: int = SITE_LIMIT) -> list[str]:
    warnings, total = [], 0
    for path in sorted(site_dir.rglob("*")):
        if path.is_file():
            size = path.stat().st_size
            total += size
            if size > file_limit:
                warnings.append(f"{path.relative_to(site_dir)} is {size / 1024**2:.0f} MB: "
                                f"GitHub refuses files over {file_limit / 1024**2:.0f} MB "
                                "(set publish_model: false and model_url in its project.yaml)")
    if total > site_limit:
        warnings.append(f"the site is {total / 1024**3:.2f} GB: GitHub Pages sites should stay "
                        f"under {site_limit / 1024**3:.0f} GB")
    return warnings


@dataclass(frozen=True)
class Pushed:
    """What :func:`publish` pushed: the commit, and whether the push created the branch on
    the remote (then no Pages site can be serving it yet)."""

    commit: str
    created: bool


def publish(root: Path, site_dir: Path, remote: str, branch: str, message: str) -> Pushed:
    """Commit ``site_dir`` as the tip of ``branch`` and push it to ``remote``. Nothing in
    the working tree or the index changes."""
    from portfolio.site import finished

    if not (site_dir / "index.html").is_file():
        raise PublishError(f"{site_dir} holds no built site: run `portfolio build` first")
    if finished(site_dir, root / ".build") is None:
        raise PublishError(f"{site_dir} is not a finished build (it was interrupted, or made "
                           "by hand or by another tool): run `portfolio build` first")
    domain = custom_domain(root)
    (site_dir / ".nojekyll").touch()
    if domain:
        (site_dir / "CNAME").write_text(f"{domain}\n", encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(root, "--work-tree", str(site_dir), "add", "--all", "--force", ".", env=env)
        tree = git(root, "write-tree", env=env)
    parent = git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False)
    identity = {} if git(root, "config", "user.email", check=False) else {
        "GIT_AUTHOR_NAME": "portfolio", "GIT_AUTHOR_EMAIL": "portfolio@localhost",
        "GIT_COMMITTER_NAME": "portfolio", "GIT_COMMITTER_EMAIL": "portfolio@localhost"}
    if parent and git(root, "rev-parse", f"{parent}^{{tree}}") == tree:
        commit = parent  # nothing changed: push what is there
    else:
        commit = git(root, "commit-tree", tree, *(["-p", parent] if parent else []),
                     "-m", message, env=identity)
        git(root, "update-ref", f"refs/heads/{branch}", commit)
    # --porcelain: one line per ref, flagged '*' when the push created it.
    said = git(root, "push", "--porcelain", "--force", remote,
               f"refs/heads/{branch}:refs/heads/{branch}")
    return Pushed(commit, any(line.startswith("*\t") for line in said.splitlines()))


def next_steps(root: Path, mkdocs_yml: Path, remote_url: str, branch: str,
               created: bool) -> list[str]:
    """What to say once the site is pushed: the link to share, or, on a first push to
    GitHub, how to turn Pages on (a link printed before that would 404); and the exact
    ``site_url`` line when ``mkdocs.yml`` has none, derived from where it is served."""
    from portfolio.config import load_mkdocs_yml

    where = public_url(remote_url, root)
    lines = []
    if created and _github_pages_url(remote_url):
        lines.append(
            f"first push of {branch}: GitHub Pages serves it once it is on; in the "
            f"repository's Settings → Pages, set Source to \"Deploy from a branch\", branch "
            f"{branch}, folder / (root). The site is then at {where} (a minute or two later)")
    elif where:
        lines.append(f"share: {where}")
    else:
        lines.append(f"the site is on branch {branch} of {redact(remote_url)}; serve it "
                     "with your host's Pages")
    if not load_mkdocs_yml(mkdocs_yml).get("site_url"):
        line = f"site_url: {where}" if where else "site_url: https://<where it is served>/"
        lines.append(f"set `{line}` in mkdocs.yml, commit, and publish again: link "
                     "previews need it for their image, and search engines for sitemap.xml")
    return lines
