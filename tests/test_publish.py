"""Publishing to a real git remote (a local bare repository), the refusals, the link
previews on every page, and the shipped GitHub Actions workflow."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from portfolio import publish, scaffold, toolsource

from tests.conftest import REPO, portfolio_cli

GIT_ENV = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com"}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


@pytest.fixture
def repo(tiny: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The tiny portfolio built, committed, with a bare repository as its origin."""
    shutil.rmtree(tiny / "projects" / "failing")  # publishing refuses failed projects
    (tiny / ".gitignore").write_text(".build/\nsite/\n")
    assert portfolio_cli("build", cwd=tiny).returncode == 0
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "--bare", "-q", str(bare))
    git(tiny, "init", "-q", "-b", "main")
    git(tiny, "add", "-A")
    git(tiny, "commit", "-q", "-m", "portfolio")
    git(tiny, "remote", "add", "origin", str(bare))
    return tiny, bare


@pytest.mark.cli
def test_publish_pushes_exactly_the_built_site(repo: tuple[Path, Path]) -> None:
    root, bare = repo
    result = portfolio_cli("publish", "--no-build", cwd=root)
    assert result.returncode == 0, result.stderr
    pushed = set(git(bare, "ls-tree", "-r", "--name-only", "gh-pages").splitlines())
    built = {p.relative_to(root / "site").as_posix() for p in (root / "site").rglob("*")
             if p.is_file()}
    assert pushed == built and ".nojekyll" in pushed
    for name in sorted(built):  # byte for byte: the blob ids match the files' hashes
        assert git(bare, "rev-parse", f"gh-pages:{name}") == \
            git(root, "hash-object", str(root / "site" / name)), name
    assert git(root, "status", "--porcelain") == ""  # working tree and index untouched
    assert "pushed site/ to origin gh-pages" in result.stdout
    again = portfolio_cli("publish", "--no-build", cwd=root)
    assert again.returncode == 0
    assert git(bare, "rev-list", "--count", "gh-pages") == "1"  # nothing changed: no commit


