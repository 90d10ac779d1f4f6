"""Shared fixtures: tiny real portfolios copied into a temporary folder.

``tests/fixtures/tiny`` is a whole portfolio (a tutorial-style Keras script, a
crashing script, a script without Keras). ``built_tiny`` builds it once per session
through the real CLI, in a child process, and many tests read what it produced.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.tiers import unmarked_tests_stay_in_process  # noqa: F401 (autouse)

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The CLI's two ways of starting a run, and how run.json names each.
RUNNERS = {"--warm": "forked from the warm worker", "--no-warm": "fresh interpreter"}


def copy_portfolio(name: str, target: Path) -> Path:
    """A fixture portfolio plus the repository's own site templates, ready to build."""
    shutil.copytree(FIXTURES / name, target)
    shutil.copytree(REPO / "site_templates", target / "site_templates")
    return target


def example_portfolio(root: Path, extra_yaml: str = "") -> Path:
    """The repository's example portfolio copied to ``root`` (``extra_yaml`` added to each
    project.yaml) and built from its committed results, nothing trained; returns ``root``."""
    root.mkdir(parents=True)
    for name in ("projects", "results", "site_templates"):
        shutil.copytree(REPO / name, root / name)
    shutil.copyfile(REPO / "mkdocs.yml", root / "mkdocs.yml")
    if extra_yaml:
        for meta in (root / "projects").glob("*/project.yaml"):
            meta.write_text(meta.read_text() + extra_yaml)
    result = portfolio_cli("build", "--no-run", cwd=root)
    assert result.returncode == 0, result.stderr
    return root


