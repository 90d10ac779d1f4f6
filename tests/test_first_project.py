"""The README's "Your first project", run as a new user would: every command and every file
of that section, in order, in one shell, in a home folder of its own that holds a copy of
this repository's sources (``portfolio/``, what a clone holds), outside the repository.
Then the GitHub Actions workflow that ``portfolio init`` wrote and the push carried: its
install lines run offline into a fresh venv, and its build command in a clone of what was
pushed.

Every line runs as printed but ``pip install``, since nothing here may reach the
network: it is uv's, from its cache, pinned by constraints.txt. The GitHub repository
the section names is a local bare one, to git in the scratch home (``url.insteadOf``),
so the ``git remote add`` line runs as printed too. The one file a reader brings, the
wine CSV, is written by a command the section shows.
"""

from __future__ import annotations

import html
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.conftest import (
    REPO,
    UV,
    clean_env,
    copy_portfolio,
    copy_sources,
    make_project,
    portfolio_cli,
    run_workflow,
    uv_cache,
)

SECTION = "## Your first project"
GIT_ENV = {"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com"}


@dataclass(frozen=True)
class Step:
    command: str | None = None  # a line typed at the prompt ($ ...)
    path: str | None = None  # or a file to write (a fence with title="path")
    text: str = ""


def readme_steps() -> list[Step]:
    """The section's console commands and titled files, in the order a reader meets them.
    A fence that is neither fails: the section must hold nothing this test skips."""
    tokens = MarkdownIt().parse((REPO / "README.md").read_text(encoding="utf-8"))
    inside, steps = False, []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":  # a fence's "## " is not one
            inside = f"## {tokens[index + 1].content}" == SECTION
        if not inside or token.type != "fence":
            continue
        language, _, attributes = token.info.partition(" ")
        title = re.search(r'title="([^"]+)"', attributes)
        if language == "console":
            lines = [line for line in token.content.splitlines() if line.strip()]
            assert all(line.startswith("$ ") for line in lines), token.content
            steps += [Step(command=line[2:]) for line in lines]
        elif title:
            steps.append(Step(path=title.group(1), text=token.content))
        else:
            pytest.fail(f"a block in '{SECTION}' that is neither a command nor a file: "
                        f"{token.info!r}")
    return steps


@pytest.mark.venv
def test_the_section_holds_the_whole_story() -> None:
    steps = readme_steps()
    commands = [s.command for s in steps if s.command]
    assert commands[:3] == ["python3 -m venv ~/.venvs/portfolio",
                            ". ~/.venvs/portfolio/bin/activate",
                            'pip install "./portfolio[train]"']
    for expected in ("portfolio init my-portfolio", "portfolio new first --template cnn",
                     "portfolio build", "git push -u origin main"):
        assert expected in commands, expected
    # The data a reader brings is written by a command shown, before the build reads it.
    writes = [i for i, c in enumerate(commands) if "'projects/wine/wine.csv'" in c]
    assert writes and writes[0] < max(i for i, c in enumerate(commands)
                                       if c == "portfolio build"), commands
    # Nothing to fill in but the GitHub remote, which is the reader's own; a name the shell
    # reads as it is (``<you>`` would be a redirection).
    assert [c for c in commands if "YOUR-" in c or "<" in c] == [
        "git remote add origin https://github.com/YOUR-USER/my-portfolio.git"]
    assert {s.path for s in steps if s.path} == {
        "projects/wine/project.yaml", "projects/wine/train.py", "projects/wine/README.md"}


def _translated(command: str, cache: str) -> str:
    """A line of the section as the test runs it: ``pip install`` is uv's, offline, from
    its cache and pinned (what that cache holds). Every other line runs as printed."""
    words = shlex.split(command)
    if words[:2] == ["pip", "install"]:  # into the active environment, as pip would
        return shlex.join([str(UV), "pip", "install", "-q", "--offline", "--cache-dir", cache,
                           "-c", str(REPO / "constraints.txt"), *words[2:]])
    return command


