"""Hardening: interrupted swaps and site builds, commands sharing the build lock, paths from
run.json kept inside their folder, git-ignored files kept off the site, README HTML
sanitised, matplotlibrc in warm runs, scripts that write into other projects' results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, RUNNERS, make_project, portfolio_cli, served

# A swap in a child process, where each rename (or the one exchange) is followed by a
# Ctrl-C sent to itself: the interruption lands at a known point, every time.
_INTERRUPTED_SWAP = """
import os, signal, sys
from pathlib import Path
from portfolio import swap

root = Path(sys.argv[1])
rename, exchange = Path.rename, swap._exchange

def rename_then_ctrl_c(self, target):
    moved = rename(self, target)
    os.kill(os.getpid(), signal.SIGINT)
    return moved

def exchange_then_ctrl_c(source, target):
    if sys.argv[2] == "two renames":
        return False
    done = exchange(source, target)
    os.kill(os.getpid(), signal.SIGINT)
    return done

Path.rename, swap._exchange = rename_then_ctrl_c, exchange_then_ctrl_c
try:
    swap.replace(root / ".run-new", root / "slug")
except KeyboardInterrupt:
    print("interrupted")
Path.rename = rename
swap.finish(root)  # what the next build does first
"""


@pytest.mark.cli
@pytest.mark.parametrize("way", ["exchange", "two renames"])
def test_ctrl_c_during_the_swap_of_results_keeps_the_old_or_the_new_whole(
        tmp_path: Path, way: str) -> None:
    (tmp_path / "slug").mkdir()
    (tmp_path / "slug" / "metrics.json").write_text("old")
    (tmp_path / ".run-new").mkdir()
    (tmp_path / ".run-new" / "metrics.json").write_text("new")
    result = subprocess.run([sys.executable, "-c", _INTERRUPTED_SWAP, str(tmp_path), way],
                            capture_output=True, text=True, timeout=60, check=False,
                            env={**os.environ, "PYTHONPATH": str(REPO / "generator")})
    assert result.stdout.strip() == "interrupted", result.stderr
    assert (tmp_path / "slug" / "metrics.json").read_text() == "new"
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name != "slug")
    assert leftovers in ([], [".run-new"]), leftovers  # .run-* folders: removed by the build


def small_portfolio(root: Path, slug: str = "quick") -> Path:
    """The tiny portfolio's mkdocs.yml and profile, the site templates, one quick project."""
    root.mkdir(parents=True)
    for name in ("mkdocs.yml", "profile"):
        source = REPO / "tests" / "fixtures" / "tiny" / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            shutil.copyfile(source, root / name)
    shutil.copytree(REPO / "site_templates", root / "site_templates")
    make_project(root, slug, "import portfolio\nportfolio.log_metric('accuracy', 0.5)\n")
    return root


# ``portfolio build`` in a child whose MkDocs writes half a page, then gets Ctrl-C.
_INTERRUPTED_SITE_BUILD = """
import sys
from pathlib import Path
import mkdocs.commands.build
from portfolio import cli

def half_then_ctrl_c(config, **kwargs):
    Path(config.site_dir).mkdir(parents=True, exist_ok=True)
    (Path(config.site_dir) / "index.html").write_text("<html><body>half a pa")
    raise KeyboardInterrupt

mkdocs.commands.build.build = half_then_ctrl_c
sys.argv = ["portfolio", "build"]
cli.main()
"""


@pytest.mark.cli
def test_ctrl_c_while_the_site_is_written_keeps_the_old_site_and_publish_refuses_a_partial_one(
        tmp_path: Path) -> None:
    from portfolio import publish, site

    root = small_portfolio(tmp_path / "p")
    assert portfolio_cli("build", "--no-warm", cwd=root).returncode == 0
    before = (root / "site" / "index.html").read_text()
    (root / "projects" / "quick" / "project.yaml").write_text("title: Renamed\n")
    result = subprocess.run([sys.executable, "-c", _INTERRUPTED_SITE_BUILD], cwd=root,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 130, result.stderr
    assert (root / "site" / "index.html").read_text() == before
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".site")) == []
    assert site.finished(root / "site", root / ".build")  # the old site, still whole
    # A site that never finished: written in place (as an older version did), by hand...
    shutil.copytree(root / "site", root / "copy")
    shutil.rmtree(root / "site")
    (root / "copy").rename(root / "site")
    with pytest.raises(publish.PublishError, match="not a finished build"):
        publish.publish(root, root / "site", "origin", "gh-pages", "message")


