"""portfolio as an installed tool: a wheel that carries its templates, a core install
without the training libraries, and ``portfolio init``.

Nothing here touches the network: the wheel is built and installed with ``uv --offline``
from uv's cache, which ``make`` filled when it installed the test environment.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, UV, clean_env, copy_sources, portfolio_cli, run_workflow

TRAINING = {"keras", "tensorflow", "sklearn", "pydot", "statsmodels", "onnx", "onnxruntime",
            "tf2onnx"}
INIT_FILES = ["mkdocs.yml", "README.md", ".gitignore", ".github/workflows/publish.yml",
              "constraints.txt", "projects/.gitkeep", "results/.gitkeep"]
GIT_ENV = {"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com"}


def _core_venv(venv: Path, requirement: Path) -> Path:
    """A fresh venv outside the repository with portfolio's core installed from
    ``requirement`` (a wheel, or a folder of sources: not editable), no train extra, so a
    build that needed TensorFlow would fail there. Its dependencies come from uv's cache
    (--offline, pinned by constraints.txt), which `make` filled: a core dependency
    missing there is one the tests' own install did not bring, and fails."""
    env = clean_env()
    subprocess.run([str(UV), "venv", "-q", "--python", sys.executable, str(venv)], env=env,
                   check=True, timeout=120)
    core = subprocess.run([str(UV), "pip", "install", "-q", "--offline", "--python",
                           str(venv / "bin" / "python"), "-c", str(REPO / "constraints.txt"),
                           str(requirement)], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert core.returncode == 0, core.stderr
    return venv


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The core installed from the wheel."""
    return _core_venv(tmp_path_factory.mktemp("venv"), wheel)


@pytest.fixture(scope="module")
def folder_installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The core installed from a folder of the sources, as ``pip install ./portfolio``
    installs a clone."""
    clone = copy_sources(tmp_path_factory.mktemp("clone") / "portfolio")
    return _core_venv(tmp_path_factory.mktemp("venv"), clone)


@pytest.mark.venv
def test_the_wheel_carries_the_templates_the_project_templates_and_the_workflow(
        wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"portfolio/site_templates/{p.relative_to(REPO / 'site_templates').as_posix()}"
               for p in (REPO / "site_templates").rglob("*") if p.is_file()}
    assert {"portfolio/site_templates/home.md.j2", "portfolio/site_templates/project.md.j2",
            "portfolio/site_templates/assets/portfolio.css",
            "portfolio/site_templates/overrides/main.html"} <= shipped
    assert shipped <= names, shipped - names
    assert {"portfolio/publish.yml", "portfolio/run.schema.json",
            "portfolio/site_templates/assets/demo.js"} <= names
    from portfolio import demopage  # the live demo's runtime, which no install may fetch

    assert {f"portfolio/web/ort/{name}" for name in demopage.RUNTIME_FILES} <= names
    templates = REPO / "generator" / "portfolio" / "project_templates"
    project_templates = {f"portfolio/project_templates/{p.relative_to(templates).as_posix()}"
                         for p in templates.rglob("*") if p.is_file()
                         and "__pycache__" not in p.parts}
    assert project_templates and project_templates <= names, project_templates - names


@pytest.mark.venv
def test_the_wheel_puts_the_training_libraries_in_the_train_extra(wheel: Path) -> None:
    metadata = zipfile.ZipFile(wheel).read("portfolio-0.1.0.dist-info/METADATA").decode()
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines()
                if line.startswith("Requires-Dist:")]
    core = [r for r in requires if "extra ==" not in r]
    train = [r for r in requires if "extra == \"train\"" in r]
    core_names = {_name(r) for r in core}
    assert {"matplotlib", "pathspec", "mkdocs", "mkdocs-material", "jinja2", "nh3", "pyyaml",
            "pydantic", "markdown-it-py", "rich", "click"} <= core_names
    assert not core_names & {"keras", "tensorflow", "tensorflow-cpu", "scikit-learn", "pydot"}
    assert {"keras", "tensorflow-cpu", "tensorflow", "scikit-learn", "pydot"} <= {
        _name(r) for r in train}
    assert 'portfolio[train]; extra == "examples"' in requires
    # The Dask executor is an extra of its own: the core never needs it.
    assert not core_names & {"dask", "distributed"}
    assert {_name(r) for r in requires if 'extra == "dask"' in r} == {"distributed"}
    assert 'portfolio[dask,mlflow,train,zensical]; extra == "test"' in requires


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return match.group()