def _github_is(bare: Path, home: Path) -> None:
    """The reader's GitHub repository, as printed, is ``bare`` for git in ``home``: the
    ``git remote add`` line runs as printed and pushes reach the local repository."""
    (remote,) = [c.split()[-1] for c in (s.command for s in readme_steps())
                 if c and c.startswith("git remote add")]
    subprocess.run(["git", "config", "--file", str(home / ".gitconfig"),
                    f"url.{bare}.insteadOf", remote], check=True)


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The section run as one shell script: the new portfolio, its bare origin, the output."""
    base = tmp_path_factory.mktemp("reader")
    home, bare = base / "home", base / "origin.git"
    copy_sources(home / "portfolio")  # the clone step 1 starts from
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    _github_is(bare, home)
    # The reader's python3: the interpreter the tests run with (a pyenv shim would look
    # for its versions in this scratch home).
    tools = base / "bin"
    tools.mkdir()
    (tools / "python3").symlink_to(os.path.realpath(sys.executable))

    script, cache = ["set -euo pipefail"], uv_cache()
    for step in readme_steps():
        if step.command is not None:
            script.append(f"echo '>>> {step.command.replace(chr(39), '')}'")
            script.append(_translated(step.command, cache))
        else:
            assert step.path and "PORTFOLIO_EOF" not in step.text
            script.append(f"cat > {shlex.quote(step.path)} <<'PORTFOLIO_EOF'\n{step.text}"
                          "PORTFOLIO_EOF")
    env = {**clean_env(), **GIT_ENV, "HOME": str(home),
           "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
    env.pop("XDG_CACHE_HOME", None)
    env.pop("XDG_CONFIG_HOME", None)
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=home, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=1800, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "Traceback" not in output, output[-6000:]
    return home / "my-portfolio", bare, output


def page_text(page: Path) -> str:
    raw = page.read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw)))


@pytest.mark.venv
def test_the_cnn_template_trains_and_its_page_shows_a_held_out_score_beside_the_trivial_baseline(
        walked: tuple[Path, Path, str]) -> None:
    root, _, _ = walked
    record = json.loads((root / "results" / "first" / "run.json").read_text())
    assert record["status"] == "ok" and not record["smoke"]
    text = page_text(root / "site" / "projects" / "first" / "index.html")
    headline = re.search(r"([\d.]+)% accuracy on held-out data: \+([\d.]+) pts over "
                         r"Always predicts class \d", text)
    assert headline, text[:3000]
    trivial = re.search(r"Always predicts class \d \(trivial\) ([\d.]+)%", text)
    assert trivial, text
    assert float(headline.group(1)) > float(trivial.group(1))
    assert "UCI reference, k-nearest neighbours" in text


@pytest.mark.venv
def test_the_csv_project_shows_its_data_card_baseline_and_narrative(
        walked: tuple[Path, Path, str]) -> None:
    root, _, _ = walked
    record = json.loads((root / "results" / "wine" / "run.json").read_text())
    assert record["status"] == "ok"
    assert "wine.csv" in record["inputs"]["files"]  # declared data is an input
    text = page_text(root / "site" / "projects" / "wine" / "index.html")
    assert re.search(r"[\d.]+% accuracy on held-out data", text), text[:3000]
    assert "UCI reference, 1-nearest neighbour" in text
    assert "Aeberhard, S. and Forina, M. (1991)" in text
    assert "I kept a fifth of the wines aside" in text  # the README's Data section
    assert "Can a wine's chemistry name the grapes" in text
    home = page_text(root / "site" / "index.html")
    assert "Wine cultivars from a CSV, with a small network" in home
    assert "Handwritten digits with a small convolutional network" in home


@pytest.mark.venv
def test_main_holds_the_results_and_the_wheel_the_workflow_installs(
        walked: tuple[Path, Path, str]) -> None:
    _, bare, output = walked
    committed = set(subprocess.run(["git", "ls-tree", "-r", "--name-only", "main"], cwd=bare,
                                   capture_output=True, text=True, check=True).stdout.split())
    wheel = ".portfolio/portfolio-0.1.0-py3-none-any.whl"
    assert {"results/first/run.json", "results/wine/run.json", "projects/wine/wine.csv",
            "constraints.txt", ".github/workflows/publish.yml", wheel} <= committed
    assert not any(name.startswith(("site/", ".build/")) for name in committed)
    assert f"the workflow installs portfolio from {wheel}" in output


@pytest.mark.venv
def test_the_workflow_init_wrote_installs_offline_and_builds_the_pushed_portfolio(
        walked: tuple[Path, Path, str], tmp_path: Path) -> None:
    """The job's own lines, none translated but pip's (uv, offline): its install commands
    (the tool from the wheel init put in .portfolio/, since it came from a folder; the
    constraints file as init wrote it) into a fresh venv, then its build command, strict,
    in a clone of main as actions/checkout would make it."""
    _, bare, _ = walked
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", "-b", "main", str(bare), str(checkout)], check=True)
    installs, build = run_workflow(checkout, tmp_path / "venv")
    assert installs == [["-c", "constraints.txt",
                         ".portfolio/portfolio-0.1.0-py3-none-any.whl"]]
    assert build == ["portfolio", "build", "--no-run", "--require-fresh"]
    probe = subprocess.run([str(tmp_path / "venv" / "bin" / "python"), "-c",
                            "import importlib.util as u; print(bool(u.find_spec('keras')))"],
                           env=clean_env(), capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "False"  # the core only: nothing trains in CI
    built = page_text(checkout / "site" / "projects" / "wine" / "index.html")
    assert "UCI reference, 1-nearest neighbour" in built


@pytest.mark.venv
def test_the_wine_script_names_the_layout_it_expects_when_given_uci_s(tmp_path: Path) -> None:
    """The file UCI serves (the cultivar first, numbered 1 to 3, no header) stops the
    section's script with a message naming the file and the column it looks for, and so
    does a 'target' column that does not hold the three cultivars: run as ``python
    train.py`` would, and through ``portfolio build``, whose failure line and log say it."""
    from sklearn.datasets import load_wine

    (script,) = [s.text for s in readme_steps() if s.path == "projects/wine/train.py"]
    data = load_wine()
    uci = [",".join([str(t + 1), *(f"{v:g}" for v in x)])
           for x, t in zip(data.data, data.target, strict=True)]
    wrong_classes = ["alcohol,target", *(f"{x[0]:g},{i}" for i, x in enumerate(data.data))]
    cases = {"uci": (uci, "wine.csv: no column named 'target' in its first row (1, "),
             "classes": (wrong_classes, "wine.csv: 'target' holds 178 values (0, 1, 2, 3, 4...)")}
    root = copy_portfolio("tiny", tmp_path / "p")
    shutil.rmtree(root / "projects")
    for slug, (rows, _) in cases.items():
        folder = make_project(root, slug, script)
        (folder / "wine.csv").write_text("\n".join(rows) + "\n")
    done = subprocess.run([sys.executable, "train.py"], cwd=root / "projects" / "uci",
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert cases["uci"][1] in done.stderr, done.stderr[-3000:]
    assert "Traceback" not in done.stderr

    built = portfolio_cli("build", "-j", "2", cwd=root, timeout=600)
    assert built.returncode == 1, built.stdout + built.stderr
    stop_line = next(n for n, line in enumerate(script.splitlines(), 1)
                     if "raise SystemExit" in line)
    for slug, (_, expected) in cases.items():
        line = next(x for x in built.stderr.splitlines() if x.startswith(f"{slug}: failed"))
        assert "train.py:" in line and expected in line, line
        log = (root / "results" / slug / "failed" / "log.txt").read_text()
        assert expected in log, log[-3000:]
    assert f"train.py:{stop_line}: wine.csv: no column" in built.stderr, built.stderr
