"""Issue 25, the site's inputs: no README or notebook cell can rewrite the theme, every
file the engine reads is a site input, nothing outside the repository is published, and
odd text (a NUL in a title, a README saved with a BOM) gets an honest page."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tests.conftest import FIXTURES, REPO, portfolio_cli, served

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ENGINES = ["mkdocs", pytest.param("zensical", marks=pytest.mark.skipif(
    importlib.util.find_spec("zensical") is None, reason="Zensical is not installed"))]

# Material's configuration, as the theme reads it from #__config, pointing at another host:
# the version selector would fetch that host's versions.json and insert its titles.
TAKEOVER = json.dumps({"base": "http://evil.invalid/site/", "features": [],
                       "search": "assets/javascripts/workers/search.js", "translations": {},
                       "version": {"provider": "mike"}})
HOSTILE_README = f"""# Story

Jump to [the method](#the-method) or to [my note](#note).

<details><summary>More</summary>
<div id="__config" class="md-header">{TAKEOVER}</div>
</details>

## The method

Gradient boosting on <span id="note">seven</span> features.
"""
HOSTILE_CELL = (f'## Data\n\n<div id="__search" class="md-search">junk</div>\n\n'
                f'<script id="__config" type="application/json">{TAKEOVER}</script>\n\n'
                '<p id="__config">{"base": "http://evil.invalid/"}</p>\n')


def hostile_portfolio(root: Path) -> Path:
    """Two projects, built from no results (nothing trains): one with a hostile README,
    one a notebook with a hostile Markdown cell."""
    root.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "tiny" / "mkdocs.yml", root / "mkdocs.yml")
    with (root / "mkdocs.yml").open("a") as config:
        config.write("markdown_extensions:\n  - attr_list\n  - md_in_html\n  - toc:\n"
                     "      permalink: true\n")
    shutil.copytree(FIXTURES / "tiny" / "profile", root / "profile")
    shutil.copytree(REPO / "site_templates", root / "site_templates")
    story = root / "projects" / "story"
    story.mkdir(parents=True)
    (story / "project.yaml").write_text("title: Story\nscript: main.py\n")
    (story / "main.py").write_text("print('never run')\n")
    (story / "README.md").write_text(HOSTILE_README)
    cells = root / "projects" / "cells"
    cells.mkdir()
    (cells / "project.yaml").write_text("title: Cells\n")
    nbformat.write(new_notebook(cells=[new_markdown_cell(HOSTILE_CELL),
                                       new_code_cell("print(1)")]), cells / "train.ipynb")
    return root


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


def search(page, engine: str, words: str):
    """Type ``words`` into the theme's search; the links to the pages it finds."""
    if engine == "zensical":  # its search is a dialog in a shadow root (CSS pierces it)
        page.locator(".md-search__button").click()
    else:
        page.keyboard.press("s")
    page.keyboard.type(words)
    results = "[role=listbox]" if engine == "zensical" else ".md-search-result__list"
    return page.locator(f"{results} a[href$='/projects/{words}/']")


@pytest.mark.browser
@pytest.mark.parametrize("engine", ENGINES)
def test_a_hostile_readme_or_notebook_cell_cannot_take_over_the_theme(
        tmp_path: Path, browser, engine: str) -> None:
    root = hostile_portfolio(tmp_path / "portfolio")
    result = portfolio_cli("build", "--no-run", "--engine", engine, cwd=root)
    assert result.returncode == 0, result.stderr
    with served(root / "site") as base:
        for slug in ("story", "cells"):
            page = browser.new_page()
            outside: list[str] = []
            page.on("request", lambda r, seen=outside: seen.append(r.url) if not r.url
                    .startswith(("http://127.0.0.1", "data:", "blob:")) else None)
            page.set_default_timeout(20_000)
            page.goto(f"{base}/projects/{slug}/", wait_until="networkidle")
            assert outside == [], (slug, outside)  # nothing from the README's host
            assert page.locator("[id='__config']").count() == 1  # the theme's own
            # The theme's search still works: typing finds the other project's page.
            other = "story" if slug == "cells" else "cells"
            search(page, engine, other).first.wait_for(state="attached")
            assert outside == [], (slug, outside)
            if slug == "story":  # its links reach its own heading and its own id
                page.goto(f"{base}/projects/{slug}/", wait_until="networkidle")
                page.get_by_role("link", name="the method", exact=True).click()
                assert page.evaluate("location.hash") == "#the-method"
                assert page.locator("#the-method").inner_text().startswith("The method")
                page.get_by_role("link", name="my note", exact=True).click()
                assert page.evaluate("location.hash") == "#user-content-note"
                assert page.locator("#user-content-note").inner_text() == "seven"
            page.close()


def test_ids_and_classes_a_readme_writes_are_namespaced_and_its_markdown_is_not() -> None:
    from portfolio import narrative, render

    story = narrative.Narrative(intro=(
        "See [the setup](#setup), [a span](#mine) and [the results](#results).\n\n"
        '<p id="mine" class="md-typeset wide">raw</p>\n\n'
        "## Setup\n\n## Tuned {: #__drawer .md-header }\n\n## __config\n\n"
        '!!! note "Aside"\n    An admonition.\n\n```python\nx = 1\n```\n'))
    config = {"markdown_extensions": ["admonition", "attr_list"]}
    html = str(render.readme(story, config).intro)
    assert '<h2 id="setup">' in html and 'href="#setup"' in html  # toc's own id stays
    assert '<p id="user-content-mine" class="user-content-md-typeset user-content-wide">' \
        in html and 'href="#user-content-mine"' in html
    assert 'href="#results"' in html  # the page's own step heading, not the README's
    assert '<h2 class="user-content-md-header" id="user-content-__drawer">' in html
    assert '<h2 id="user-content-__config">' in html  # a heading named like the theme's
    assert '<div class="admonition note">' in html and 'class="language-python"' in html


# -- every file the engine reads is a site input; nothing from outside is published ---------
def small_portfolio(root: Path) -> Path:
    """The tiny portfolio's profile and one project that never runs (``--no-run``)."""
    root.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "tiny" / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(FIXTURES / "tiny" / "profile", root / "profile")
    shutil.copytree(REPO / "site_templates", root / "site_templates")
    project = root / "projects" / "plain"
    project.mkdir(parents=True)
    (project / "project.yaml").write_text("title: Plain\nscript: main.py\n")
    (project / "main.py").write_text("print('never run')\n")
    return root


@pytest.mark.cli
def test_an_edit_to_a_config_that_mkdocs_yml_inherits_rebuilds_the_site(tmp_path: Path) -> None:
    root = small_portfolio(tmp_path / "portfolio")
    (root / "shared").mkdir()
    (root / "shared" / "base.yml").write_text("copyright: First footer\n")
    (root / "mkdocs.yml").write_text("INHERIT: shared/base.yml\n"
                                     + (root / "mkdocs.yml").read_text())
    assert portfolio_cli("build", "--no-run", cwd=root).returncode == 0
    assert "First footer" in (root / "site" / "index.html").read_text()
    (root / "shared" / "base.yml").write_text("copyright: Second footer\n")
    result = portfolio_cli("build", "--no-run", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "Second footer" in (root / "site" / "index.html").read_text()


SECRET = "private-key-material-7c1e"


@pytest.mark.cli
@pytest.mark.parametrize("link", ["site_templates/overrides/assets/notes.txt",
                                  "site_templates/assets/portfolio.css",
                                  "projects/plain/README.md"])
def test_a_link_to_a_file_outside_the_repository_is_refused_not_published(
        tmp_path: Path, link: str) -> None:
    root = small_portfolio(tmp_path / "portfolio")
    (tmp_path / "secret.txt").write_text(f"{SECRET}\n")
    path = root / link
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    path.symlink_to(tmp_path / "secret.txt")
    result = portfolio_cli("build", "--no-run", cwd=root)
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    assert link in line and "outside the repository" in line, line
    published = [p for p in (root / "site").rglob("*") if p.is_file()] \
        if (root / "site").is_dir() else []
    assert not [p for p in published if SECRET.encode() in p.read_bytes()]


# -- odd text -----------------------------------------------------------------------------
@pytest.mark.cli
def test_a_nul_in_a_title_reaches_no_page_raw(tmp_path: Path) -> None:
    root = small_portfolio(tmp_path / "portfolio")
    (root / "projects" / "plain" / "project.yaml").write_text(
        'title: "Null\\0island"\nsummary: "Zero\\0summary"\nscript: main.py\n')
    result = portfolio_cli("build", "--no-run", cwd=root)
    assert result.returncode == 0, result.stderr
    pages = [p for p in (root / "site").rglob("*.html")]
    assert len(pages) >= 3  # the home, the results and the project's page
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "\0" not in html, page
        assert "Null\ufffdisland" in html, page  # as a browser shows a NUL: in every nav
    project = (root / "site" / "projects" / "plain" / "index.html").read_text()
    assert "<title>Null\ufffdisland" in project and 'content="Zero\ufffdsummary"' in project


def test_a_readme_saved_with_a_byte_order_mark_keeps_its_title_a_title(
        tmp_path: Path) -> None:
    from portfolio import narrative

    folder = tmp_path / "projects" / "bom"
    folder.mkdir(parents=True)
    (folder / "README.md").write_bytes(
        "\ufeff# Sonar\n\nRocks or mines.\n\n## Data\n\nSixty readings.\n".encode())
    story = narrative.read(folder)
    assert story.intro == "Rocks or mines."  # the title dropped, as without the mark
    assert story.steps["data"] == "Sixty readings."