@pytest.mark.cli
def test_publish_builds_first_and_honours_remote_and_branch(repo: tuple[Path, Path],
                                                             tmp_path: Path) -> None:
    root, _ = repo
    other = tmp_path / "other.git"
    git(tmp_path, "init", "--bare", "-q", str(other))
    git(root, "remote", "add", "mirror", str(other))
    shutil.rmtree(root / "site")
    result = portfolio_cli("publish", "--remote", "mirror", "--branch", "pages", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "index.html" in git(other, "ls-tree", "--name-only", "pages")


@pytest.mark.cli
def test_refuses_without_a_remote(repo: tuple[Path, Path]) -> None:
    root, _ = repo
    git(root, "remote", "remove", "origin")
    result = portfolio_cli("publish", "--no-build", cwd=root)
    assert result.returncode == 2
    assert "there is no git remote named 'origin'" in result.stderr


@pytest.mark.cli
def test_refuses_uncommitted_project_or_results_changes(repo: tuple[Path, Path]) -> None:
    root, bare = repo
    (root / "projects" / "tutorial" / "notes.txt").write_text("draft\n")
    result = portfolio_cli("publish", "--no-build", cwd=root)
    assert result.returncode == 2
    assert "uncommitted changes in what the site is built from" in result.stderr
    assert "projects/tutorial/notes.txt" in result.stderr
    assert git(bare, "branch", "--list") == ""  # nothing was pushed


@pytest.mark.cli
def test_refuses_stale_results_unless_allowed(repo: tuple[Path, Path]) -> None:
    root, bare = repo
    script = root / "projects" / "no-keras" / "main.py"
    script.write_text(script.read_text() + "# changed\n")
    git(root, "commit", "-q", "-am", "change a script")
    result = portfolio_cli("publish", "--no-build", cwd=root)
    assert result.returncode == 2
    assert "results are not up to date: no-keras (stale: main.py changed)" in result.stderr
    allowed = portfolio_cli("publish", "--no-build", "--allow-stale", cwd=root)
    assert allowed.returncode == 0, allowed.stderr
    assert "gh-pages" in git(bare, "branch", "--list")


def pushed_tree(bare: Path, branch: str = "gh-pages") -> dict[str, str]:
    """Every file on the pushed branch and its blob id."""
    out = git(bare, "ls-tree", "-r", branch)
    return {line.split("\t", 1)[1]: line.split()[2] for line in out.splitlines()}


def site_tree(root: Path) -> dict[str, str]:
    site = root / "site"
    return {p.relative_to(site).as_posix(): git(root, "hash-object", str(p))
            for p in site.rglob("*") if p.is_file()}


@pytest.mark.cli
def test_publish_after_a_committed_script_change_never_pushes_uncommitted_results(
        repo: tuple[Path, Path]) -> None:
    """The script is committed, so the check before the build passes; the build re-runs the
    project and leaves new results: publish refuses, pushes nothing, says what to commit.
    Once they are committed, it publishes them."""
    root, bare = repo
    script = root / "projects" / "no-keras" / "main.py"
    script.write_text(script.read_text() + "# changed\n")
    git(root, "commit", "-q", "-am", "change a script")
    refused = portfolio_cli("publish", cwd=root)
    assert refused.returncode == 2, refused.stderr
    assert "the build changed them (a project ran)" in refused.stderr
    assert "results/no-keras/run.json" in refused.stderr
    # the files the run wrote into its folder too (bars.svg): outputs to commit or ignore
    assert "projects/no-keras/bars.svg" in refused.stderr
    assert "git add projects results && git commit" in refused.stderr
    assert git(bare, "branch", "--list") == ""  # nothing was pushed
    git(root, "add", "results", "projects")
    git(root, "commit", "-q", "-m", "results")
    published = portfolio_cli("publish", cwd=root)
    assert published.returncode == 0, published.stderr
    assert git(root, "status", "--porcelain") == ""  # what was pushed is the commit's
    assert pushed_tree(bare) == site_tree(root)
    page = git(bare, "show", "gh-pages:projects/no-keras/index.html")
    assert "<html" in page


@pytest.mark.cli
def test_allow_stale_publishes_the_committed_results_without_training(
        repo: tuple[Path, Path]) -> None:
    root, bare = repo
    before = git(root, "rev-parse", "HEAD:results")
    script = root / "projects" / "no-keras" / "main.py"
    script.write_text(script.read_text() + "# changed\n")
    git(root, "commit", "-q", "-am", "change a script")
    result = portfolio_cli("publish", "--allow-stale", cwd=root)
    assert result.returncode == 0, result.stderr
    assert git(root, "status", "--porcelain") == ""  # nothing ran: results/ as committed
    assert git(root, "rev-parse", "HEAD:results") == before
    assert pushed_tree(bare) == site_tree(root)
    # ...and --allow-stale never lets uncommitted files through.
    (root / "mkdocs.yml").write_text((root / "mkdocs.yml").read_text() + "\n")
    refused = portfolio_cli("publish", "--allow-stale", cwd=root)
    assert refused.returncode == 2 and "mkdocs.yml" in refused.stderr


@pytest.mark.cli
def test_require_fresh_names_each_stale_never_run_or_failed_project(tiny: Path) -> None:
    assert portfolio_cli("build", "--keep-going", cwd=tiny).returncode == 0
    assert portfolio_cli("build", "--no-run", "--require-fresh", cwd=tiny).returncode == 1
    script = tiny / "projects" / "no-keras" / "main.py"
    script.write_text(script.read_text() + "# changed\n")
    shutil.rmtree(tiny / "results" / "tutorial")
    shutil.rmtree(tiny / "site")
    result = portfolio_cli("build", "--no-run", "--require-fresh", cwd=tiny)
    assert result.returncode == 1
    assert (tiny / "site" / "index.html").is_file()  # the site is still built
    message = result.stderr
    assert "--require-fresh" in message
    for named in ("failing (failed: last run", "no-keras (stale: main.py changed)",
                  "tutorial (never run)"):
        assert named in message, message
    assert portfolio_cli("build", "--no-run", cwd=tiny).returncode == 0  # only when asked


@pytest.mark.cli
def test_require_fresh_without_the_training_libraries(repo: tuple[Path, Path],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """CI has no TensorFlow: with --no-run, results are judged by the committed files, not
    by the versions of libraries the machine that trained had."""
    from portfolio import discover, plan
    from portfolio.domain import Workspace

    root, _ = repo
    assert portfolio_cli("build", "--no-run", "--require-fresh", cwd=root).returncode == 0
    ws = Workspace(root)
    absent = {**plan.library_versions(), "tensorflow": "absent", "keras": "absent",
              "python": "3.99.0"}
    monkeypatch.setattr(plan, "library_versions", lambda: dict(absent))
    for project in discover.discover(ws):
        assert plan.decide(ws, project).staleness == "stale"
        assert plan.decide(ws, project, versions=False).staleness == "fresh"


@pytest.mark.cli
def test_require_fresh_in_a_checkout_without_the_git_ignored_data(repo: tuple[Path, Path],
                                                                   tmp_path: Path) -> None:
    """A declared data file that git ignores never reaches CI's checkout: the results are
    judged there by what git holds, and a change to what git holds still counts."""
    root, bare = repo
    project = root / "projects" / "no-keras"
    (project / "big.csv").write_text("x,y\n1,2\n")
    (project / "raw").mkdir()
    (project / "raw" / "part-1.txt").write_text("1 2 3\n")
    (project / ".gitignore").write_text("*.csv\nraw/\n")
    meta = project / "project.yaml"
    meta.write_text(meta.read_text() + "data: [big.csv, raw]\n")
    assert portfolio_cli("build", cwd=root).returncode == 0  # trains with the data
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "declare big.csv")
    git(root, "push", "-q", "origin", "main")
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(checkout))
    assert not (checkout / "projects" / "no-keras" / "big.csv").exists()
    assert not (checkout / "projects" / "no-keras" / "raw").exists()  # an ignored folder
    result = portfolio_cli("build", "--no-run", "--require-fresh", cwd=checkout)
    assert result.returncode == 0, result.stderr
    script = checkout / "projects" / "no-keras" / "main.py"
    script.write_text(script.read_text() + "# changed\n")
    result = portfolio_cli("build", "--no-run", "--require-fresh", cwd=checkout)
    assert result.returncode == 1
    assert "no-keras (stale: main.py changed)" in result.stderr
    # Where the project trains, the data counts: removing it makes the project stale.
    (project / "big.csv").unlink()
    from portfolio import discover, plan
    from portfolio.domain import Workspace

    ws = Workspace(root)
    (found,) = [p for p in discover.discover(ws) if p.slug == "no-keras"]
    decision = plan.decide(ws, found)
    assert decision.staleness == "stale" and "big.csv removed" in decision.reasons


