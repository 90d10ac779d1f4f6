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

from tests.conftest import FIXTURES, REPO, Built, portfolio_cli


@pytest.mark.training
def test_build_reports_each_project(built_tiny: Built) -> None:
    err = built_tiny.result.stderr
    assert "tutorial: ok" in err
    assert "no-keras: ok" in err
    assert "failing: failed" in err


@pytest.mark.training
def test_home_links_every_project_with_its_headline(built_tiny: Built) -> None:
    home = (built_tiny.site / "index.html").read_text()
    slugs = sorted(p.name for p in (built_tiny.root / "projects").iterdir())
    for slug in slugs:
        assert f'href="projects/{slug}/"' in home
    assert "Test Owner" in home and "Fixture headline" in home
    metrics = json.loads((built_tiny.results("tutorial") / "metrics.json").read_text())
    assert views.fmt("accuracy", metrics["accuracy"]) + " accuracy" in html.unescape(home)


@pytest.mark.training
def test_project_page_shows_the_metrics_json_values(built_tiny: Built) -> None:
    page = html.unescape(built_tiny.page("tutorial"))
    metrics = json.loads((built_tiny.results("tutorial") / "metrics.json").read_text())
    # evaluate's loss is named by the compiled loss, binary_crossentropy (issue 24)
    assert set(metrics) == {"binary_crossentropy", "accuracy"}
    for name, value in metrics.items():
        assert re.search(rf"<td>{name}</td>\s*<td>{re.escape(views.fmt(name, value))}</td>", page)


@pytest.mark.training
def test_learning_curve_and_captured_figure_are_in_the_site(built_tiny: Built) -> None:
    page = built_tiny.page("tutorial")
    images = re.findall(r'<img src="([^"]+)"', page)
    assert "figures/learning-curve.png" in images
    assert "figures/predicted-probabilities.png" in images
    for src in images:
        assert (built_tiny.site / "projects" / "tutorial" / src).is_file()


@pytest.mark.training
def test_model_link_downloads_a_loadable_keras_model(built_tiny: Built) -> None:
    page = built_tiny.page("tutorial")
    [href] = re.findall(r'<a class="md-button[^"]*" href="([^"]+)" download', page)
    model = built_tiny.site / "projects" / "tutorial" / href
    code = ("import sys, keras; m = keras.saving.load_model(sys.argv[1]);"
            "print(m.count_params())")
    result = subprocess.run([sys.executable, "-c", code, str(model)], capture_output=True,
                            text=True, timeout=120, check=True)
    run = json.loads((built_tiny.results("tutorial") / "run.json").read_text())
    assert int(result.stdout.strip().splitlines()[-1]) == run["architecture"]["parameters"]


@pytest.mark.training
def test_page_shows_the_command_that_reproduces_it(built_tiny: Built) -> None:
    assert "portfolio build tutorial --force" in built_tiny.page("tutorial")


@pytest.mark.training
def test_explicit_api_metrics_and_declared_baseline(built_tiny: Built) -> None:
    page = html.unescape(built_tiny.page("no-keras"))
    assert re.search(r"<td>rmse</td>\s*<td>1.5</td>", page)
    assert re.search(r"<td>Persistence</td>\s*<td>2</td>\s*<td>-0.5 \(25% lower\), better</td>",
                     page)  # 1.5 rmse beats 2.0, lower being better
    run = json.loads((built_tiny.results("no-keras") / "run.json").read_text())
    assert run["params"] == {"window": 3}
    assert "bars.svg" in run["outputs"]
    assert "keras imported: False" in (built_tiny.results("no-keras") / "log.txt").read_text()


@pytest.mark.training
def test_failed_project_page_shows_the_error_and_log_tail(built_tiny: Built) -> None:
    page = html.unescape(built_tiny.page("failing"))
    assert "RuntimeError: the data file is missing" in page
    assert "loading data" in page  # from the log's tail
    assert (built_tiny.site / "projects" / "failing" / "failed-log.txt").is_file()


@pytest.mark.cli
def test_build_exit_code_is_1_when_a_project_failed_without_keep_going(tiny: Path) -> None:
    result = portfolio_cli("build", "failing", cwd=tiny)
    assert result.returncode == 1
    assert "failed: failing (failed)" in result.stderr
    assert (tiny / "site" / "projects" / "failing" / "index.html").is_file()


@pytest.mark.training
def test_generated_markdown_stays_out_of_tracked_folders(built_tiny: Built) -> None:
    shipped = {p.relative_to(FIXTURES / "tiny") for p in (FIXTURES / "tiny").rglob("*.md")}
    found = {p.relative_to(built_tiny.root) for p in built_tiny.root.rglob("*.md")}
    generated = found - shipped
    assert generated and all(p.parts[0] == ".build" for p in generated)


