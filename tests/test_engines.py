"""A second site engine: the example site built with Zensical has every project page
MkDocs builds, with the same headline and the same figures."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import REPO, example_portfolio, portfolio_cli

pytest.importorskip("zensical")


def headline(page: Path) -> str:
    """The page's headline score, as text: 'Test accuracy 97.37% on held-out data…'."""
    found = re.search(r'<p class="pf-score">(.*?)</p>', page.read_text(), re.S)
    return re.sub(r"<[^>]+>", "", found[1]).strip() if found else ""


def figures(page: Path) -> list[str]:
    return sorted(set(re.findall(r'<img[^>]+src="((?:figures|demo)/[^"]+)"', page.read_text())))


@pytest.mark.cli
def test_the_example_site_with_both_engines(tmp_path: Path) -> None:
    root = example_portfolio(tmp_path / "repo")  # built with MkDocs, the default
    mkdocs_site = tmp_path / "mkdocs-site"
    shutil.copytree(root / "site", mkdocs_site)

    result = portfolio_cli("build", "--no-run", "--engine", "zensical", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "site built" in result.stdout
    slugs = sorted(p.name for p in (REPO / "projects").iterdir() if p.is_dir())
    assert slugs
    for slug in slugs:
        ours, theirs = (site / "projects" / slug / "index.html"
                        for site in (root / "site", mkdocs_site))
        assert ours.is_file(), slug
        assert ours.read_text() != theirs.read_text()  # another engine's page
        assert headline(ours) == headline(theirs)
        assert "on held-out data" in headline(ours)
        assert figures(ours) == figures(theirs) and figures(ours), slug
        for src in figures(ours):
            assert (ours.parent / src).is_file(), src
    assert (root / "site" / "index.html").is_file()

    # engine: under extra.portfolio picks it without the flag; without either, MkDocs.
    page = root / "site" / "projects" / slugs[0] / "index.html"
    zensical_page = page.read_text()
    yml = root / "mkdocs.yml"
    plain = yml.read_text()
    yml.write_text(plain.replace("  portfolio:\n", "  portfolio:\n    engine: zensical\n", 1))
    assert portfolio_cli("build", "--no-run", cwd=root).returncode == 0
    assert page.read_text() == zensical_page
    yml.write_text(plain)
    back = portfolio_cli("build", "--no-run", cwd=root)
    assert back.returncode == 0, back.stderr
    assert page.read_text() == (mkdocs_site / "projects" / slugs[0] / "index.html").read_text()
