"""Hostile values that slipped past the escaping: attribute lists and script links in a
script's notes, URLs with characters browsers drop, credentials in a remote's URL. The
built pages are checked in Debian's chromium: nothing runs, with or without a click."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from portfolio import publish, render

from tests.conftest import copy_portfolio, portfolio_cli, served
from tests.test_browser import CHROMIUM, FLAGS
from tests.test_publish import git, repo  # noqa: F401 - a fixture, used by name

# Each calls pwn(n): the page records n, so a test can say which one ran.
NOTE = """\
A note with **bold** and a [link](https://example.com/a_b).

![chart](/missing.png){: onerror=pwn(1) }

Focus here
{: autofocus onfocus=pwn(2) tabindex=0 }

[click me](javascript:pwn(3))
"""
HIDDEN_SCHEMES = ["java\nscript:pwn(4)", "\x01javascript:pwn(5)", "java\tscript:pwn(6)",
                  " javascript:pwn(7)", "JaVaScRiPt:pwn(8)", "java\rscript:pwn(9)",
                  "data:text/html,<script>pwn(10)</script>", "\x00javascript:pwn(11)"]


class Tags(HTMLParser):
    """Every start tag's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes.extend(attrs)


def attributes(html: str) -> list[tuple[str, str | None]]:
    parser = Tags()
    parser.feed(html)
    return parser.attributes


@pytest.mark.parametrize("hostile", HIDDEN_SCHEMES)
def test_a_scheme_hidden_behind_characters_browsers_drop_is_a_dead_link(hostile: str) -> None:
    assert render.safe_url(hostile) == "#"
    assert str(render.url(hostile)) == "&#35;"


@pytest.mark.parametrize(("value", "followed"), [
    ("https://example.com/a b?q=1#x", "https://example.com/a b?q=1#x"),
    (" https://example.com/\n", "https://example.com/"),
    ("http://exa\tmple.com/", "http://example.com/"),
    ("mailto:ada@example.com", "mailto:ada@example.com"),
    ("assets/cv.pdf", "assets/cv.pdf"),
    ("../projects/x/", "../projects/x/"),
    ("//example.com/x", "//example.com/x"),
])
def test_http_mailto_and_relative_urls_are_kept_as_a_browser_reads_them(
        value: str, followed: str) -> None:
    assert render.safe_url(value) == followed


def test_a_note_renders_its_markdown_but_no_attribute_and_no_script_link() -> None:
    html = str(render.markdown_only(NOTE + "\n<b onclick=pwn(12)>x</b> [x](java\tscript:pwn(13))"))
    assert "<strong>bold</strong>" in html
    assert '<a href="https://example.com/a_b">link</a>' in html
    found = attributes(html)
    assert not [name for name, _ in found if name.startswith("on") or name == "autofocus"]
    assert [value for name, value in found if name == "href"] == [
        "https://example.com/a_b", "#", "#"]
    assert "&lt;b onclick=pwn(12)&gt;" in html  # HTML in a note is shown as text


def test_publish_never_prints_a_remotes_credentials() -> None:
    for remote in ("https://ada:ghp_s3cr3t@github.com/ada/site.git",
                   "https://oauth2:glpat-s3cr3t@gitlab.example.com/ada/site.git",
                   "https://github.com:ghp_s3cr3t@evil.example/ada/site.git"):
        said = f"{publish.redact(remote)} {publish.public_url(remote, Path('/nowhere'))}"
        assert "s3cr3t" not in said, said
    assert publish.public_url("https://ada:ghp_s3cr3t@github.com/ada/site.git",
                              Path("/nowhere")) == "https://ada.github.io/site/"


@pytest.mark.cli
def test_publish_with_credentials_in_the_remote_url_prints_none(repo: tuple[Path, Path],  # noqa: F811
                                                               ) -> None:
    root, bare = repo
    remote = "https://ada:tok-s3cr3t@git.example.invalid/ada/site.git"
    git(root, "remote", "set-url", "origin", remote)
    git(root, "config", f"url.{bare}.pushInsteadOf", remote)  # pushes to the bare repository
    pushed = portfolio_cli("publish", "--no-build", cwd=root)
    assert pushed.returncode == 0, pushed.stderr
    assert "https://***@git.example.invalid/ada/site.git" in pushed.stdout
    git(root, "config", "--unset", f"url.{bare}.pushInsteadOf")
    git(root, "remote", "set-url", "origin", "https://ada:tok-s3cr3t@127.0.0.1:9/site.git")
    refused = subprocess.run([sys.executable, "-m", "portfolio", "publish", "--no-build"],
                             cwd=root, capture_output=True, text=True, timeout=120,
                             env={**os.environ, "GIT_TERMINAL_PROMPT": "0"}, check=False)
    assert refused.returncode == 2 and "git push" in refused.stderr
    for output in (pushed.stdout, pushed.stderr, refused.stdout, refused.stderr):
        assert "s3cr3t" not in output


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The tiny portfolio with a hostile note, dataset URL, model URL and profile links,
    built with attr_list and md_in_html on, as the example site has them; served."""
    root = copy_portfolio("tiny", tmp_path_factory.mktemp("hostile") / "tiny")
    config = (root / "mkdocs.yml").read_text()
    config = config.replace("      github: https://github.com/tester",
                            '      github: "java\\nscript:pwn(14)"\n'
                            '      website: "\\x01javascript:pwn(15)"\n'
                            '      linkedin: " javascript:pwn(16)"')
    (root / "mkdocs.yml").write_text(config + "markdown_extensions:\n  - attr_list\n"
                                     "  - md_in_html\n  - tables\n  - admonition\n")
    folder = root / "projects" / "no-keras"
    (folder / "project.yaml").write_text(
        "title: Hostile\nscript: main.py\npublish_model: false\n"
        'model_url: "\\x01javascript:pwn(17)"\n'
        'dataset:\n  name: data\n  url: "java\\nscript:pwn(18)"\n')
    (folder / "main.py").write_text(f"import portfolio\nportfolio.note({NOTE!r})\n"
                                    "portfolio.log_metric('rmse', 1.0)\n")
    result = portfolio_cli("build", "--keep-going", "no-keras", cwd=root)
    assert result.returncode == 0, result.stderr
    with served(root / "site") as url:
        yield url


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/projects/no-keras/", "/"])
def test_nothing_hostile_runs_in_the_browser_with_or_without_a_click(
        hostile_site: str, path: str) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: `make test` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.add_init_script("window.__pwned = []; window.pwn = n => window.__pwned.push(n);")
        page.goto(hostile_site + path, wait_until="networkidle")
        if path != "/":
            assert page.inner_text("article").count("A note with bold") == 1
        # Without a click: handlers from attribute lists (an image's onerror, autofocus).
        assert page.evaluate("window.__pwned") == [] and dialogs == []
        assert page.evaluate("""() => [...document.querySelectorAll('article *')].flatMap(
            el => [...el.attributes].map(a => a.name)).filter(
            name => name.startsWith('on') || name === 'autofocus')""") == []
        # With a click: what each link would run is its scheme, as the browser parsed it.
        schemes = page.evaluate("""() => [...document.querySelectorAll('a[href]')]
            .map(a => a.protocol)""")
        assert schemes and set(schemes) <= {"http:", "https:", "mailto:"}, schemes
        for link in page.query_selector_all("article a[href='#']"):
            link.click()
        assert page.evaluate("window.__pwned") == [] and dialogs == []
        browser.close()
