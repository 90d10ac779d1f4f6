"""Hostile content: nothing from project.yaml, logs or metric names runs in a reader's
browser, no secret of the build reaches the site, no hidden or ignored file is published."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from portfolio import render

HOSTILE = "<script>alert(1)</script>"


def build(root: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "portfolio", "build", "--keep-going"],
                          cwd=root, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})}, check=False)


def site_text(root: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in (root / "site").rglob("*")
                     if p.is_file() and p.suffix in (".html", ".txt", ".json", ".yaml", ".xml"))


@pytest.mark.cli
def test_values_from_every_source_render_as_text(tiny: Path) -> None:
    folder = tiny / "projects" / "no-keras"
    (folder / "project.yaml").write_text(
        f"title: '{HOSTILE}'\n"
        "summary: '[click](javascript:alert(2)) <img src=x onerror=alert(3)>'\n"
        f"tags: ['{HOSTILE}']\nlimitations: ['| broken | table |', '- *not* a list']\n"
        "dataset:\n  name: data\n  url: 'javascript:alert(4)'\nscript: main.py\n")
    (folder / "main.py").write_text(
        "import portfolio\n"
        f"portfolio.log_metric('{HOSTILE}', 1.0)\n"
        "portfolio.note('**bold** <b onclick=alert(5)>x</b>')\n"
        f"raise RuntimeError('{HOSTILE}')\n")
    result = build(tiny)
    assert result.returncode == 0, result.stderr
    home = (tiny / "site" / "index.html").read_text()
    page = (tiny / "site" / "projects" / "no-keras" / "index.html").read_text()
    for html in (home, page, (tiny / "site" / "results" / "index.html").read_text()):
        assert HOSTILE not in html and "<img src=x" not in html
        assert 'href="javascript:' not in html and "onclick=alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text
    assert "javascript:alert(4)" not in page.split('href="')[1:]  # never a link target


@pytest.mark.cli
def test_the_readme_narrative_may_hold_html(tiny: Path) -> None:
    folder = tiny / "projects" / "no-keras"
    (folder / "README.md").write_text("## Data\n\n<mark>owner's own HTML</mark>\n")
    assert build(tiny).returncode == 0
    page = (tiny / "site" / "projects" / "no-keras" / "index.html").read_text()
    assert "<mark>owner's own HTML</mark>" in page


@pytest.mark.cli
def test_no_secret_of_the_build_reaches_results_or_site(tiny: Path) -> None:
    secret = "s3cr3t-value-that-must-not-leak"
    (tiny / "projects" / "no-keras" / "main.py").write_text(
        "import os, portfolio\nprint(dict(os.environ))\n"
        "portfolio.log_param('env', dict(os.environ))\nportfolio.log_metric('rmse', 1)\n")
    # Names no pattern of secret words catches: only an allowlist keeps them out.
    result = build(tiny, {"MY_API_TOKEN": secret, "AWS_SECRET_ACCESS_KEY": secret,
                          "DB_PASSWORD": secret, "KAGGLE_KEY": secret,
                          "DATABASE_URL": f"postgres://u:{secret}@db/x", "SIGNING_KEY": secret})
    assert result.returncode == 0, result.stderr
    results = "\n".join(p.read_text(errors="replace") for p in (tiny / "results").rglob("*")
                        if p.is_file() and p.suffix in (".json", ".txt", ".csv"))
    assert "PATH" in results  # the script did print its environment...
    assert secret not in results and secret not in site_text(tiny)  # ...without the secrets


@pytest.mark.cli
def test_a_variable_named_under_env_reaches_the_script_and_no_other(tiny: Path) -> None:
    (tiny / "projects" / "no-keras" / "main.py").write_text(
        "import os, portfolio\n"
        "print('wanted', os.environ.get('DATA_HOME'), 'other', os.environ.get('OTHER_HOME'))\n"
        "portfolio.log_metric('rmse', 1)\n")
    meta = tiny / "projects" / "no-keras" / "project.yaml"
    meta.write_text(meta.read_text() + "env: [DATA_HOME]\n")
    result = build(tiny, {"DATA_HOME": "/data/here", "OTHER_HOME": "/not/passed"})
    assert result.returncode == 0, result.stderr
    log = (tiny / "results" / "no-keras" / "log.txt").read_text()
    assert "wanted /data/here other None" in log


@pytest.mark.cli
def test_hidden_and_ignored_files_are_never_published(tiny: Path) -> None:
    (tiny / ".gitignore").write_text("private/\n")
    (tiny / "private").mkdir()
    (tiny / "private" / "cv.pdf").write_bytes(b"%PDF private")
    (tiny / ".avatar.png").write_bytes((tiny / "profile" / "avatar.png").read_bytes())
    config = (tiny / "mkdocs.yml").read_text()
    config = config.replace("avatar: profile/avatar.png", "avatar: .avatar.png")
    (tiny / "mkdocs.yml").write_text(config.replace("cv: profile/cv.pdf", "cv: private/cv.pdf"))
    (tiny / "projects" / "no-keras" / ".env").write_text("TOKEN=abc\n")
    assert build(tiny).returncode == 0
    published = [p.relative_to(tiny / "site") for p in (tiny / "site").rglob("*")]
    assert not any(part.startswith(".") for p in published for part in p.parts)
    assert not any(p.name in ("cv.pdf", ".avatar.png", ".env") for p in published)
    home = (tiny / "site" / "index.html").read_text()
    assert "private/cv.pdf" not in home and ".avatar.png" not in home


def test_text_escaping_is_inert_in_markdown_and_html() -> None:
    escaped = str(render.text("[x](javascript:y) *a* | b <i> 1. - # `c`"))
    bare = re.sub(r"&#\d+;", "", escaped)
    for char in "[]()*|<>`#:":
        assert char not in bare
    assert str(render.text("- item")).startswith("&#45;")
    assert str(render.url("javascript:alert(1)")) == "&#35;"
    assert str(render.url("https://example.com/a_b")) == "https&#58;//example.com/a&#95;b"


@pytest.mark.cli
def test_run_json_never_records_the_environment(tiny: Path) -> None:
    marker = "plain-env-value-9f3a"  # not secret-looking: it reaches the script, not run.json
    result = build(tiny, {"PORTFOLIO_TEST_PLAIN": marker})
    assert result.returncode == 0, result.stderr
    for slug in ("tutorial", "no-keras"):
        assert marker not in (tiny / "results" / slug / "run.json").read_text()
