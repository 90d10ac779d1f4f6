"""The README's "Your first project", run as a new user would: every command and every file
of that section, in order, with the tool installed from a wheel into a fresh venv outside
the repository, in a home folder of its own. Then the GitHub Actions workflow that
``portfolio init`` wrote: its install lines run offline into another fresh venv, and its
build command in a clone of what was pushed.

Three things are translated, since nothing here may reach the network: the install line
(the wheel built from these sources, with the extras the line names, from uv's cache), the
GitHub remote (a local bare repository) and, in the workflow, where the tool comes from
(the same wheel). The one file a reader brings, ``~/Downloads/wine.csv``, is written from
scikit-learn's copy of the wine data.
"""

from __future__ import annotations

import html
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from tests.conftest import REPO, UV, clean_env

pytestmark = pytest.mark.slow

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


def test_the_section_holds_the_whole_story() -> None:
    steps = readme_steps()
    commands = [s.command for s in steps if s.command]
    assert commands[0].startswith("pipx install ")
    for expected in ("portfolio init my-portfolio", "portfolio new first --template cnn",
                     "portfolio build", "git push -u origin main", "portfolio publish"):
        assert expected in commands, expected
    assert {s.path for s in steps if s.path} == {
        "projects/wine/project.yaml", "projects/wine/train.py", "projects/wine/README.md"}


def _extras(spec: str) -> str:
    match = re.match(r"portfolio(\[[a-z,]+\])?", spec)
    assert match, spec
    return match.group(1) or ""


def _venv_with(wheel: Path, folder: Path, extras: str) -> Path:
    """``python -m venv`` (pip and, on 3.11, setuptools, as a user's venv has: TensorFlow
    requires setuptools, which uv's cache may not hold) and the wheel, offline."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=120)
    done = subprocess.run([str(UV), "pip", "install", "-q", "--offline", "--python",
                           str(folder / "bin" / "python"), "-c",
                           str(REPO / "constraints.txt"), f"{wheel}{extras}"],
                          env=clean_env(), capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr
    return folder


@pytest.fixture(scope="module")
def walked(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The section run as one shell script: the new portfolio, its bare origin, the output."""
    base = tmp_path_factory.mktemp("reader")
    home, bare = base / "home", base / "origin.git"
    (home / "Downloads").mkdir(parents=True)
    _write_wine_csv(home / "Downloads" / "wine.csv")
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)

    steps = readme_steps()
    install = shlex.split(steps[0].command or "")
    assert install[:2] == ["pipx", "install"], steps[0]
    tool = _venv_with(wheel, base / "tool-venv", _extras(install[2]))
    bin_dir = home / ".local" / "bin"  # where pipx puts the command, and nothing else
    bin_dir.mkdir(parents=True)
    (bin_dir / "portfolio").symlink_to(tool / "bin" / "portfolio")

    script = ["set -euo pipefail"]
    for step in steps[1:]:
        if step.command is not None:
            words = shlex.split(step.command)
            if words[:3] == ["git", "remote", "add"]:
                words[-1] = str(bare)  # https://github.com/<you>/... here
            script.append(f"echo '>>> {step.command.replace(chr(39), '')}'")
            script.append(shlex.join(words) if words != shlex.split(step.command)
                          else step.command)
        else:
            assert step.path and "PORTFOLIO_EOF" not in step.text
            script.append(f"cat > {shlex.quote(step.path)} <<'PORTFOLIO_EOF'\n{step.text}"
                          "PORTFOLIO_EOF")
    env = {**clean_env(), **GIT_ENV, "HOME": str(home),
           "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("XDG_CACHE_HOME", None)
    env.pop("XDG_CONFIG_HOME", None)
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=home, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "Traceback" not in output, output[-6000:]
    return home / "my-portfolio", bare, output


def _write_wine_csv(path: Path) -> None:
    from sklearn.datasets import load_wine

    data = load_wine()
    rows = [",".join([*data.feature_names, "cultivar"])]
    rows += [",".join([*(f"{v:g}" for v in x), str(t)])
             for x, t in zip(data.data, data.target, strict=True)]
    path.write_text("\n".join(rows) + "\n")


def page_text(page: Path) -> str:
    raw = page.read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw)))


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


def test_publish_pushed_the_built_site_and_main_holds_the_results(
        walked: tuple[Path, Path, str]) -> None:
    _, bare, output = walked
    assert "pushed site/ to origin gh-pages" in output

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=bare, capture_output=True, text=True,
                              check=True).stdout

    pushed = set(git("ls-tree", "-r", "--name-only", "gh-pages").split())
    assert {"index.html", "projects/first/index.html", "projects/wine/index.html",
            ".nojekyll"} <= pushed
    committed = set(git("ls-tree", "-r", "--name-only", "main").split())
    assert {"results/first/run.json", "results/wine/run.json", "projects/wine/wine.csv",
            "constraints.txt", ".github/workflows/publish.yml"} <= committed
    assert not any(name.startswith(("site/", ".build/")) for name in committed)


def test_the_workflow_init_wrote_installs_offline_and_builds_the_pushed_portfolio(
        walked: tuple[Path, Path, str], wheel: Path, tmp_path: Path) -> None:
    """The job's own lines: its install commands (where the tool comes from translated to
    the wheel; the constraints file as init wrote it) into a fresh venv, then its build
    command, strict, in a clone of main as actions/checkout would make it."""
    _, bare, _ = walked
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", "-b", "main", str(bare), str(checkout)], check=True)
    workflow = yaml.safe_load((checkout / ".github" / "workflows" / "publish.yml").read_text())
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {**clean_env(), "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    builds = []
    for step in workflow["jobs"]["build"]["steps"]:
        for line in step.get("run", "").splitlines():
            words = shlex.split(line)
            if words[:4] == ["python", "-m", "pip", "install"]:
                args = [str(wheel) if w.startswith("portfolio @ ") else w for w in words[4:]]
                assert str(wheel) in args and args[:2] == ["-c", "constraints.txt"], line
                done = subprocess.run([str(UV), "pip", "install", "-q", "--offline",
                                       "--python", str(venv / "bin" / "python"), *args],
                                      cwd=checkout, env=env, capture_output=True, text=True,
                                      timeout=600, check=False)
                assert done.returncode == 0, done.stderr
            elif words and words[0] == "portfolio":
                builds.append(words)
            elif words:
                pytest.fail(f"a workflow step this test cannot run offline: {line!r}")
    assert builds == [["portfolio", "build", "--no-run", "--require-fresh"]]
    probe = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import importlib.util as u; print(bool(u.find_spec('keras')))"],
                           env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "False"  # the core only: nothing trains in CI
    result = subprocess.run(builds[0], cwd=checkout, env=env, capture_output=True, text=True,
                            timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    built = page_text(checkout / "site" / "projects" / "wine" / "index.html")
    assert "UCI reference, 1-nearest neighbour" in built