def test_the_parent_process_imports_no_training_library() -> None:
    """Only the child (capture/, child.py) may import what the train extra installs; the
    scripts of ``portfolio new``'s templates are users' scripts, run in a child too."""
    package = REPO / "generator" / "portfolio"
    offenders = []
    for path in package.rglob("*.py"):
        if path.parent.name == "capture" or path.name == "child.py" \
                or "project_templates" in path.relative_to(package).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                       [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {m}" for m in modules if m.split(".")[0] in TRAINING]
    assert offenders == []


@pytest.mark.venv
def test_an_installed_wheel_inits_and_builds_an_empty_portfolio_outside_the_repository(
        installed: Path, tmp_path: Path) -> None:
    venv, env = installed, clean_env()
    portfolio = venv / "bin" / "portfolio"
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import portfolio; print(portfolio.__file__)"], env=env,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(venv)), where
    # The core alone renders: no training library is even installed.
    probe = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import importlib.util as u; print([m for m in "
                            "('keras', 'tensorflow', 'sklearn', 'onnxruntime', 'tf2onnx') "
                            "if u.find_spec(m)])"],
                           env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "[]"

    init = subprocess.run([str(portfolio), "init", "my-portfolio"], cwd=tmp_path, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=120, check=False)
    assert init.returncode == 0, init.stderr
    root = tmp_path / "my-portfolio"
    assert "portfolio new first --template mlp" in init.stdout
    assert all((root / name).is_file() for name in INIT_FILES)
    # Installed from a wheel file: the workflow installs a copy of it, never a placeholder.
    assert (root / ".portfolio" / "portfolio-0.1.0-py3-none-any.whl").is_file()
    assert "installs portfolio from .portfolio/portfolio-0.1.0-py3-none-any.whl" in init.stdout
    everywhere = tmp_path / "global-ignore"  # a user's global ignore file may leave wheels out
    everywhere.write_text("*.whl\n.portfolio/\n")
    ignored = subprocess.run(["git", "-c", f"core.excludesFile={everywhere}", "check-ignore",
                              ".portfolio/portfolio-0.1.0-py3-none-any.whl"], cwd=root,
                             capture_output=True, text=True, check=False)
    assert ignored.returncode == 1, ignored.stdout  # the .gitignore init wrote keeps it in
    assert (root / ".git").is_dir()
    assert not (root / "site_templates").exists()

    build = subprocess.run([str(portfolio), "build"], cwd=root, env=env, capture_output=True,
                           text=True, timeout=300, check=False)
    assert build.returncode == 0, build.stderr
    assert "Traceback" not in build.stderr
    home = (root / "site" / "index.html").read_text()
    assert "No projects yet" in home
    assert "portfolio new first --template mlp" in home
    assert (root / "site" / "assets" / "portfolio.css").is_file()

    again = subprocess.run([str(portfolio), "build"], cwd=root, env=env, capture_output=True,
                           text=True, timeout=300, check=False)
    assert again.returncode == 0 and "site unchanged" in again.stdout, again.stderr


@pytest.mark.cli
def test_init_refuses_to_overwrite_and_names_every_existing_file(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text("site_name: mine\n")
    (tmp_path / "README.md").write_text("mine\n")
    result = portfolio_cli("init", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "mkdocs.yml" in result.stderr and "README.md" in result.stderr
    assert "--force" in result.stderr
    assert (tmp_path / "mkdocs.yml").read_text() == "site_name: mine\n"
    assert not (tmp_path / ".gitignore").exists()  # nothing written at all


@pytest.mark.venv
def test_init_refuses_to_replace_a_wheel_of_the_tool_without_force(tmp_path: Path) -> None:
    wheel = tmp_path / ".portfolio" / "portfolio-0.0.1-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"an earlier version's wheel")
    result = portfolio_cli("init", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert ".portfolio/portfolio-0.0.1-py3-none-any.whl" in result.stderr, result.stderr
    assert wheel.read_bytes() == b"an earlier version's wheel"


@pytest.mark.cli
def test_init_force_overwrites_the_existing_files(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text("site_name: mine\n")
    result = portfolio_cli("init", "--force", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "extra:\n  portfolio:\n    name: Your Name" in (tmp_path / "mkdocs.yml").read_text()
    assert all((tmp_path / name).is_file() for name in INIT_FILES)


@pytest.mark.cli
def test_init_in_a_git_repository_does_not_git_init_again(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    result = portfolio_cli("init", "portfolio", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "git init" not in result.stdout
    assert not (tmp_path / "portfolio" / ".git").exists()
    assert (tmp_path / "portfolio" / "mkdocs.yml").is_file()


@pytest.mark.cli
def test_init_writes_the_workflow_that_init_ci_writes(tmp_path: Path) -> None:
    assert portfolio_cli("init", "a", cwd=tmp_path).returncode == 0
    (tmp_path / "b").mkdir()
    assert portfolio_cli("init-ci", cwd=tmp_path / "b").returncode == 0
    workflow = ".github/workflows/publish.yml"
    assert (tmp_path / "a" / workflow).read_text() == (tmp_path / "b" / workflow).read_text()


@pytest.mark.cli
def test_a_portfolios_own_templates_replace_the_packaged_ones_by_name(tmp_path: Path) -> None:
    assert portfolio_cli("init", cwd=tmp_path).returncode == 0
    own = tmp_path / "site_templates"
    (own / "overrides").mkdir(parents=True)
    (own / "assets").mkdir()
    (own / "assets" / "portfolio.css").write_text(".mine { color: red }\n")
    (own / "overrides" / "main.html").write_text(
        '{% extends "base.html" %}\n{% block extrahead %}{{ super() }}'
        '<meta name="made-by" content="me">{% endblock %}\n')
    result = portfolio_cli("build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    home = (tmp_path / "site" / "index.html").read_text()
    assert '<meta name="made-by" content="me">' in home
    assert "No projects yet" in home  # home.md.j2 still the packaged one
    assert (tmp_path / "site" / "assets" / "portfolio.css").read_text() == ".mine { color: red }\n"

    (own / "overrides" / "main.html").unlink()  # back to the packaged override: rebuilt
    (own / "overrides" / "extra.html").write_text('{% extends "base.html" %}\n')
    result = portfolio_cli("build", cwd=tmp_path)
    assert result.returncode == 0 and "site built" in result.stdout, result.stderr
    assert "made-by" not in (tmp_path / "site" / "index.html").read_text()


def test_the_workflow_installs_the_tool_from_the_index_a_public_git_url_or_a_wheel() -> None:
    """PEP 610's direct_url.json says where the running tool came from: no file, the
    package index (this version); a git URL and commit a runner can fetch; anything only
    this machine holds (a folder, a wheel file, a repository on this disk): None, and
    init writes a wheel of the tool instead."""
    from portfolio.toolsource import install_spec

    assert install_spec(None, "0.1.0") == "portfolio==0.1.0"

    def git(url: str) -> str | None:
        return install_spec({"url": url, "vcs_info": {"vcs": "git", "commit_id": "0123abc",
                                                      "requested_revision": "main"}}, "0.1.0")

    assert git("https://github.com/ada/portfolio") == \
        "portfolio @ git+https://github.com/ada/portfolio@0123abc"
    # GitHub's ssh becomes https (a runner has no key); a credential never reaches the
    # committed workflow; what a runner cannot reach is not a place to install from.
    assert git("ssh://git@github.com/ada/portfolio.git") == \
        "portfolio @ git+https://github.com/ada/portfolio.git@0123abc"
    assert git("https://ada:s3cret@example.com:8443/ada/portfolio.git") == \
        "portfolio @ git+https://example.com:8443/ada/portfolio.git@0123abc"
    assert git("file:///home/ada/portfolio") is None
    assert git("ssh://git@example.com/ada/portfolio.git") is None
    assert install_spec({"url": "https://github.com/ada/portfolio",
                         "vcs_info": {"vcs": "hg", "commit_id": "1"}}, "0.1.0") is None
    assert install_spec({"url": "file:///home/ada/portfolio", "dir_info": {}}, "0.1.0") is None
    assert install_spec({"url": "file:///home/ada/portfolio",
                         "dir_info": {"editable": True}}, "0.1.0") is None
    assert install_spec({"url": "file:///wheels/portfolio-0.1.0-py3-none-any.whl",
                         "archive_info": {}}, "0.1.0") is None


def _wheel_files(path: Path) -> dict[str, bytes]:
    """A wheel's files and their bytes, without its RECORD (hashes of the same files)."""
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist() if not n.endswith("/RECORD")}


@pytest.mark.venv
@pytest.mark.parametrize("tool", ["installed", "folder_installed"])
def test_the_workflow_init_writes_installs_the_tool_it_ran_offline_and_builds(
        tool: str, wheel: Path, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """A tool installed from a wheel file, or from a folder: init puts a wheel of it in
    .portfolio/ (what the tool's own wheel holds), the .gitignore it wrote keeps it in, and
    the workflow's own lines, pip's run by uv offline, install it and build the pushed
    portfolio."""
    venv: Path = request.getfixturevalue(tool)
    root, env = tmp_path / "mine", {**clean_env(), **GIT_ENV}
    init = subprocess.run([str(venv / "bin" / "portfolio"), "init", str(root)], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=300, check=False)
    assert init.returncode == 0, init.stderr
    shipped = root / ".portfolio" / wheel.name
    if tool == "installed":  # the same files as the wheel it was installed from
        assert _wheel_files(shipped) == _wheel_files(wheel)
    else:  # built from another copy of the same sources
        assert _wheel_files(shipped).keys() == _wheel_files(wheel).keys()
    for folder in ("projects", "results"):  # a project trained and committed
        shutil.copytree(REPO / folder / "breast-cancer-mlp", root / folder / "breast-cancer-mlp")
    subprocess.run(["git", "add", "-A"], cwd=root, env=env, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "portfolio"], cwd=root, env=env, check=True)
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", str(root), str(checkout)], env=env, check=True)

    installs, build = run_workflow(checkout, tmp_path / "ci")
    assert installs == [["-c", "constraints.txt", f".portfolio/{wheel.name}"]]
    assert build == ["portfolio", "build", "--no-run", "--require-fresh"]
    assert (checkout / "site" / "projects" / "breast-cancer-mlp" / "index.html").is_file()


@pytest.mark.cli
def test_init_writes_the_owners_name_to_the_title_and_the_profile(tmp_path: Path) -> None:
    result = portfolio_cli("init", "mine", "--name", "Zoë O'Brien: yes", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load((tmp_path / "mine" / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["site_name"] == "Zoë O'Brien: yes"
    assert config["extra"]["portfolio"]["name"] == "Zoë O'Brien: yes"
    assert "fill in your profile" in result.stdout
    result = portfolio_cli("init", "other", "--name", "Ada\nLovelace", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: --name: 'Ada\\nLovelace' holds a line break or "
                                     "a control character; give your name on one line")
    assert not (tmp_path / "other").exists()


@pytest.mark.cli
def test_init_asks_for_the_name_in_a_terminal_and_never_waits_on_a_pipe(
        tmp_path: Path) -> None:
    import pty

    command = [sys.executable, "-m", "portfolio", "init"]
    # stdin a pipe nobody writes to or closes: a question would wait for ever.
    quiet = subprocess.Popen([*command, "piped"], cwd=tmp_path, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        quiet.wait(timeout=120)
    finally:
        if quiet.poll() is None:
            quiet.kill()
        _, err = quiet.communicate()
    assert quiet.returncode == 0, err
    config = yaml.safe_load((tmp_path / "piped" / "mkdocs.yml").read_text())
    assert config["site_name"] == "piped"
    assert config["extra"]["portfolio"]["name"] == "Your Name"

    primary, secondary = pty.openpty()  # a terminal: init asks, and takes the answer
    os.write(primary, b"Ada Lovelace\n")
    asked = subprocess.run([*command, "typed"], cwd=tmp_path, stdin=secondary,
                           capture_output=True, text=True, timeout=120, check=False)
    os.close(secondary)
    os.close(primary)
    assert asked.returncode == 0, asked.stderr
    assert "Your name" in asked.stdout
    config = yaml.safe_load((tmp_path / "typed" / "mkdocs.yml").read_text())
    assert config["site_name"] == "Ada Lovelace"
    assert config["extra"]["portfolio"]["name"] == "Ada Lovelace"