@pytest.mark.cli
def test_publish_no_build_refuses_a_site_older_than_the_files(repo: tuple[Path, Path]) -> None:
    root, bare = repo
    story = root / "projects" / "no-keras" / "README.md"
    story.write_text(story.read_text() + "\n## Results\n\nA committed new paragraph.\n")
    git(root, "commit", "-q", "-am", "edit the narrative, build nothing")
    result = portfolio_cli("publish", "--no-build", cwd=root)
    assert result.returncode == 2
    assert "was not built from the files as they are now" in result.stderr
    assert git(bare, "branch", "--list") == ""
    assert portfolio_cli("build", cwd=root).returncode == 0
    result = portfolio_cli("publish", "--no-build", cwd=root)
    assert result.returncode == 0, result.stderr
    page = git(bare, "show", "gh-pages:projects/no-keras/index.html")
    assert "A committed new paragraph." in page


@pytest.mark.cli
def test_publish_refuses_an_uncommitted_avatar_or_cv(repo: tuple[Path, Path]) -> None:
    """The profile's files are copied into the site: they must match a commit too."""
    root, bare = repo
    avatar = root / "profile" / "avatar.png"
    avatar.write_bytes(avatar.read_bytes() + b"\0")
    (root / "profile" / "cv.pdf").unlink()
    result = portfolio_cli("publish", cwd=root)
    assert result.returncode == 2
    assert "profile/avatar.png" in result.stderr and "profile/cv.pdf" in result.stderr
    assert git(bare, "branch", "--list") == ""


