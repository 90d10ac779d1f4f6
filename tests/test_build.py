"""End to end: ``portfolio build`` on the tiny fixture portfolio, checked in the HTML."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from portfolio import views

from tests.conftest import REPO, Built, portfolio_cli

pytestmark = pytest.mark.slow


def test_build_reports_each_project(built_tiny: Built) -> None:
    err = built_tiny.result.stderr
    assert "tutorial: ok" in err
    assert "no-keras: ok" in err
    assert "failing: failed" in err


def test_home_links_every_project_with_its_headline(built_tiny: Built) -> None:
    home = (built_tiny.site / "index.html").read_text()
    slugs = sorted(p.name for p in (built_tiny.root / "projects").iterdir())
    for slug in slugs:
        assert f'href="projects/{slug}/"' in home
    assert "Test Owner" in home and "Fixture headline" in home
    metrics = json.loads((built_tiny.results("tutorial") / "metrics.json").read_text())
    assert views.fmt("accuracy", metrics["accuracy"]) + " accuracy" in html.unescape(home)


def test_project_page_shows_the_metrics_json_values(built_tiny: Built) -> None:
    page = html.unescape(built_tiny.page("tutorial"))
    metrics = json.loads((built_tiny.results("tutorial") / "metrics.json").read_text())
    assert set(metrics) == {"loss", "accuracy"}
    for name, value in metrics.items():
        assert re.search(rf"<td>{name}</td>\s*<td>{re.escape(views.fmt(name, value))}</td>", page)


def test_learning_curve_and_captured_figure_are_in_the_site(built_tiny: Built) -> None:
    page = built_tiny.page("tutorial")
    images = re.findall(r'<img src="([^"]+)"', page)
    assert "figures/learning-curve.png" in images
    assert "figures/predicted-probabilities.png" in images
    for src in images:
        assert (built_tiny.site / "projects" / "tutorial" / src).is_file()


def test_model_link_downloads_a_loadable_keras_model(built_tiny: Built) -> None:
    page = built_tiny.page("tutorial")
    [href] = re.findall(r'<a class="md-button" href="([^"]+)" download', page)
    model = built_tiny.site / "projects" / "tutorial" / href
    code = ("import sys, keras; m = keras.saving.load_model(sys.argv[1]);"
            "print(m.count_params())")
    result = subprocess.run([sys.executable, "-c", code, str(model)], capture_output=True,
                            text=True, timeout=120, check=True)
    run = json.loads((built_tiny.results("tutorial") / "run.json").read_text())
    assert int(result.stdout.strip().splitlines()[-1]) == run["architecture"]["parameters"]


def test_page_shows_the_command_that_reproduces_it(built_tiny: Built) -> None:
    assert "portfolio build tutorial --force" in built_tiny.page("tutorial")


def test_explicit_api_metrics_and_declared_baseline(built_tiny: Built) -> None:
    page = html.unescape(built_tiny.page("no-keras"))
    assert re.search(r"<td>rmse</td>\s*<td>1.5</td>", page)
    assert "Persistence" in page and "✓ better" in page  # 1.5 rmse beats 2.0
    run = json.loads((built_tiny.results("no-keras") / "run.json").read_text())
    assert run["params"] == {"window": 3}
    assert "bars.svg" in run["outputs"]
    assert "keras imported: False" in (built_tiny.results("no-keras") / "log.txt").read_text()


def test_failed_project_page_shows_the_error_and_log_tail(built_tiny: Built) -> None:
    page = html.unescape(built_tiny.page("failing"))
    assert "RuntimeError: the data file is missing" in page
    assert "loading data" in page  # from the log's tail
    assert (built_tiny.site / "projects" / "failing" / "failed-log.txt").is_file()


def test_build_exit_code_is_1_when_a_project_failed_without_keep_going(tiny: Path) -> None:
    result = portfolio_cli("build", "failing", cwd=tiny)
    assert result.returncode == 1
    assert "failed: failing (failed)" in result.stderr
    assert (tiny / "site" / "projects" / "failing" / "index.html").is_file()


def test_generated_markdown_stays_out_of_tracked_folders(built_tiny: Built) -> None:
    generated = list((built_tiny.root).rglob("*.md"))
    assert generated and all(".build" in p.parts for p in generated)


def test_the_parent_process_never_imports_tensorflow(built_tiny: Built) -> None:
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('HEAVY', sorted(m for m in sys.modules if m in "
        "('tensorflow', 'keras', 'matplotlib'))))\n"
        "sys.argv = ['portfolio', 'build', '--force', 'tutorial']\n"
        "from portfolio.cli import main\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=built_tiny.root, text=True,
                            capture_output=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "tutorial: ok" in result.stderr  # it really trained, in a child
    assert "HEAVY []" in result.stdout


def test_the_example_portfolio_validates() -> None:
    result = portfolio_cli("check", cwd=REPO)
    assert result.returncode == 0, result.stderr
    slugs = sorted(p.parent.name for p in (REPO / "projects").glob("*/project.yaml"))
    assert f"{len(slugs)} project(s) OK: {', '.join(slugs)}" in result.stdout