@pytest.mark.training
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


@pytest.mark.cli
def test_the_example_portfolio_validates() -> None:
    result = portfolio_cli("check", cwd=REPO)
    assert result.returncode == 0, result.stderr
    slugs = sorted(p.parent.name for p in (REPO / "projects").glob("*/project.yaml"))
    assert f"{len(slugs)} project(s) OK: {', '.join(slugs)}" in result.stdout


@pytest.mark.training
def test_profile_avatar_and_cv_are_copied_and_linked(built_tiny: Built) -> None:
    home = (built_tiny.site / "index.html").read_text()
    assert 'src="assets/avatar.png"' in home and 'href="assets/cv.pdf"' in home
    for name in ("avatar.png", "cv.pdf"):
        source = built_tiny.root / "profile" / name
        assert (built_tiny.site / "assets" / name).read_bytes() == source.read_bytes()


@pytest.mark.training
def test_readme_sections_land_under_the_matching_steps(built_tiny: Built) -> None:
    page = built_tiny.page("no-keras")
    headings = re.findall(r"<h2 id=\"[^\"]*\">([^<]+)", page)
    assert headings.index("Data") < headings.index("Results") < headings.index("Limitations")
    data = page.split('<h2 id="data"')[1].split("<h2")[0]
    assert "Ninety-six <em>random</em> points" in data  # the owner's HTML is kept
    assert re.search(r"<h3 id=\"[^\"]+\">Where they come from</h3>", data)
    assert "An introduction paragraph" in page.split('<h2 id="data"')[0]
    assert "Acknowledgements" in headings  # a section matching no step keeps its heading
    assert "Made-up data." in page.split('<h2 id="limitations"')[1]


@pytest.mark.training
def test_sections_with_nothing_captured_are_left_out(built_tiny: Built) -> None:
    page = built_tiny.page("no-keras")
    for absent in ("evaluate-algorithms", "improve-results"):
        assert f'id="{absent}"' not in page
    assert 'id="results"' in page and 'id="reproduce"' in page


@pytest.mark.training
def test_model_index_sidecar_holds_the_test_metrics(built_tiny: Built) -> None:
    import yaml

    sidecar = yaml.safe_load(
        (built_tiny.site / "projects" / "tutorial" / "model-index.yaml").read_text())
    [entry] = sidecar["model-index"]
    metrics = json.loads((built_tiny.results("tutorial") / "metrics.json").read_text())
    assert entry["name"] == "tutorial"
    assert {m["type"]: m["value"] for m in entry["results"][0]["metrics"]} == metrics


@pytest.mark.training
def test_results_page_lists_every_project_with_score_and_baselines(built_tiny: Built) -> None:
    page = html.unescape((built_tiny.site / "results" / "index.html").read_text())
    rows = re.findall(r"<tr>\s*<td data-label=\"Project\"><a href=\"../projects/([^/]+)/\">",
                      page)
    assert sorted(rows) == sorted(p.name for p in (built_tiny.root / "projects").iterdir())
    assert re.search(r'<td data-label="Reference" data-value="2.0">2 \(Persistence\)</td>', page)
    assert "<script" not in page.split("</article>")[0].split("<article")[1]
    assert 'src="https://' not in page and "cdn" not in page.lower()


@pytest.mark.cli
def test_a_failure_after_success_keeps_the_results_with_a_dated_notice(tiny: Path) -> None:
    script = tiny / "projects" / "no-keras" / "main.py"
    assert portfolio_cli("build", "no-keras", cwd=tiny).returncode == 0
    good_day = json.loads((tiny / "results" / "no-keras" / "run.json").read_text())["started"]
    script.write_text("raise MemoryError('out of memory in the test')\n")
    assert portfolio_cli("build", "no-keras", "--keep-going", cwd=tiny).returncode == 0
    page = html.unescape((tiny / "site" / "projects" / "no-keras" / "index.html").read_text())
    failed = json.loads((tiny / "results" / "no-keras" / "failed" / "run.json").read_text())
    assert f"The latest run failed on {failed['started'][:10]}" in page
    assert "MemoryError: out of memory in the test" in page
    assert f"last successful run, on {good_day[:10]}" in page
    assert re.search(r"<td>rmse</td>\s*<td>1.5</td>", page)  # the good results still shown
    home = html.unescape((tiny / "site" / "index.html").read_text())
    assert f"Latest run failed on {failed['started'][:10]}" in home