@pytest.mark.cli
def test_a_preview_that_cannot_be_drawn_is_a_warning(repo: tuple[Path, Path],
                                                     tmp_path: Path) -> None:
    root, _ = repo
    broken = tmp_path / "broken" / "matplotlib"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('matplotlib is broken here')\n")
    shutil.rmtree(root / ".build" / "previews")
    shutil.rmtree(root / "site")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(broken.parent), *filter(None, [os.environ.get("PYTHONPATH")])])}
    result = subprocess.run([sys.executable, "-m", "portfolio", "build", "--no-run"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=600,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "warning: the link-preview images were not drawn (ImportError: matplotlib is " \
           "broken here); the pages are built without them" in result.stderr
    assert (root / "site" / "index.html").is_file()
    assert not (root / "site" / "projects" / "tutorial" / "preview.png").exists()
    again = portfolio_cli("build", "--no-run", cwd=root)  # matplotlib back: drawn now
    assert again.returncode == 0 and "warning" not in again.stderr
    assert (root / "site" / "projects" / "tutorial" / "preview.png").is_file()


@pytest.mark.parametrize(("remote", "url"), [
    ("git@github.com:Ada/portfolio.git", "https://ada.github.io/portfolio/"),
    ("https://github.com/Ada/portfolio", "https://ada.github.io/portfolio/"),
    ("ssh://git@github.com/Ada/ada.github.io.git", "https://ada.github.io/"),
    ("/srv/git/portfolio.git", None),
])
def test_public_url_from_the_remote(tmp_path: Path, remote: str, url: str | None) -> None:
    assert publish.public_url(remote, tmp_path) == url


def test_public_url_from_a_cname(tmp_path: Path) -> None:
    (tmp_path / "CNAME").write_text("portfolio.example.com\n")
    assert publish.public_url("git@github.com:a/b.git", tmp_path) == \
        "https://portfolio.example.com/"


def test_size_warnings(tmp_path: Path) -> None:
    (tmp_path / "big.keras").write_bytes(b"\0" * 2048)
    (tmp_path / "small.html").write_bytes(b"\0" * 10)
    warnings = publish.size_warnings(tmp_path, file_limit=1024, site_limit=1500)
    assert warnings[0].startswith("big.keras is 0 MB: GitHub refuses files over 0 MB")
    assert "publish_model: false" in warnings[0]
    assert warnings[1].startswith("the site is 0.00 GB")
    assert publish.size_warnings(tmp_path) == []


@pytest.mark.cli
def test_publish_model_false_keeps_the_model_off_the_site(tiny: Path) -> None:
    meta = tiny / "projects" / "tutorial" / "project.yaml"
    meta.write_text("title: T\npublish_model: false\nmodel_url: https://example.com/m.keras\n")
    assert portfolio_cli("build", "tutorial", cwd=tiny).returncode == 0
    page = html.unescape((tiny / "site" / "projects" / "tutorial" / "index.html").read_text())
    assert not (tiny / "site" / "projects" / "tutorial" / "model.keras").exists()
    assert 'href="https://example.com/m.keras"' in page and " download>" not in page


@pytest.mark.cli
def test_every_page_carries_link_preview_tags_with_an_existing_image(tiny: Path) -> None:
    assert portfolio_cli("build", "--keep-going", cwd=tiny).returncode == 0
    site = tiny / "site"
    site_url = yaml.safe_load((tiny / "mkdocs.yml").read_text())["site_url"]
    pages = [p for p in site.rglob("index.html") if "search" not in p.parts]
    assert len(pages) >= 5
    for page in pages:
        text = page.read_text()
        tags = dict(re.findall(r'<meta (?:property|name)="((?:og|twitter):[a-z:]+)" '
                               r'content="([^"]*)"', text))
        for key in ("og:title", "og:description", "og:image", "og:url", "twitter:card"):
            assert tags.get(key), (page, key)
        assert tags["og:image"].startswith(site_url)
        image = site / tags["og:image"][len(site_url):]
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", (page, image)
        assert 'rel="canonical"' in text
    from PIL import Image

    with Image.open(site / "projects" / "tutorial" / "preview.png") as preview:
        assert preview.size == (1200, 630)
    assert (site / "sitemap.xml").is_file()
    assert f"Sitemap: {site_url}sitemap.xml" in (site / "robots.txt").read_text()


@pytest.mark.cli
def test_shipped_workflow_builds_from_results_and_deploys_with_pages_actions(
        tiny: Path) -> None:
    shipped = (REPO / ".github" / "workflows" / "publish.yml").read_text()
    written = portfolio_cli("init-ci", cwd=tiny)
    assert written.returncode == 0
    # A portfolio holds no package to install: the workflow installs the tool from where
    # this one came from (here: an editable checkout, so a wheel of it that init-ci wrote).
    tool = toolsource.installed()
    spec = toolsource.install_spec(tool.direct_url, tool.version) \
        or f"{toolsource.TOOL_DIR}/portfolio-{tool.version}-py3-none-any.whl"
    python = f'python-version: "{sys.version_info.major}.{sys.version_info.minor}"'
    assert (tiny / ".github" / "workflows" / "publish.yml").read_text() == shipped.replace(
        scaffold.SOURCE_INSTALL, f'python -m pip install -c constraints.txt "{spec}"').replace(
        scaffold.SHIPPED_PYTHON, python)  # the Python constraints.txt was pinned with
    # ... with the versions installed here, which it pins.
    from importlib import metadata

    pins = dict(line.split("==") for line in (tiny / "constraints.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    assert pins["mkdocs-material"] == metadata.version("mkdocs-material")
    assert pins["matplotlib"] == metadata.version("matplotlib")
    assert pins["pyyaml"] == metadata.version("pyyaml")  # a dependency's own dependency
    assert not {"keras", "tensorflow-cpu", "scikit-learn", "portfolio"} & set(pins)
    assert spec.startswith("portfolio") or (tiny / spec).is_file()
    assert f"installs portfolio from {spec}" in written.stdout
    assert "OWNER" not in (tiny / ".github" / "workflows" / "publish.yml").read_text()
    workflow = yaml.safe_load(shipped)
    assert workflow[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads `on` as True
    assert workflow["permissions"]["pages"] == "write"
    assert workflow["permissions"]["id-token"] == "write"
    build, deploy = workflow["jobs"]["build"]["steps"], workflow["jobs"]["deploy"]["steps"]
    uses = [step.get("uses", "") for step in build + deploy]
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    commands = "\n".join(step.get("run", "") for step in build)
    assert "portfolio build --no-run --require-fresh" in commands
    assert "tensorflow" not in commands.lower()
    upload = next(s for s in build if s.get("uses", "").startswith("actions/upload-pages"))
    assert upload["with"]["path"] == "site"
    assert portfolio_cli("init-ci", cwd=tiny).returncode == 2  # never overwrites silently
    if shutil.which("actionlint"):  # not installable here: its PyPI build downloads a binary
        subprocess.run(["actionlint", str(REPO / ".github" / "workflows" / "publish.yml")],
                       check=True)


def _workflow_build_steps() -> tuple[list[list[str]], list[str]]:
    """The build job's `run:` lines: the install commands translated for uv (offline, into
    a given venv), and the build command. A line that is neither fails the test."""
    import shlex

    workflow = yaml.safe_load((REPO / "generator" / "portfolio" / "publish.yml").read_text())
    installs, builds = [], []
    for step in workflow["jobs"]["build"]["steps"]:
        for line in step.get("run", "").splitlines():
            words = shlex.split(line)
            if not words:
                continue
            if words[:4] == ["python", "-m", "pip", "install"]:
                installs.append(words[4:])
            elif words[0] == "portfolio":
                builds.append(words)
            else:
                pytest.fail(f"a workflow step this test cannot run offline: {line!r}")
    assert installs and len(builds) == 1, (installs, builds)
    return installs, builds[0]


@pytest.mark.training
def test_the_workflow_installs_offline_and_builds_the_example_portfolio(
        tmp_path: Path) -> None:
    """The workflow's own install commands, run offline (uv, from the cache `make` filled)
    into a fresh venv, then its build command in a copy of what its checkout holds."""
    import time

    uv = REPO / ".venv" / "bin" / "uv"
    if not uv.exists():
        pytest.skip("no uv in .venv (make installs it)")
    installs, build = _workflow_build_steps()
    checkout = tmp_path / "checkout"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, check=True,
                             capture_output=True).stdout.decode().split("\0")
    for name in filter(None, tracked):  # what actions/checkout would have
        if (REPO / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, checkout / name)
    # setup-python's interpreter comes with pip and, on 3.11, setuptools: as a venv's does.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items()
           if k != "PYTHONPATH" and not k.startswith("VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    started = time.monotonic()
    for args in installs:
        done = subprocess.run([str(uv), "pip", "install", "--offline", "--python",
                               str(venv / "bin" / "python"), *args], cwd=checkout, env=env,
                              capture_output=True, text=True, timeout=1800, check=False)
        assert done.returncode == 0, f"uv pip install --offline {args}:\n{done.stderr}"
    print(f"workflow install: {time.monotonic() - started:.1f} s")
    result = subprocess.run([str(venv / "bin" / build[0]), *build[1:]], cwd=checkout,
                            env=env, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (checkout / "site" / "index.html").is_file()
