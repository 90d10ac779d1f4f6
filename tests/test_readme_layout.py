"""README.md's layout section names every module of the generator, and only those."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "generator" / "portfolio"


def layout_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text.split("## The layout", 1)[1].split("\n## ", 1)[0]


def test_every_module_of_the_generator_is_in_the_readme_layout() -> None:
    section = layout_section()
    modules = {p.name for p in PACKAGE.glob("*.py") if not p.name.startswith("__")}
    missing = sorted(m for m in modules if not re.search(rf"\b{re.escape(m)}\b", section))
    assert not missing, f"README.md's layout section does not name {missing}"
    assert "capture/" in section


def test_every_module_the_readme_layout_names_exists() -> None:
    named = set(re.findall(r"\b([a-z_]+\.(?:py|yml))\b", layout_section()))
    named -= {"train.py", "mkdocs.yml", "project.yml"}
    gone = sorted(n for n in named if not (PACKAGE / n).is_file())
    assert not gone, f"README.md's layout section names files that do not exist: {gone}"


def test_no_advice_opens_the_built_site_from_disk() -> None:
    """Over file:// a project card leads to a folder listing and the demo cannot fetch its
    model: the README and `make portfolio` point to `portfolio serve` instead."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    for name, text in (("README.md", readme), ("Makefile", makefile)):
        advice = re.findall(r"[Oo]pen `?site/[\w/.-]*index\.html", text)
        assert not advice, f"{name} says {advice}"
    assert "portfolio serve" in makefile.split("\nportfolio:", 1)[1].split("\n\n", 1)[0]