def wait_for(path: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def pages(build_dir: Path) -> dict[str, tuple[int, int]]:
    """Each generated page's identity and last write: any rewrite changes them."""
    return {str(p.relative_to(build_dir)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted((build_dir / "docs").rglob("*")) if p.is_file()}


@pytest.mark.cli
def test_check_during_a_build_leaves_the_build_pages_alone(tmp_path: Path) -> None:
    root = small_portfolio(tmp_path / "p")
    assert portfolio_cli("build", "--no-warm", cwd=root).returncode == 0  # pages to keep
    go, started = root / "go", root / "started"
    make_project(root, "waits", f"import os, time\nopen({str(started)!r}, 'w').close()\n"
                 f"while not os.path.exists({str(go)!r}):\n"
                 "    time.sleep(0.05)\nimport portfolio\nportfolio.log_metric('accuracy', 1)\n")
    build = subprocess.Popen([sys.executable, "-m", "portfolio", "build", "--no-warm"],
                             cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(started)  # the build holds its lock and runs a project
        before = pages(root / ".build")
        checked = portfolio_cli("check", cwd=root)
        assert checked.returncode == 0, checked.stderr
        assert "2 project(s) OK" in checked.stdout
        assert pages(root / ".build") == before
        assert [p.name for p in (root / ".build").iterdir() if p.name.startswith("check")] == []
    finally:
        go.touch()
        _, err = build.communicate(timeout=300)
    assert build.returncode == 0, err
    assert "waits" in (root / "site" / "projects" / "waits" / "index.html").read_text()


def site_files_containing(site: Path, needle: bytes) -> list[str]:
    return [str(p.relative_to(site)) for p in site.rglob("*")
            if p.is_file() and needle in p.read_bytes()]


@pytest.mark.cli
def test_paths_in_a_crafted_run_json_never_copy_a_file_from_outside_its_results(
        tmp_path: Path) -> None:
    root = small_portfolio(tmp_path / "p")
    assert portfolio_cli("build", "--no-warm", cwd=root).returncode == 0
    (root / "secret.txt").write_text("TOPSECRET\n")
    (root / ".gitignore").write_text("secret.txt\n")
    results = root / "results" / "quick"
    (results / "figures").mkdir(exist_ok=True)
    (results / "figures" / "link.png").symlink_to(root / "secret.txt")
    record = json.loads((results / "run.json").read_text())
    record["figures"] = [
        {"path": "../../secret.txt", "caption": "up and out"},
        {"path": str(root / "secret.txt"), "caption": "absolute"},
        {"path": "figures/link.png", "caption": "a symlink out"},
        {"path": "run.json", "full_path": "../../secret.txt", "caption": "full size"}]
    record["model"] = "../../secret.txt"
    (results / "run.json").write_text(json.dumps(record))
    built = portfolio_cli("build", "--no-run", cwd=root)
    assert built.returncode == 0, built.stderr
    assert site_files_containing(root / "site", b"TOPSECRET") == []
    assert (root / "site" / "projects" / "quick" / "run.json").is_file()  # inside: kept


@pytest.mark.cli
@pytest.mark.parametrize("repository", ["git", "no git"])
def test_nothing_git_ignores_reaches_the_site(tmp_path: Path, repository: str) -> None:
    root = small_portfolio(tmp_path / "p")
    (root / "profile" / ".gitignore").write_text("*\n")  # the CV and the avatar
    (root / "projects" / "quick" / ".gitignore").write_text("train.py\n")  # its own rules
    if repository == "git":
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        (root / "profile" / ".gitignore").write_text("cv.pdf\n")
        (root / ".git" / "info" / "exclude").write_text("profile/avatar.png\n")
    built = portfolio_cli("build", "--no-warm", cwd=root)
    assert built.returncode == 0, built.stderr
    site = root / "site"
    assert not (site / "assets" / "cv.pdf").exists()
    assert not (site / "assets" / "avatar.png").exists()
    assert not (site / "projects" / "quick" / "train.py").exists()
    assert not (site / "projects" / "quick" / "script").exists()
    assert not (root / "results" / "quick" / "script").exists()  # committed: kept out too
    assert (site / "projects" / "quick" / "index.html").is_file()


HOSTILE_README = """\
# Quick

Copied from a dataset card <script>pwn(1)</script> with *emphasis*.

## Data

<img src="/missing.png" onerror="pwn(2)">

![chart](/missing.png){: onerror=pwn(3) }

| column | meaning |
|--------|---------|
| x      | a value |

```python
print("code stays code")
```

[a script link](javascript:pwn(4)) and [a real one](https://example.com/).

<details open ontoggle="pwn(5)"><summary>More</summary><mark>kept</mark></details>
"""


@pytest.mark.browser
def test_a_readme_with_script_and_onerror_runs_nothing_in_the_browser(tmp_path: Path) -> None:

    from tests.test_browser import CHROMIUM, FLAGS

    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: `make test` installs it")
    from playwright.sync_api import sync_playwright

    root = small_portfolio(tmp_path / "p")
    with (root / "mkdocs.yml").open("a") as fh:
        fh.write("markdown_extensions:\n  - attr_list\n  - md_in_html\n  - tables\n")
    (root / "projects" / "quick" / "README.md").write_text(HOSTILE_README)
    built = portfolio_cli("build", "--no-warm", cwd=root)
    assert built.returncode == 0, built.stderr
    with served(root / "site") as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.add_init_script("window.__pwned = []; window.pwn = n => window.__pwned.push(n);")
        page.goto(f"{url}/projects/quick/", wait_until="networkidle")
        article = page.inner_text("article")
        assert "Copied from a dataset card" in article and "a value" in article
        assert 'print("code stays code")' in article and "kept" in article
        assert page.query_selector("article table") is not None
        for link in page.query_selector_all("article .pf-readme a"):
            # The hostile links, not the real one: leaving the page (to the network, which
            # tests never touch) would end the page these checks look at.
            if not (link.get_attribute("href") or "").startswith(("http://", "https://")):
                link.click()
        assert page.evaluate("window.__pwned") == [] and dialogs == []
        assert page.evaluate("""() => [...document.querySelectorAll('article *')].flatMap(
            el => [...el.attributes].map(a => a.name)).filter(n => n.startsWith('on'))""") \
            == []
        browser.close()



@pytest.mark.cli
@pytest.mark.parametrize("runner", RUNNERS)
def test_a_projects_matplotlibrc_is_read_in_both_kinds_of_run(tmp_path: Path,
                                                              runner: str) -> None:
    root = small_portfolio(tmp_path / "p")
    folder = make_project(root, "styled", (
        "import matplotlib\nimport matplotlib.pyplot as plt\nimport portfolio\n"
        "portfolio.log_metric('linewidth', matplotlib.rcParams['lines.linewidth'])\n"
        "matplotlib.rcParams['lines.linewidth'] = 1.0\nmatplotlib.rc_file_defaults()\n"
        "portfolio.log_metric('restored', matplotlib.rcParams['lines.linewidth'])\n"
        "portfolio.log_metric('dpi', matplotlib.rcParams['figure.dpi'])\n"))
    (folder / "matplotlibrc").write_text("lines.linewidth: 7.5\nfigure.dpi: 33\n")
    result = portfolio_cli("run", runner, "styled", cwd=root)
    assert result.returncode == 0, result.stderr
    run = json.loads((root / "results" / "styled" / "run.json").read_text())
    assert run["process"]["kind"] == RUNNERS[runner]
    metrics = json.loads((root / "results" / "styled" / "metrics.json").read_text())
    assert metrics == {"linewidth": 7.5, "restored": 7.5, "dpi": 33.0}


@pytest.mark.cli
def test_a_script_that_writes_into_another_projects_results_is_named(tmp_path: Path) -> None:
    root = small_portfolio(tmp_path / "p", "victim")
    assert portfolio_cli("run", "--no-warm", "victim", cwd=root).returncode == 0
    make_project(root, "vandal", (
        "import pathlib, portfolio\nother = pathlib.Path('../../results/victim')\n"
        "(other / 'metrics.json').write_text('{\"accuracy\": 0.0}')\n"
        "(other / 'extra.txt').write_text('mine now')\n"
        "portfolio.log_metric('accuracy', 0.9)\n"))
    result = portfolio_cli("run", "--no-warm", "vandal", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "vandal: warning: the script wrote outside its run folder" in result.stderr
    assert "results/victim/metrics.json" in result.stderr
    record = json.loads((root / "results" / "vandal" / "run.json").read_text())
    assert record["outside_writes"]["changed"] == ["victim/metrics.json"]
    assert record["outside_writes"]["added"] == ["victim/extra.txt"]


@pytest.mark.cli
def test_a_script_that_deletes_results_fails_with_a_message_not_a_traceback(
        tmp_path: Path) -> None:
    root = small_portfolio(tmp_path / "p", "victim")
    assert portfolio_cli("run", "--no-warm", "victim", cwd=root).returncode == 0
    make_project(root, "wrecker", "import shutil\nshutil.rmtree('../../results')\n")
    result = portfolio_cli("run", "--no-warm", "wrecker", cwd=root)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "wrecker: warning: the script deleted results/" in result.stderr
    assert "wrecker: failed" in result.stderr and "deleted its run folder" in result.stderr
    record = json.loads((root / "results" / "wrecker" / "failed" / "run.json").read_text())
    assert record["status"] == "failed" and "deleted its run folder" in record["error"]
    assert record["outside_writes"]["deleted"] == sorted(
        record["outside_writes"]["deleted"]) and record["outside_writes"]["deleted"]
