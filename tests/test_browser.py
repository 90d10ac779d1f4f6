"""The example site in a real browser: Debian's chromium driven by Playwright.

The site is built from the repository's own projects/ and results/ (nothing trains:
``--no-run``) into a temporary folder and served on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, example_portfolio, served

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SLUGS = sorted(p.parent.name for p in (REPO / "projects").glob("*/project.yaml"))


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example_portfolio(tmp_path_factory.mktemp("example") / "portfolio")


@pytest.fixture(scope="module")
def base_url(example_site: Path) -> Iterator[str]:
    with served(example_site / "site") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install "
                    "chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


def nav_pages(example_site: Path) -> list[str]:
    pages = ["/", "/results/"] + [f"/projects/{slug}/" for slug in SLUGS]
    if (example_site / "site" / "tags" / "index.html").is_file():
        pages.append("/tags/")
    return pages


def open_page(browser, url: str, width: int = 1280):
    page = browser.new_page(viewport={"width": width, "height": 900}, accept_downloads=True)
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
    page.set_default_timeout(20_000)
    response = page.goto(url, wait_until="networkidle")
    assert response is not None and response.ok, url
    return page, errors, outside


@pytest.mark.browser
def test_every_nav_page_loads_without_console_errors_or_outside_requests(
        browser, base_url: str, example_site: Path) -> None:
    for path in nav_pages(example_site):
        page, errors, outside = open_page(browser, base_url + path)
        assert errors == [], (path, errors)
        assert outside == [], (path, outside)  # no fonts, scripts or images from elsewhere
        page.close()


@pytest.mark.browser
def test_every_image_loads(browser, base_url: str, example_site: Path) -> None:
    for path in nav_pages(example_site):
        page, _, _ = open_page(browser, base_url + path)
        # Lazy images below the fold load only when asked: ask, then wait for each to settle.
        broken = page.evaluate("""async () => {
            const images = [...document.images];
            images.forEach(i => { i.loading = "eager"; });
            await Promise.all(images.map(i => i.complete ? null :
                new Promise(done => { i.onload = i.onerror = done; })));
            return images.filter(i => !i.naturalWidth).map(i => i.src);
        }""")
        assert broken == [], (path, broken)
        page.close()


@pytest.mark.browser
@pytest.mark.parametrize("slug", SLUGS)
def test_case_study_shows_the_results_numbers(browser, base_url: str, slug: str) -> None:
    from portfolio import views

    page, _, _ = open_page(browser, f"{base_url}/projects/{slug}/")
    text = page.inner_text("article")
    metrics = json.loads((REPO / "results" / slug / "metrics.json").read_text())
    for name, value in metrics.items():
        assert views.fmt(name, value) in text, name
    headings = page.eval_on_selector_all("article h2", "hs => hs.map(h => h.textContent.trim())")
    for step in ("Problem", "Data", "Results", "Limitations", "Reproduce"):
        assert any(h.startswith(step) for h in headings), (step, headings)
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("slug", SLUGS)
def test_model_link_downloads_the_model(browser, base_url: str, slug: str) -> None:
    page, _, _ = open_page(browser, f"{base_url}/projects/{slug}/")
    with page.expect_download() as caught:
        page.click("a.md-button[download]")
    download = caught.value
    saved = download.path()
    expected = REPO / "results" / slug / "model.keras"
    assert download.suggested_filename == "model.keras"
    assert Path(saved).read_bytes() == expected.read_bytes()
    page.close()


@pytest.mark.browser
def test_palette_toggle_switches_between_light_and_dark(browser, base_url: str) -> None:
    page, _, _ = open_page(browser, base_url + "/")
    scheme = "() => document.body.getAttribute('data-md-color-scheme')"
    before = page.evaluate(scheme)
    page.click("label.md-header__button[for^='__palette']:visible")
    after = page.evaluate(scheme)
    assert {before, after} == {"default", "slate"}
    page.close()


@pytest.mark.browser
def test_no_horizontal_overflow_at_phone_width(browser, base_url: str, example_site: Path) -> None:
    for path in nav_pages(example_site):
        page, _, _ = open_page(browser, base_url + path, width=375)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (path, overflow)
        page.close()


@pytest.mark.browser
def test_the_results_table_fits_a_phone_without_sideways_scrolling(
        browser, base_url: str) -> None:
    page, _, _ = open_page(browser, base_url + "/results/", width=375)
    widths = page.evaluate("""() => {
        const wrap = document.querySelector('.pf-table-wrap');
        const cell = document.querySelector('table.pf-sortable td[data-label="Score"]');
        return [wrap.scrollWidth - wrap.clientWidth, getComputedStyle(cell, '::before').content];
    }""")
    assert widths[0] <= 0, widths  # the table is no wider than its place on the page
    assert "Score" in widths[1]  # each value is labelled with its column
    page.close()


@pytest.mark.browser
def test_results_table_sorts_without_any_cdn(browser, base_url: str) -> None:
    page, _, _ = open_page(browser, base_url + "/results/")
    first_column = "() => [...document.querySelectorAll('table.pf-sortable tbody tr')]" \
                   ".map(r => r.cells[0].textContent.trim())"
    page.click("table.pf-sortable th:has-text('Project')")
    ascending = page.evaluate(first_column)
    page.click("table.pf-sortable th:has-text('Project')")
    descending = page.evaluate(first_column)
    assert ascending == sorted(ascending, key=str.lower) and descending == ascending[::-1]
    assert len(ascending) == len(SLUGS)
    page.close()


@pytest.mark.browser
def test_home_has_profile_skills_and_a_card_per_project(browser, base_url: str) -> None:
    page, _, _ = open_page(browser, base_url + "/")
    cards = page.eval_on_selector_all("a.pf-card", "cs => cs.map(c => c.getAttribute('href'))")
    assert cards == [f"projects/{slug}/" for slug in SLUGS]
    assert page.inner_text(".pf-skills")  # derived from the projects, not typed
    assert "GitHub" in page.inner_text(".pf-links")
    page.close()