def scripts_portfolio(root: Path, scripts: dict[str, str],
                      prepare: dict[str, object] | None = None) -> subprocess.CompletedProcess:
    """The tiny portfolio's profile with one project per script (slug: script) instead of
    its own projects, built through the real CLI; ``prepare[slug](folder)`` adds a
    project's data first. Fails the test when the build fails."""
    copy_portfolio("tiny", root)
    shutil.rmtree(root / "projects")
    for slug, script in scripts.items():
        folder = make_project(root, slug, script)
        if prepare and slug in prepare:
            prepare[slug](folder)  # type: ignore[operator]
    result = portfolio_cli("build", "-j", "2", cwd=root, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def portfolio_cli(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real ``portfolio`` command the way a user would, in a child process (from a
    script: no terminal to answer a question on, even when pytest runs in one)."""
    return subprocess.run([sys.executable, "-m", "portfolio", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)


@dataclass(frozen=True)
class Said:
    """What the command said and its exit status, as ``subprocess.run`` reports them."""

    returncode: int
    stdout: str
    stderr: str


def portfolio_here(*args: str, cwd: Path) -> Said:
    """The ``portfolio`` command in this process, through click's CliRunner, with its
    errors turned into messages and exit codes as the installed command turns them: for
    commands that start no child process (``check``, ``init``, ``new``, ``status``), at
    the cost of a function call instead of an interpreter and its imports."""
    import click
    from click.testing import CliRunner
    from portfolio import cli

    @click.command(context_settings={"ignore_unknown_options": True,
                                     "help_option_names": []})
    @click.argument("words", nargs=-1, type=click.UNPROCESSED)
    def command(words: tuple[str, ...]) -> None:
        sys.exit(cli.run_command_line(list(words)))

    with contextlib.chdir(cwd):
        result = CliRunner().invoke(command, list(args), catch_exceptions=False)
    return Said(result.exit_code, result.stdout, result.stderr)


def make_project(root: Path, slug: str, script: str, extra: str = "") -> Path:
    """A project folder with a one-line project.yaml (plus ``extra`` YAML) and ``train.py``."""
    folder = root / "projects" / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "project.yaml").write_text(f"title: {slug}\n{extra}")
    (folder / "train.py").write_text(script)
    return folder


def run_child(script: str, folder: Path, name: str = "train.py", seed: int = 3,
              expect_ok: bool = True) -> Path:
    """Run ``script`` under ``python -m portfolio.child`` in ``folder``; return the out folder."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder.parent / f"{folder.name}-out"
    out.mkdir()
    (folder / name).write_text(script)
    env = {**os.environ, "PORTFOLIO_OUT": str(out), "PORTFOLIO_SEED": str(seed)}
    result = subprocess.run([sys.executable, "-m", "portfolio.child", name], cwd=folder, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    (out / "log.txt").write_text(result.stdout + result.stderr)
    if expect_ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return out


@contextlib.contextmanager
def served(folder: Path) -> Iterator[str]:
    """A built site served on 127.0.0.1, for the browser tests: yields its base URL."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # no line per request in the output
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def yaml_problems(tmp_path: Path, content: str | bytes) -> list[str]:
    """The located problems ``schema.parse`` finds in a project.yaml holding ``content``."""
    from portfolio import schema

    path = tmp_path / "project.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    meta, problems = schema.parse(path)
    assert meta is None
    return [str(p).replace(str(path), "project.yaml") for p in problems]


def run_record(out: Path) -> dict:
    """The record a child wrote; every test that reads one also checks that capture wrote
    nothing the typed record leaves out (``portfolio.record`` models every key)."""
    record = json.loads((out / "run.json").read_text())
    lost = [w for w in record.get("capture_warnings", []) if "run record:" in w]
    assert not lost, lost
    return record


@dataclass
class Built:
    root: Path
    result: subprocess.CompletedProcess

    @property
    def site(self) -> Path:
        return self.root / "site"

    def results(self, slug: str) -> Path:
        return self.root / "results" / slug

    def page(self, slug: str) -> str:
        return (self.site / "projects" / slug / "index.html").read_text(encoding="utf-8")


UV = Path(sys.executable).parent / "uv"  # make installs it into .venv


def clean_env() -> dict[str, str]:
    """The environment of a user's shell: no PYTHONPATH pointing at this checkout and no
    active virtual environment, so only what a fresh venv installed is importable."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def copy_sources(src: Path) -> Path:
    """What a build of the package reads, copied from this checkout to ``src`` (a build
    leaves build/ and *.egg-info behind, never in the repository); returns ``src``."""
    src.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy2(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "node_modules")
    for name in ("generator", "site_templates"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    return src


def uv_cache() -> str:
    """uv's cache, which `make` filled: what an offline install in a test installs from."""
    return subprocess.run([str(UV), "cache", "dir"], env=clean_env(), capture_output=True,
                          text=True, check=True).stdout.strip()


def run_workflow(checkout: Path, venv: Path) -> tuple[list[list[str]], list[str]]:
    """The build job of ``checkout``'s publish workflow, as a runner would run it, offline:
    setup-python's interpreter is a fresh venv (pip and, on 3.11, setuptools, as it has);
    each ``python -m pip install`` line runs as ``uv pip install --offline`` with the same
    arguments, in ``checkout``; then the ``portfolio`` command, which must succeed. A line
    it cannot run fails the test. Returns the install arguments and the build command."""
    import shlex

    import yaml

    workflow = yaml.safe_load((checkout / ".github" / "workflows" / "publish.yml").read_text())
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {**clean_env(), "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    installs, builds = [], []
    for step in workflow["jobs"]["build"]["steps"]:
        for line in step.get("run", "").splitlines():
            words = shlex.split(line)
            if words[:4] == ["python", "-m", "pip", "install"]:
                installs.append(words[4:])
                done = subprocess.run([str(UV), "pip", "install", "-q", "--offline",
                                       "--python", str(venv / "bin" / "python"), *words[4:]],
                                      cwd=checkout, env=env, capture_output=True, text=True,
                                      timeout=900, check=False)
                assert done.returncode == 0, f"{line}:\n{done.stderr}"
            elif words and words[0] == "portfolio":
                builds.append(words)
            elif words:
                pytest.fail(f"a workflow step this test cannot run offline: {line!r}")
    assert len(builds) == 1, builds
    built = subprocess.run(builds[0], cwd=checkout, env=env, capture_output=True, text=True,
                           timeout=900, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    return installs, builds[0]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the sources. Build isolation fetches setuptools from
    uv's cache (--offline): the test venv's own setuptools may be older than pyproject
    requires."""
    src = copy_sources(tmp_path_factory.mktemp("src"))
    dist = tmp_path_factory.mktemp("dist")
    result = subprocess.run([str(UV), "build", "--wheel", "--offline", "-q", "-o", str(dist),
                             str(src)], capture_output=True, text=True, env=clean_env(),
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    (built,) = dist.glob("portfolio-*.whl")
    return built


# Sizes of thread pools as the shell that started the tests set them. Dask's LocalCluster
# sets OMP_NUM_THREADS=1 (and its kin) in the process that starts it, this one; every later
# build would then pass that on, as a user's own setting, to its children.
_POOL_SIZES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "MALLOC_TRIM_THRESHOLD_")
_SHELLS_POOL_SIZES = {name: os.environ.get(name) for name in _POOL_SIZES}


@pytest.fixture(autouse=True)
def pool_sizes_as_the_shell_set_them() -> Iterator[None]:
    """What a test (or a library it started in-process) set of them is undone after it."""
    yield
    for name, value in _SHELLS_POOL_SIZES.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session", autouse=True)
def warm_workers() -> Iterator[Path]:
    """Every build of the session shares one private folder of warm workers (its children
    inherit the variable), and none outlives the session."""
    folder = Path(tempfile.mkdtemp(prefix="pw-"))  # short: a socket path has 108 bytes
    saved = {k: os.environ.get(k) for k in ("PORTFOLIO_RUNTIME_DIR", "PORTFOLIO_WARM_IDLE")}
    os.environ.update(PORTFOLIO_RUNTIME_DIR=str(folder), PORTFOLIO_WARM_IDLE="120")
    yield folder
    for info in folder.glob("warm-*.json"):
        with contextlib.suppress(OSError, ValueError, ProcessLookupError):
            os.kill(json.loads(info.read_text())["pid"], signal.SIGKILL)
    shutil.rmtree(folder, ignore_errors=True)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def built_tiny(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = copy_portfolio("tiny", tmp_path_factory.mktemp("built") / "tiny")
    result = portfolio_cli("build", "--keep-going", "-j", "2", cwd=root)
    assert result.returncode == 0, result.stderr
    return Built(root, result)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A fresh, unbuilt copy of the tiny portfolio."""
    return copy_portfolio("tiny", tmp_path / "tiny")
